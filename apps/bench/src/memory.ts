// The memory group of `pnpm bench`: resident memory per held connection, server by server.
import { setTimeout as sleep } from 'node:timers/promises';
import { startGenerator, startServer } from './children.js';
import type { ResultRow } from './report.js';
import type { MemoryScenario } from './scenarios.js';

/** The first line of an error's message, bounded, for a table cell. */
export function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** How a memory scenario is run: the run's settings, from the runner. */
export interface MemoryRun {
  quick: boolean;
  generatorScript: string;
  progress(text: string): void;
}

/**
 * The memory group: each server holds `scenario.connections` connections (after one verified
 * echo each, or only the first for the sequential server's waiting clients); the resident
 * memory before and after, per connection.
 */
export async function runMemoryScenario(
  scenario: MemoryScenario,
  { quick, generatorScript, progress }: MemoryRun,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const choice of scenario.servers) {
    const base = { group: scenario.group, subject: choice.subject };
    if (!('command' in choice)) {
      rows.push({ ...base, status: 'skipped', reason: choice.skipped });
      continue;
    }
    progress(`${scenario.group} | ${choice.subject}`);
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      server = await startServer(choice.command);
      await sleep(quick ? 200 : 1000);
      const rssBefore = server.rss();
      const filesBefore = server.openFiles();
      // A waiting client cannot echo: only the first, the one being served, proves the server works.
      const count = scenario.connections + (choice.echo === 'first' ? 1 : 0);
      const generator = startGenerator(generatorScript, [
        '--port',
        String(server.port),
        '--hold',
        String(count),
        '--echo-first',
        String(choice.echo === 'first' ? 1 : count),
        '--deadline',
        '180000',
      ]);
      try {
        const held = await generator.nextEvent();
        if (held.event !== 'held') throw new Error(held.message ?? `generator said ${held.event}`);
        const accepted = server;
        await waitUntil(() => accepted.openFiles() >= filesBefore + count, 60_000, `${count} connections accepted`);
        await sleep(quick ? 300 : 2000);
        const rssAfter = server.rss();
        generator.tell('release');
        await generator.finished();
        const perConnection = (rssAfter - rssBefore) / count / 1024;
        rows.push({
          ...base,
          status: 'ok',
          value: perConnection,
          unit: 'KiB',
          details: {
            'rss before': `${(rssBefore / 2 ** 20).toFixed(1)} MiB`,
            after: `${(rssAfter / 2 ** 20).toFixed(1)} MiB`,
            connections: String(count),
          },
          data: { rssBefore, rssAfter, connections: count },
        });
      } finally {
        generator.kill();
      }
    } catch (error) {
      rows.push({ ...base, status: 'failed', reason: errorText(error) });
    } finally {
      await server?.stop();
    }
  }
  return rows;
}
