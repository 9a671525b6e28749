import type { Writable } from 'node:stream';
import { formatEndpoint } from '@comm/protocol';
import { shutDownOnSignals } from '@comm/server-core/cli';
import type { Command } from './args.js';
import { startSequential, startThreaded, type Announcement } from './servers.js';

const processSignals = { onSignal: (signal: NodeJS.Signals, listener: () => void) => process.on(signal, listener) };

/** What `serve` prints for each thing the server tells. */
function formatAnnouncement(announcement: Announcement): string {
  if (announcement.type === 'served') return `${announcement.message} (${announcement.thread})`;
  return `${formatEndpoint(announcement.remoteAddress, announcement.remotePort)} waits in line (number ${announcement.position})`;
}

/**
 * `comm-demo serve --seq|--threaded`: one server in the foreground, logging each client, until
 * SIGINT or SIGTERM; then a graceful close (R17). A second signal closes at once.
 *
 * @example
 * ```ts
 * const exitCode = await serve({ kind: 'serve', server: 'seq', port: 2000, host: undefined, threads: undefined }, process.stdout);
 * ```
 */
export async function serve(command: Extract<Command, { kind: 'serve' }>, out: Writable): Promise<number> {
  const print = (line: string): boolean => out.write(line + '\n');
  const options = { port: command.port, host: command.host, threads: command.threads };
  const server = command.server === 'seq' ? await startSequential(options) : await startThreaded(options);
  server.onAnnouncement((announcement) => print(formatAnnouncement(announcement)));
  print(server.description);
  print(`Try: nc localhost ${server.address.port}   (Ctrl-C stops the server)`);
  const { done } = shutDownOnSignals(server, processSignals, {
    graceful: (signal) => print(`${signal}: closing; every line received is answered first (a second signal stops at once)`),
    forced: () => print('closing at once'),
    failed: (error) => print(`close failed: ${error.message}`),
  });
  const code = await done;
  print('closed');
  return code;
}
