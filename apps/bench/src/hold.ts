// Connections opened and held (for the memory group), each after one verified echo.
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { LineSource } from './lines.js';
import { LoadError, openConnections, closeAll } from './generator.js';

/** What {@link holdConnections} was asked to do. */
export interface HoldOptions {
  host?: string;
  port: number;
  /** How many connections to open and keep open. */
  count: number;
  /** The first `echoFirst` connections each get one verified echo before the rest are opened. */
  echoFirst: number;
  connectConcurrency?: number;
}

/** Connections held open (for memory measurements) until released. */
export interface HeldConnections {
  readonly sockets: readonly net.Socket[];
  /** Closes every connection and waits for the server to close its side (bounded). */
  release(): Promise<void>;
}

/** Sends one line on each socket and checks that exactly that line comes back. */
async function echoOnce(sockets: readonly net.Socket[], timeoutMs: number): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket, id) =>
        new Promise<void>((resolve, reject) => {
          const line = new LineSource(id, 64).next(1);
          let received = Buffer.alloc(0);
          const timer = setTimeout(() => reject(new LoadError(`connection ${id}: no echo within ${timeoutMs} ms`)), timeoutMs);
          const onData = (chunk: Buffer): void => {
            received = Buffer.concat([received, chunk]);
            if (received.length < line.length && line.subarray(0, received.length).equals(received)) return;
            clearTimeout(timer);
            socket.removeListener('data', onData);
            if (received.equals(line)) resolve();
            else reject(new LoadError(`connection ${id}: wrong echo ${JSON.stringify(received.toString('latin1'))}`));
          };
          socket.on('data', onData);
          socket.write(line);
        }),
    ),
  );
}

/**
 * Opens many connections and keeps them open, for reading a server's memory per connection.
 * The first `echoFirst` connections each prove with one verified echo that they are served.
 *
 * @example
 * ```ts
 * const held = await holdConnections({ port, count: 10_000, echoFirst: 10_000 });
 * // ... read the server's RSS ...
 * await held.release();
 * ```
 */
export async function holdConnections(options: HoldOptions): Promise<HeldConnections> {
  const host = options.host ?? '127.0.0.1';
  const concurrency = options.connectConcurrency ?? 200;
  const echoed = Math.min(options.echoFirst, options.count);
  const first = await openConnections(host, options.port, echoed, concurrency, 10_000);
  const failures: Error[] = [];
  const watch = (socket: net.Socket, id: number): void => {
    socket.on('error', (error) => failures.push(new LoadError(`connection ${id}: ${error.message}`)));
  };
  first.forEach(watch);
  await echoOnce(first, 30_000);
  const rest = await openConnections(host, options.port, options.count - echoed, concurrency, 30_000);
  for (const [index, socket] of rest.entries()) watch(socket, echoed + index);
  const sockets = [...first, ...rest];
  return {
    sockets,
    async release() {
      await closeAll(sockets, 2000);
      if (failures.length > 0) throw failures[0];
    },
  };
}
