/**
 * The load generator as its own process, so it never shares an event loop or a core's time slice
 * with the server it measures. The runner starts it; a person can too:
 *
 *   node dist/generator.js --port 2000 --connections 100 --depth 16 --duration 5000
 *   node dist/generator.js --port 2000 --hold 10000 --echo-first 10000   # then type "release"
 *
 * It prints JSON lines on stdout: `{"event":"held",...}` once connections are held, and last
 * `{"event":"result",...}` or `{"event":"error","message":...}`. Exit 1 on any lost or wrong line.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { runLoad } from './generator.js';
import { holdConnections } from './hold.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    connections: { type: 'string', short: 'c', default: '1' },
    depth: { type: 'string', short: 'd', default: '1' },
    'line-bytes': { type: 'string', default: '64' },
    warmup: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '5000' },
    'stall-timeout': { type: 'string', default: '30000' },
    'server-pid': { type: 'string' },
    hold: { type: 'string' },
    'echo-first': { type: 'string', default: '0' },
    deadline: { type: 'string', default: '120000' },
  },
  strict: true,
});

function whole(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`generator: --${name} must be a whole number, got ${String(text)}\n`);
    process.exit(2);
  }
  return value;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function failAndExit(error: unknown): never {
  emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// A generator that outlives its scenario would hold ports and skew the next one: it ends itself.
const deadlineMs = whole('deadline', values.deadline);
setTimeout(() => failAndExit(new Error(`generator deadline of ${deadlineMs} ms passed`)), deadlineMs).unref();

const port = whole('port', values.port);
const host = values.host ?? '127.0.0.1';

async function main(): Promise<void> {
  if (values.hold !== undefined) {
    const held = await holdConnections({
      host,
      port,
      count: whole('hold', values.hold),
      echoFirst: whole('echo-first', values['echo-first']),
    });
    emit({ event: 'held', count: held.sockets.length });
    // Held until the runner says so or goes away (stdin ends).
    const input = createInterface({ input: process.stdin });
    await new Promise<void>((resolve) => {
      input.on('line', (line) => line.trim() === 'release' && resolve());
      input.on('close', resolve);
    });
    input.close();
    await held.release();
    emit({ event: 'result', count: held.sockets.length });
    process.exit(0);
  }
  const serverPid = values['server-pid'] === undefined ? undefined : whole('server-pid', values['server-pid']);
  const result = await runLoad({
    host,
    port,
    connections: whole('connections', values.connections),
    depth: whole('depth', values.depth),
    lineBytes: whole('line-bytes', values['line-bytes']),
    warmupMs: whole('warmup', values.warmup),
    durationMs: whole('duration', values.duration),
    stallTimeoutMs: whole('stall-timeout', values['stall-timeout']),
    ...(serverPid !== undefined ? { serverPid } : {}),
  });
  emit({ event: 'result', ...result });
  process.exit(0);
}

main().catch(failAndExit);
