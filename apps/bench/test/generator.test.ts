import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGenerator, startServer, type ServerProcess } from '../src/children.js';
import { LoadError, runLoad } from '../src/generator.js';
import { holdConnections } from '../src/hold.js';

const brokenEcho = fileURLToPath(new URL('./fixtures/broken-echo.mjs', import.meta.url));
const generatorScript = fileURLToPath(new URL('../dist/generator.js', import.meta.url));

let server: ServerProcess | undefined;

async function startBroken(mode: string, line = 100): Promise<ServerProcess> {
  server = await startServer({ name: `broken echo (${mode})`, command: [process.execPath, brokenEcho, mode, String(line)] });
  return server;
}

const brief = { warmupMs: 100, durationMs: 300, stallTimeoutMs: 1500 };

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('load generator', () => {
  it('passes a correct echo and verifies every line it counts', async () => {
    const { port, pid } = await startBroken('ok');
    const result = await runLoad({ port, connections: 3, depth: 8, serverPid: pid, ...brief });
    expect(result.lines).toBeGreaterThan(0);
    expect(result.verifiedLines).toBeGreaterThanOrEqual(result.lines);
    expect(result.latency.count).toBe(result.lines);
    expect(result.latency.p50).toBeGreaterThan(0);
    expect(result.latency.p999).toBeGreaterThanOrEqual(result.latency.p50);
    expect(result.generatorCores).toBeGreaterThan(0);
    expect(result.serverCores).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['drop', /reply line 99 differs/],
    ['corrupt', /reply line 99 differs at byte 10/],
    ['duplicate', /reply line 100 differs/],
    ['close', /(closed|failed).* with \d+ of \d+ lines unanswered/],
    ['silent', /no reply for 1500 ms with \d+ lines in flight/],
  ])('fails the run when the server gets line 100 wrong: %s', async (mode, message) => {
    const { port } = await startBroken(mode, 100);
    const run = runLoad({ port, connections: 2, depth: 16, ...brief, durationMs: 3000 });
    await expect(run).rejects.toBeInstanceOf(LoadError);
    await expect(run).rejects.toThrow(message);
  });

  it('notices a wrong line even at one line in flight (ping-pong)', async () => {
    const { port } = await startBroken('corrupt', 5);
    await expect(runLoad({ port, connections: 1, depth: 1, ...brief })).rejects.toThrow(/reply line 4 differs/);
  });

  it('holds connections, each proven by one verified echo, and releases them', async () => {
    const { port } = await startBroken('ok');
    const held = await holdConnections({ port, count: 50, echoFirst: 50 });
    expect(held.sockets.filter((socket) => !socket.destroyed)).toHaveLength(50);
    await held.release();
    expect(held.sockets.every((socket) => socket.destroyed)).toBe(true);
  });

  it('refuses a wrong echo while holding', async () => {
    const { port } = await startBroken('corrupt', 1);
    await expect(holdConnections({ port, count: 3, echoFirst: 3 })).rejects.toThrow(/wrong echo/);
  });

  describe('as its own process (dist/generator.js: turbo builds before it tests)', () => {
    beforeAll(() => {
      if (!existsSync(generatorScript)) throw new Error('dist/generator.js is missing: pnpm --filter @comm/bench build');
    });

    it('exits 1 with the reason as JSON when a line is lost', async () => {
      const { port } = await startBroken('drop', 50);
      const generator = startGenerator(generatorScript, [
        '--port',
        String(port),
        '-c',
        '2',
        '-d',
        '16',
        '--warmup',
        '50',
        '--duration',
        '2000',
      ]);
      await expect(generator.finished()).rejects.toThrow(/reply line 49 differs/);
    });

    it('prints its result as JSON and exits 0 on a correct echo', async () => {
      const { port } = await startBroken('ok');
      const generator = startGenerator(generatorScript, [
        '--port',
        String(port),
        '-c',
        '2',
        '-d',
        '4',
        '--warmup',
        '50',
        '--duration',
        '200',
      ]);
      const result = await generator.finished();
      expect(result.event).toBe('result');
      expect(result.linesPerSecond).toBeGreaterThan(0);
    });
  });
});

describe('server children', () => {
  it('say in one line why a server did not start', async () => {
    await expect(
      startServer({ name: 'crashing', command: [process.execPath, '-e', 'throw new TypeError("no handler here")'] }),
    ).rejects.toThrow(/crashing: exited \(1\) before listening\. TypeError: no handler here/);
  });

  it('run with the raised open-file limit', async () => {
    server = await startServer({
      name: 'limit',
      command: ['sh', '-c', 'echo "{\\"port\\":1,\\"nofile\\":$(ulimit -n)}"; exec sleep 30'],
    });
    expect(Number(server.info.nofile)).toBeGreaterThanOrEqual(4096);
  });
});
