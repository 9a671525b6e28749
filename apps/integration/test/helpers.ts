import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createServer as createSequentialServer, type SequentialServerOptions } from '@comm/server-seq';
import { createServer as createThreadedServer } from '@comm/server-threaded';
import { destroyClients, killChildren, nodeCli } from '@comm/test-helpers';

/** The installed `@comm/client`'s built `comm`: `runComm(args, input)` runs it to completion. */
const CLIENT_MANIFEST = pathToFileURL(createRequire(import.meta.url).resolve('@comm/client/package.json'));
export const { runToEnd: runComm } = nodeCli(new URL('dist/cli.js', CLIENT_MANIFEST));

export type ServerKind = 'seq' | 'threaded';

/** What the server answers: the echo, upper case, or a failure for the line `boom` (R12). */
type Behaviour = 'echo' | 'upper' | 'fail-on-boom';

/** The behaviours as handler source: a function for the sequential server, a module for the threads. */
const HANDLER_SOURCE: Record<Exclude<Behaviour, 'echo'>, string> = {
  upper: 'return line.toUpperCase();',
  'fail-on-boom': "if (line === 'boom') throw new Error('boom'); return line;",
};

export interface RunningServer {
  kind: ServerKind;
  port: number;
  close(): Promise<void>;
}

export interface ServerSetup {
  behaviour?: Behaviour;
  /** Options both servers share (limits, timeouts), plus `maxWaiting` for the sequential one. */
  options?: Pick<SequentialServerOptions, 'maxLineLength' | 'idleTimeout' | 'maxWaiting' | 'host'>;
}

const servers = new Set<RunningServer>();

/**
 * Starts one of our servers on port 0, dual-stack (`::`) unless told otherwise, through its
 * public API, and registers it for {@link cleanUp}.
 */
export async function startServer(kind: ServerKind, setup: ServerSetup = {}): Promise<RunningServer> {
  const behaviour = setup.behaviour ?? 'echo';
  const options = { host: '::', ...setup.options, port: 0 };
  let running: RunningServer;
  if (kind === 'seq') {
    const handler =
      behaviour === 'echo' ? undefined : (new Function('line', HANDLER_SOURCE[behaviour]) as (line: string) => string);
    const server = createSequentialServer({ ...options, ...(handler ? { handler } : {}) });
    const { port } = await server.listen();
    running = { kind, port, close: () => server.close() };
  } else {
    const { maxWaiting: _notThreaded, ...shared } = options;
    const handler =
      behaviour === 'echo'
        ? undefined
        : `data:text/javascript,${encodeURIComponent(`export function handler(line) { ${HANDLER_SOURCE[behaviour]} }`)}`;
    const server = createThreadedServer({ ...shared, threads: 2, ...(handler ? { handler } : {}) });
    const { port } = await server.listen();
    running = { kind, port, close: () => server.close() };
  }
  servers.add(running);
  return running;
}

/** Destroys the clients, kills the `comm` children and closes the servers a test started. */
export async function cleanUp(): Promise<void> {
  destroyClients();
  await killChildren();
  await Promise.all([...servers].map((server) => server.close()));
  servers.clear();
}
