/**
 * @comm/server-seq in its own process, started through its public API as a user would:
 * `node dist/servers/comm-seq.js [--max-waiting N]`. Prints `{"port":N,"pid":P}` once listening.
 */
import { parseArgs } from 'node:util';
import { createServer } from '@comm/server-seq';
import { announceListening, exitOnSignal } from './announce.js';

const { values } = parseArgs({ options: { 'max-waiting': { type: 'string' } }, strict: true });
const maxWaiting = values['max-waiting'] === undefined ? undefined : Number(values['max-waiting']);

const server = createServer({
  host: '127.0.0.1',
  port: 0,
  // The memory scenario connects 10,000 clients in bursts; the kernel's queue must hold a burst.
  backlog: 4096,
  ...(maxWaiting !== undefined ? { maxWaiting } : {}),
});
announceListening(await server.listen());
exitOnSignal(() => server.close());
