import type { Socket } from 'node:net';
import { LineDecoder, type CommError, type DecodedItem } from '@comm/protocol';
import { ClientClosedError, CommTimeoutError, ConnectionLostError } from './errors.js';
import { ByeSlot, SlotQueue, type ReplySlot } from './reply-slots.js';

/** The line that ends a conversation (R10). */
export const BYE = 'BYE';

/** A batch of outgoing lines is written once it reaches this many UTF-16 units. */
const FLUSH_AT_CHARS = 64 * 1024;

/** What a client is made with, checked by `connect()`. */
export interface ConnectionSettings {
  /** The default reply timeout of requests and pipelines; 0 for none. */
  timeout: number;
  closeTimeout: number;
  maxLineLength: number;
}

/**
 * The conversation on one socket, shared by a client's requests and pipelines: lines go out
 * in batches, each reply goes to the slot of its line (R9), `BYE` ends it (R10), and when the
 * socket goes every reply still owed fails. Not exported from the package: its members are
 * public only so that the client and the pipeline can use them.
 */
export class Connection {
  /** The address as errors name it. */
  readonly address: string;
  readonly socket: Socket;
  /** The default reply timeout (milliseconds, 0 for none). */
  readonly timeout: number;
  state: 'open' | 'closing' | 'closed' = 'open';
  /** When bytes last came from the server, for a pipeline's no-progress timeout. */
  lastDataAt = Date.now();
  private readonly closeTimeout: number;
  private readonly decoder: LineDecoder;
  private readonly slots = new SlotQueue();
  private outgoing: string[] = [];
  private outgoingChars = 0;
  private flushScheduled = false;
  /** A line that came when no reply was owed (e.g. `ERR COMM_SERVER_BUSY`), for the error that follows. */
  private unsolicited: string | undefined;
  private closing: Promise<void> | undefined;
  private closedError: CommError | undefined;
  private readonly closeListeners: Array<(error: CommError) => void> = [];
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.socket.destroyed) return;
    const lines = this.outgoing;
    this.outgoing = [];
    this.outgoingChars = 0;
    // Each line was checked for CR and LF when it was queued (to fail the right request),
    // so the batch goes out as one string, without the copy into a Buffer that encodeLines makes.
    this.socket.write(`${lines.join('\n')}\n`);
  };

  constructor(socket: Socket, address: string, settings: ConnectionSettings) {
    this.socket = socket;
    this.address = address;
    this.timeout = settings.timeout;
    this.closeTimeout = settings.closeTimeout;
    this.decoder = new LineDecoder({ maxLineLength: settings.maxLineLength });
    socket.on('data', (chunk: Buffer) => {
      this.lastDataAt = Date.now();
      const items = this.decoder.push(chunk);
      if (items.length > 0) this.deliver(items);
    });
    socket.on('end', () => {
      // Unlike a server (R11), a client does not take bytes without LF as a reply: every
      // reply ends with LF (R2), so they are the front of a reply cut off by the close.
      const cut = this.decoder.pendingBytes;
      if (cut > 0) {
        this.lose(
          new ConnectionLostError(
            this.address,
            `the server closed the connection in the middle of a reply, after ${cut} bytes of it`,
          ),
        );
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.lose(new ConnectionLostError(this.address, error.code ?? error.message, { cause: error }));
    });
    socket.on('close', () => {
      const owed = this.slots.length;
      const said = this.unsolicited === undefined ? '' : `; the server said '${this.unsolicited}'`;
      this.lose(
        new ConnectionLostError(
          this.address,
          `the server closed the connection with ${owed} ${owed === 1 ? 'reply' : 'replies'} owed${said}`,
        ),
      );
    });
  }

  /** Replies owed by the server: lines sent (or about to be) whose reply has not arrived. */
  get pending(): number {
    return this.slots.length;
  }

  /** Throws why no more lines can be sent, once the conversation is closing or closed. */
  checkOpen(): void {
    if (this.state !== 'open') throw this.closedError ?? new ClientClosedError(this.address);
  }

  /**
   * Calls `listener` once, with the error later calls get, when the connection is lost;
   * returns the function that takes the listener back.
   */
  onClose(listener: (error: CommError) => void): () => void {
    this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index !== -1) this.closeListeners.splice(index, 1);
    };
  }

  /** `CommClient.close()`: BYE, once; resolves once closed, also when the server hung up first. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'closed') return Promise.resolve();
    void this.sendBye();
    return this.closing ?? Promise.resolve();
  }

  /** Sends `BYE` and resolves with its reply once the connection has closed (R10). */
  sendBye(): Promise<string> {
    this.state = 'closing';
    const deadline = this.closeTimeout;
    let timer: NodeJS.Timeout | undefined;
    let reply: string | CommError | undefined;
    const done = new Promise<string>((resolve, reject) => {
      if (deadline > 0) {
        timer = setTimeout(() => {
          const error = new CommTimeoutError('close', this.address, deadline);
          this.lose(error);
          reject(error);
        }, deadline);
      }
      this.send(
        BYE,
        new ByeSlot((item) => {
          reply = item;
          // Our FIN after the BYE reply; the server closes its side (R10), and 'close' follows.
          this.socket.end();
        }, reject),
      );
      this.socket.once('close', () => {
        if (typeof reply === 'string') resolve(reply);
        else if (reply !== undefined) reject(reply);
      });
    }).finally(() => clearTimeout(timer));
    this.closing = done.then(
      () => undefined,
      (error: unknown) => {
        // Closed before the BYE reply (the server hung up, or destroy()): closed is what was asked.
        const code = (error as { code?: unknown }).code;
        if (code === 'COMM_CONNECTION_LOST' || code === 'COMM_CLIENT_CLOSED') return undefined;
        throw error;
      },
    );
    // When BYE came through request() or pipeline(), nobody may await close().
    this.closing.catch(() => undefined);
    return done;
  }

  /** Queues a line whose reply goes to `slot`; the caller has checked it (see checkLine). */
  send(line: string, slot: ReplySlot): void {
    this.slots.push(slot);
    this.outgoing.push(line);
    this.outgoingChars += line.length + 1;
    this.scheduleFlush();
  }

  /** {@link send} for a run of lines that all belong to one slot; the array is kept, not copied. */
  sendMany(lines: string[], slot: ReplySlot): void {
    this.slots.push(slot, lines.length);
    let chars = 0;
    for (let index = 0; index < lines.length; index++) chars += (lines[index] as string).length + 1;
    if (this.outgoing.length === 0) this.outgoing = lines;
    else for (let index = 0; index < lines.length; index++) this.outgoing.push(lines[index] as string);
    this.outgoingChars += chars;
    this.scheduleFlush();
  }

  /** The connection is gone: every reply still owed fails with `error`, once. */
  lose(error: CommError): void {
    if (this.state !== 'closed') {
      // After close() or BYE, later calls hear that the client was closed, not why the socket went.
      this.closedError = this.state === 'closing' ? new ClientClosedError(this.address) : error;
      this.state = 'closed';
    }
    this.outgoing = [];
    if (!this.socket.destroyed) this.socket.destroy();
    for (const slot of this.slots.drain()) slot.fail(error);
    const closedError = this.closedError ?? new ClientClosedError(this.address);
    for (const listener of this.closeListeners.splice(0)) listener(closedError);
  }

  private scheduleFlush(): void {
    if (this.outgoingChars >= FLUSH_AT_CHARS) {
      this.flush();
    } else if (!this.flushScheduled) {
      // Lines sent in the same turn of the event loop leave in one write.
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Hands each reply to the slot of its line, in order (R9). */
  private deliver(items: DecodedItem[]): void {
    let index = 0;
    while (index < items.length) {
      const next = this.slots.peek();
      if (next === undefined) {
        const last = items[items.length - 1];
        if (typeof last === 'string') this.unsolicited = last.slice(0, 200);
        return;
      }
      const end = Math.min(items.length, index + next.count);
      this.slots.consume(end - index);
      next.slot.receive(items, index, end, this.address);
      index = end;
    }
  }
}
