/**
 * Temporary stand-ins built on @comm/protocol alone, used until @comm/client and the two
 * servers publish their APIs. They speak the protocol's echo + BYE and nothing more.
 */
import net from 'node:net';
import { LineDecoder, encodeLine, encodeLines } from '@comm/protocol';

/** A loopback echo server: answers each line with itself, `BYE` with `BYE` and then closes. */
export async function startEchoServer(host: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      const replies: string[] = [];
      for (const item of decoder.push(chunk)) {
        const reply = typeof item === 'string' ? item : `ERR ${item.code} ${item.message}`;
        replies.push(reply);
        if (reply === 'BYE') {
          socket.end(encodeLines(replies));
          socket.removeAllListeners('data');
          return;
        }
      }
      if (replies.length > 0) socket.write(encodeLines(replies));
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, resolve);
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A one-request-at-a-time line client whose every step has a deadline. */
export class LineClient {
  private readonly decoder = new LineDecoder();
  private readonly replies: string[] = [];
  private waiter: ((reply: string | Error) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.decoder.push(chunk)) this.deliver(item);
    });
    socket.on('close', () => this.deliver(new Error('connection closed')));
    socket.on('error', (error) => this.deliver(error));
  }

  static connect(host: string, port: number, timeoutMs: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new LineClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(line: string): void {
    this.socket.write(encodeLine(line));
  }

  /** The next reply, or an error after `timeoutMs`. */
  nextReply(timeoutMs: number): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (reply) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (typeof reply === 'string') resolve(reply);
        else reject(reply);
      };
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private deliver(reply: string | Error): void {
    if (this.waiter) this.waiter(reply);
    else if (typeof reply === 'string') this.replies.push(reply);
  }
}
