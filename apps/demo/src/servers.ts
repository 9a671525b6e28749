import type { AddressInfo } from 'node:net';
import { formatEndpoint } from '@comm/protocol';
import { createServer as createSequentialServer, type ConnectionInfo, type SequentialServer } from '@comm/server-seq';
import { createServer as createThreadedServer, type ThreadedServer } from '@comm/server-threaded';
import { within } from './bounded.js';

type ServerKind = 'seq' | 'threaded';

/** What a server tells about a client, in the scene's terms: the servers' own records, plus a type. */
export type Announcement =
  /** The client's turn has begun (seq) or a thread took it (threaded). */
  | (ConnectionInfo & { type: 'served'; thread: string; message: string })
  /** The client was accepted and waits in line (seq only). */
  | (ConnectionInfo & { type: 'waiting'; position: number });

/** Where and how to start a server. */
export interface StartOptions {
  /** 0 for a free port. */
  port: number;
  /** Default: the server's own (`::`, dual-stack, falling back to `0.0.0.0`). */
  host?: string | undefined;
  /** Worker threads of the threaded server. */
  threads?: number | undefined;
}

/** A server of either kind, started on a free loopback-reachable port. */
export interface DemoServer {
  readonly kind: ServerKind;
  readonly address: AddressInfo;
  /** One line on what the server is: package, address, threads. */
  readonly description: string;
  /** Calls `listener` with each announcement, in the order the server makes them. */
  onAnnouncement(listener: (announcement: Announcement) => void): void;
  /** Graceful close (R17), bounded: a server that does not finish in time is destroyed. */
  close(): Promise<void>;
  /** Closes at once, without answering. */
  destroy(): void;
}

/** The thread a sequential server serves every client on. */
const MAIN_THREAD = 'main';

/** How the threaded server's pool slot is shown: the chapter's ClientThread, by number. */
function threadName(slot: number): string {
  return `thread ${slot}`;
}

const CLOSE_TIMEOUT_MS = 10_000;
const LISTEN_TIMEOUT_MS = 20_000;

/** Where the address is printed from: `[::]:2000` or `0.0.0.0:2000`. */
function formatListenAddress(address: AddressInfo): string {
  return formatEndpoint(address.address, address.port);
}

async function closeBounded(server: SequentialServer | ThreadedServer): Promise<void> {
  try {
    await within(server.close(), CLOSE_TIMEOUT_MS, 'the server to close');
  } catch {
    server.destroy();
  }
}

/**
 * Starts the sequential server (@comm/server-seq), dual-stack unless `host` says otherwise.
 *
 * @example
 * ```ts
 * const server = await startSequential({ port: 0 });
 * server.onAnnouncement((a) => console.log(a.type, a.connectionId));
 * ```
 */
export async function startSequential({ port, host }: StartOptions): Promise<DemoServer> {
  const server = createSequentialServer({ port, host });
  const address = await within(server.listen(), LISTEN_TIMEOUT_MS, 'the sequential server to listen');
  return {
    kind: 'seq',
    address,
    description: `sequential server (@comm/server-seq) on ${formatListenAddress(address)}: one client at a time`,
    onAnnouncement(listener) {
      server.on('connection', (info) => listener({ ...info, type: 'served', thread: MAIN_THREAD }));
      server.on('waiting', (info) => listener({ ...info, type: 'waiting' }));
    },
    close: () => closeBounded(server),
    destroy: () => server.destroy(),
  };
}

/**
 * Starts the threaded server (@comm/server-threaded) with the default echo handler and
 * `threads` worker threads (default: one per core).
 *
 * @example
 * ```ts
 * const server = await startThreaded({ port: 0, threads: 3 });
 * ```
 */
export async function startThreaded({ port, host, threads }: StartOptions): Promise<DemoServer> {
  const server = createThreadedServer({ port, host, threads });
  const address = await within(server.listen(), LISTEN_TIMEOUT_MS, 'the threaded server to listen');
  return {
    kind: 'threaded',
    address,
    description:
      `threaded server (@comm/server-threaded) on ${formatListenAddress(address)}: ` +
      `${server.threads} worker threads, mechanism '${server.mechanism ?? 'unknown'}'`,
    onAnnouncement(listener) {
      server.on('connection', (info) => listener({ ...info, type: 'served', thread: threadName(info.thread) }));
    },
    close: () => closeBounded(server),
    destroy: () => server.destroy(),
  };
}
