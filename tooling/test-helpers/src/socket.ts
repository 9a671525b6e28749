// Loopback helpers for the socket-level tests of the conversation, of the servers built on it
// and of the client.
import net from 'node:net';
import { once } from 'node:events';

/** A test client that records every byte it receives. */
export class TestClient {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private waiters: { count: number; resolve: (lines: string[]) => void }[] = [];
  /** Resolves when the socket has closed; `error` is set for a reset. */
  readonly closed: Promise<{ error: Error | undefined }>;
  private error: Error | undefined;

  constructor(socket: net.Socket, { read = true }: { read?: boolean } = {}) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.wake();
    });
    socket.on('error', (error) => {
      this.error = error;
    });
    // Half-open so a test can send after its own end; closes its side once the server has.
    socket.on('end', () => socket.end());
    if (!read) socket.pause();
    // Not events.once: it rejects when 'error' comes first, and a reset is an outcome here, not a failure.
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.wake();
        resolve({ error: this.error });
      });
    });
  }

  /** Everything received so far, as UTF-8. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The complete lines received so far (an unterminated tail is left out). */
  lines(): string[] {
    const text = this.text();
    const end = text.lastIndexOf('\n');
    return end === -1 ? [] : text.slice(0, end).split('\n');
  }

  /** Resolves once `count` lines have arrived (or the socket closed: then with what there is). */
  waitForLines(count: number): Promise<string[]> {
    const lines = this.lines();
    if (lines.length >= count || this.socket.destroyed) return Promise.resolve(lines);
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  private wake(): void {
    const lines = this.lines();
    this.waiters = this.waiters.filter((waiter) => {
      if (lines.length < waiter.count && !this.socket.destroyed) return true;
      waiter.resolve(lines);
      return false;
    });
  }
}

const openClients = new Set<TestClient>();

/** Connects a {@link TestClient} (tracked for {@link destroyClients}). */
export async function connectClient(
  port: number,
  host = '127.0.0.1',
  options: { read?: boolean; allowHalfOpen?: boolean } = {},
): Promise<TestClient> {
  const socket = net.connect({ port, host, allowHalfOpen: options.allowHalfOpen ?? true });
  await once(socket, 'connect');
  const client = new TestClient(socket, options);
  openClients.add(client);
  void client.closed.then(() => openClients.delete(client));
  return client;
}

/** Sends `payload`, half-closes, and resolves with everything received until the server closed. */
export async function exchange(port: number, payload: string | Buffer, host = '127.0.0.1'): Promise<string> {
  const client = await connectClient(port, host);
  client.socket.end(payload);
  await client.closed;
  return client.text();
}

const trackedClients = new Set<{ destroy(): unknown }>();

/** Registers any other client with a `destroy()` (a `CommClient`, say) for {@link destroyClients}. */
export function track<T extends { destroy(): unknown }>(client: T): T {
  trackedClients.add(client);
  return client;
}

/** For `afterEach`: destroys every client a test left open, the tracked ones too. */
export function destroyClients(): void {
  for (const client of trackedClients) client.destroy();
  trackedClients.clear();
  for (const client of openClients) client.socket.destroy();
  openClients.clear();
}

/** Yields to the event loop a few times, so a server had the chance to read what was sent. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A handler that echoes every line but `slow`, which it holds until `release()`; `started`
 * resolves once it holds one. For tests of what happens while a handler works.
 */
export function gatedHandler(): {
  handler: (line: string) => string | Promise<string>;
  started: Promise<void>;
  release: () => void;
} {
  let release: () => void = () => {};
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const handler = (line: string): string | Promise<string> => {
    if (line !== 'slow') return line;
    markStarted();
    return new Promise<string>((resolve) => (release = () => resolve('SLOW')));
  };
  return { handler, started, release: () => release() };
}
