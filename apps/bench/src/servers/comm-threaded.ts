/**
 * @comm/server-threaded in its own process, started through its public API as a user would:
 * `node dist/servers/comm-threaded.js [--threads N] [--handler PATH] [--mechanism M]`.
 * Prints `{"port":N,"pid":P,"mechanism":...,"threads":N}` once listening, and on SIGTERM its
 * stats (lines per thread) as one more JSON line before it closes.
 */
import { parseArgs } from 'node:util';
import { createServer, type ThreadedServerOptions } from '@comm/server-threaded';
import { announceListening, exitOnSignal } from './announce.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string' },
    handler: { type: 'string' },
    mechanism: { type: 'string' },
  },
  strict: true,
});

const threads = values.threads === undefined ? undefined : Number(values.threads);
const server = createServer({
  host: '127.0.0.1',
  port: 0,
  backlog: 4096,
  ...(threads !== undefined ? { threads } : {}),
  ...(values.handler !== undefined ? { handler: values.handler } : {}),
  ...(values.mechanism !== undefined ? { mechanism: values.mechanism as ThreadedServerOptions['mechanism'] } : {}),
});
const address = await server.listen();
announceListening(address, { mechanism: server.mechanism, threads: threads ?? 'default' });
exitOnSignal(async () => {
  const stats = await server.stats();
  process.stdout.write(`${JSON.stringify({ stats })}\n`);
  await server.close();
});
