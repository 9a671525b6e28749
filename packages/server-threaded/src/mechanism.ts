import net, { type AddressInfo } from 'node:net';
import { MessageChannel } from 'node:worker_threads';
import { closeNetServer } from '@comm/server-core';

/**
 * How connections reach the worker threads.
 *
 * - `'transfer'`: the main thread accepts each connection and hands the socket to the
 *   least-loaded worker, which reads, decodes, calls the handler and writes. The chapter's model.
 * - `'reuse-port'`: every worker listens on the same port (`SO_REUSEPORT`) and the kernel
 *   spreads connections among them by a hash of the addresses.
 * - `'main-thread-io'`: the main thread accepts, reads and writes; each read's lines go to the
 *   worker that owns the connection in one message, and their replies come back in one.
 */
export type Mechanism = 'transfer' | 'reuse-port' | 'main-thread-io';

/** Every mechanism, in the order `'auto'` prefers them. */
export const MECHANISMS: readonly Mechanism[] = ['transfer', 'reuse-port', 'main-thread-io'];

/** What this runtime can do, found by trying it, never by reading the version. */
export interface Capabilities {
  /** An accepted, unread `net.Socket` can be posted to another thread. */
  readonly socketTransfer: boolean;
  /** A second listener with `reusePort: true` can bind a port the first one holds. */
  readonly reusePort: boolean;
  /** Milliseconds the probes took, for the README's table and for the curious. */
  readonly probeMilliseconds: number;
}

function listenLoopback(server: net.Server, options: net.ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Accepts one loopback connection with `pauseOnConnect` and posts the socket through a
 * `MessageChannel`, the same serialisation `worker.postMessage(socket, [socket])` uses. Node 20
 * refuses the transfer list, Node builds that support it deliver a working socket at the other
 * port. A structural check cannot tell these apart: every runtime refuses a socket that was
 * never connected, so only a real accepted socket answers the question.
 */
export async function probeSocketTransfer(): Promise<boolean> {
  const server = net.createServer({ pauseOnConnect: true });
  const ignore = (): void => {};
  let client: net.Socket | undefined;
  let accepted: net.Socket | undefined;
  const { port1, port2 } = new MessageChannel();
  try {
    const { port } = await listenLoopback(server, { host: '127.0.0.1', port: 0 });
    const acceptedOnce = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    client = net.connect({ host: '127.0.0.1', port });
    client.on('error', ignore);
    accepted = await acceptedOnce;
    accepted.on('error', ignore);
    const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
    try {
      port1.postMessage(accepted, [accepted as never]);
    } catch {
      return false;
    }
    const socket = await received;
    const works = socket instanceof net.Socket;
    if (works) socket.destroy();
    return works;
  } catch {
    return false;
  } finally {
    port1.close();
    port2.close();
    accepted?.destroy();
    client?.destroy();
    await closeNetServer(server);
  }
}

/**
 * Binds two listeners with `reusePort: true` to one ephemeral loopback port. Where the option is
 * unknown (Node 20) it is ignored and the second bind fails with EADDRINUSE; macOS and Windows
 * refuse it outright.
 */
export async function probeReusePort(): Promise<boolean> {
  const first = net.createServer();
  const second = net.createServer();
  try {
    const { port } = await listenLoopback(first, { host: '127.0.0.1', port: 0, reusePort: true } as net.ListenOptions);
    await listenLoopback(second, { host: '127.0.0.1', port, reusePort: true } as net.ListenOptions);
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all([closeNetServer(first), closeNetServer(second)]);
  }
}

let detected: Promise<Capabilities> | undefined;

/**
 * Finds out, once per process, which mechanisms this runtime supports. Takes a few
 * milliseconds (two loopback listeners and one connection) and is cached after the first call.
 *
 * @example
 * ```ts
 * const { socketTransfer, reusePort } = await detectCapabilities();
 * ```
 */
export function detectCapabilities(): Promise<Capabilities> {
  detected ??= (async () => {
    const started = performance.now();
    const [socketTransfer, reusePort] = await Promise.all([probeSocketTransfer(), probeReusePort()]);
    return { socketTransfer, reusePort, probeMilliseconds: performance.now() - started };
  })();
  return detected;
}

/** True when this runtime can run `mechanism`. */
export function supports(capabilities: Capabilities, mechanism: Mechanism): boolean {
  if (mechanism === 'transfer') return capabilities.socketTransfer;
  if (mechanism === 'reuse-port') return capabilities.reusePort;
  return true;
}

/**
 * The mechanisms this runtime can run, best first; `'main-thread-io'` is always there.
 *
 * @example
 * ```ts
 * await availableMechanisms(); // Node 26 on Linux: ['transfer', 'reuse-port', 'main-thread-io']
 * ```
 */
export async function availableMechanisms(): Promise<Mechanism[]> {
  const capabilities = await detectCapabilities();
  return MECHANISMS.filter((mechanism) => supports(capabilities, mechanism));
}
