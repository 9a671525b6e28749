import type { Socket } from 'node:net';
import { InvalidOptionError, LineDecoder, type CommError, type DecodedItem } from '@comm/protocol';
import { checkLine, checkMilliseconds } from './checks.js';
import { AbortedError, ClientClosedError, CommTimeoutError, ConnectionLostError } from './errors.js';
import { ByeSlot, PendingRequest, PipelineSink, SlotQueue, type ReplySlot } from './reply-slots.js';

/** The line that ends a conversation (R10). */
export const BYE = 'BYE';

/** Lines in flight per pipeline: 1024 lines of 64 bytes keep a loopback pipe full. */
export const DEFAULT_WINDOW = 1024;
/** A batch of outgoing lines is written once it reaches this many UTF-16 units. */
const FLUSH_AT_CHARS = 64 * 1024;

/** Options of one {@link CommClient.request}. */
export interface RequestOptions {
  /** Rejects the request with `COMM_ABORTED`; the reply, when it comes, is dropped. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the reply; overrides the client's `timeout`. 0 for no limit. */
  timeout?: number;
}

/** Options of {@link CommClient.pipeline}. */
export interface PipelineOptions {
  /** The most lines sent whose replies have not been taken yet. Default 1024. */
  window?: number;
  /** Milliseconds without any reply while replies are owed; overrides the client's `timeout`. */
  timeout?: number;
  /** Stops the pipeline with `COMM_ABORTED`. */
  signal?: AbortSignal;
}

type ClientState = 'open' | 'closing' | 'closed';

/**
 * One connection to a comm server. Lines may be sent without waiting (pipelining, R9);
 * the n-th reply answers the n-th line. Make one with {@link connect}.
 *
 * @example
 * ```ts
 * const client = await connect('::1', 2000);
 * const [a, b] = await Promise.all([client.request('one'), client.request('two')]);
 * await client.close();
 * ```
 */
export class CommClient {
  /** The address as errors name it, e.g. `[::1]:2000` or `example.com:2000 (192.0.2.7:2000)`. */
  readonly address: string;
  private readonly socket: Socket;
  private readonly decoder: LineDecoder;
  private readonly slots = new SlotQueue();
  private readonly timeout: number;
  private readonly closeTimeout: number;
  private state: ClientState = 'open';
  private outgoing: string[] = [];
  private outgoingChars = 0;
  private flushScheduled = false;
  private lastDataAt = Date.now();
  /** A line that came when no reply was owed (e.g. `ERR COMM_SERVER_BUSY`), for the error that follows. */
  private unsolicited: string | undefined;
  private closing: Promise<void> | undefined;
  private closedError: CommError | undefined;
  private readonly closeListeners: Array<() => void> = [];
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

  /** @internal Use {@link connect}. */
  constructor(socket: Socket, address: string, options: { timeout: number; closeTimeout: number; maxLineLength: number }) {
    this.socket = socket;
    this.address = address;
    this.timeout = options.timeout;
    this.closeTimeout = options.closeTimeout;
    this.decoder = new LineDecoder({ maxLineLength: options.maxLineLength });
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
          new ConnectionLostError(this.address, `the server closed the connection in the middle of a reply, after ${cut} bytes of it`),
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

  /** True once the connection is closed, or closing after `close()` or a `BYE` line. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /** The address the socket connected to (after name lookup), e.g. `'::1'`. */
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** The local port of the connection, to find it in `ss` or a server's log. */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** `'IPv4'` or `'IPv6'`: the family the connection uses. */
  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }

  /**
   * Sends one line and resolves with its reply. Many requests may be in flight at once;
   * each gets the reply to its own line. A reply that breaks the rules (too long, invalid
   * UTF-8) rejects only its request. The line `BYE` ends the conversation like {@link close}
   * and resolves with the server's `BYE` reply.
   *
   * @throws {LineHasBreakError} (rejects) if the line contains CR or LF.
   * @example
   * ```ts
   * const reply = await client.request('héllo 👋', { timeout: 5000 });
   * ```
   */
  request(line: string, options: RequestOptions = {}): Promise<string> {
    try {
      checkLine(line);
      const timeout = checkMilliseconds(options.timeout, 'timeout', this.timeout);
      if (this.state !== 'open') throw this.closedError ?? new ClientClosedError(this.address);
      const signal = options.signal;
      if (signal?.aborted) throw new AbortedError(this.address, { cause: signal.reason });
      if (line === BYE) return this.sendBye();
      return new Promise<string>((resolve, reject) => {
        const slot = new PendingRequest(this.address, resolve, reject);
        if (timeout > 0) {
          slot.timer = setTimeout(() => slot.fail(new CommTimeoutError('reply', this.address, timeout)), timeout);
        }
        if (signal !== undefined) {
          slot.signal = signal;
          signal.addEventListener('abort', slot.onAbort, { once: true });
        }
        this.send(line, slot);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends every line of `lines` and yields their replies in order, with at most `window`
   * lines in flight (sent, reply not yet taken), so memory stays bounded however long the
   * input is. A line `BYE` ends the conversation as R10 says: the replies before it are
   * yielded, `BYE` gets no reply here, later lines are not read, and the client closes.
   * A reply that breaks the rules (R7, R8) throws in its place; a failure reading `lines`
   * throws once the replies of the lines before it are yielded. Stopping the loop early
   * (break, throw) drops the replies still owed; the client stays usable.
   *
   * @example
   * ```ts
   * for await (const reply of client.pipeline(['a', 'b', 'c'])) console.log(reply);
   * ```
   */
  pipeline(lines: AsyncIterable<string> | Iterable<string>, options: PipelineOptions = {}): AsyncIterableIterator<string> {
    const batches = this.pipelineBatches(lines, options);
    let batch: string[] = [];
    let index = 0;
    let fetching: Promise<IteratorResult<string, undefined>> | undefined;
    // A hand-written iterator over the batches: one resolved promise per reply, where an
    // async generator's yield would cost several turns of the microtask queue.
    const iterator: AsyncIterableIterator<string> = {
      next(): Promise<IteratorResult<string, undefined>> {
        if (index < batch.length) return Promise.resolve({ value: batch[index++] as string, done: false });
        if (fetching !== undefined) return fetching.then(() => iterator.next());
        fetching = batches.next().then((step): IteratorResult<string, undefined> => {
          fetching = undefined;
          if (step.done === true) return { value: undefined, done: true };
          batch = step.value;
          index = 1;
          return { value: batch[0] as string, done: false };
        });
        return fetching;
      },
      async return(): Promise<IteratorResult<string, undefined>> {
        batch = [];
        await batches.return(undefined);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator](): AsyncIterableIterator<string> {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * {@link pipeline} for throughput: yields the replies in arrays, as many as have arrived
   * (in order, never empty), so the loop body runs once per read from the socket instead of
   * once per line. Lines from a synchronous iterable (an array, a generator) are taken
   * without an `await` each.
   *
   * @example
   * ```ts
   * for await (const replies of client.pipelineBatches(lines)) process.stdout.write(replies.join('\n') + '\n');
   * ```
   */
  async *pipelineBatches(
    lines: AsyncIterable<string> | Iterable<string>,
    options: PipelineOptions = {},
  ): AsyncGenerator<string[], void, undefined> {
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new InvalidOptionError(`window must be a whole number of lines >= 1, got ${String(window)}`);
    }
    if (typeof lines === 'string' || lines === null || typeof lines !== 'object') {
      throw new InvalidOptionError('lines must be an iterable of strings, such as an array or a generator');
    }
    const timeout = checkMilliseconds(options.timeout, 'timeout', this.timeout);
    if (this.state !== 'open') throw this.closedError ?? new ClientClosedError(this.address);
    const sink = new PipelineSink();
    const signal = options.signal;
    const onAbort = (): void => sink.abort(new AbortedError(this.address, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const onClose = (): void => sink.fail(this.closedError ?? new ClientClosedError(this.address));
    this.closeListeners.push(onClose);
    let sourceDone = false;
    /** A failure reading `lines` (or a line with a break): thrown once the replies before it are yielded. */
    let sourceError: unknown;
    let byeSeen = false;
    let pumpWaiting: (() => void) | undefined;
    const stopped = (): boolean => sink.abortError !== undefined || sink.error !== undefined || sink.abandoned;
    const roomLater = (): Promise<boolean> =>
      new Promise<void>((resolve) => {
        pumpWaiting = resolve;
      }).then(() => !stopped());
    /** Sends one line of the source; false once the source is done (BYE). */
    const take = (line: string): boolean => {
      if (line === BYE) {
        byeSeen = true;
        return false;
      }
      checkLine(line);
      if (this.state !== 'open') throw this.closedError ?? new ClientClosedError(this.address);
      if (sink.outstanding++ === 0) sink.waitingSince = Date.now();
      sink.inFlight++;
      this.send(line, sink);
      return true;
    };
    const pump = async (): Promise<void> => {
      if (Symbol.asyncIterator in lines) {
        for await (const line of lines) {
          if (stopped() || (sink.inFlight >= window && !(await roomLater())) || !take(line)) return;
        }
        return;
      }
      // A synchronous source fills the room in the window in one go, without an await per line.
      const iterator = lines[Symbol.iterator]();
      try {
        for (;;) {
          if (stopped() || (sink.inFlight >= window && !(await roomLater()))) return;
          if (this.state !== 'open') throw this.closedError ?? new ClientClosedError(this.address);
          const room = window - sink.inFlight;
          const run: string[] = [];
          let ended = false;
          try {
            while (run.length < room) {
              const step = iterator.next();
              if (step.done === true || step.value === BYE) {
                byeSeen = step.done !== true;
                ended = true;
                break;
              }
              checkLine(step.value);
              run.push(step.value);
            }
          } finally {
            // The lines before a bad one still go, and get their replies.
            if (run.length > 0) {
              if (sink.outstanding === 0) sink.waitingSince = Date.now();
              sink.outstanding += run.length;
              sink.inFlight += run.length;
              this.sendMany(run, sink);
            }
          }
          if (ended) return;
        }
      } finally {
        iterator.return?.();
      }
    };

    let timer: NodeJS.Timeout | undefined;
    const checkProgress = (): void => {
      timer = undefined;
      if (stopped()) return;
      const quietFor = Date.now() - Math.max(this.lastDataAt, sink.waitingSince);
      if (sink.outstanding > 0 && quietFor >= timeout) {
        sink.fail(new CommTimeoutError('reply', this.address, timeout));
        return;
      }
      timer = setTimeout(checkProgress, sink.outstanding > 0 ? timeout - quietFor : timeout).unref();
    };
    if (timeout > 0) timer = setTimeout(checkProgress, timeout).unref();

    void pump().then(
      () => {
        sourceDone = true;
        sink.notify();
      },
      (error: unknown) => {
        sourceError = error;
        sourceDone = true;
        sink.notify();
      },
    );

    try {
      for (;;) {
        if (sink.abortError !== undefined) throw sink.abortError;
        if (sink.buffered > 0) {
          const { replies, error } = sink.takeAll();
          if (pumpWaiting !== undefined && sink.inFlight < window) {
            const wake = pumpWaiting;
            pumpWaiting = undefined;
            wake();
          }
          if (replies.length > 0) yield replies;
          if (error !== undefined) throw error;
          continue;
        }
        if (sink.error !== undefined) throw sink.error;
        if (sourceDone && sink.inFlight === 0) {
          if (sourceError !== undefined) throw sourceError;
          break;
        }
        await sink.changed();
      }
      if (byeSeen) await this.close();
    } finally {
      sink.abandoned = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const index = this.closeListeners.indexOf(onClose);
      if (index !== -1) this.closeListeners.splice(index, 1);
      // Not awaited: the pump may be blocked reading a slow source; it stops at its next line.
      pumpWaiting?.();
    }
  }

  /**
   * Ends the conversation as R10 says: sends `BYE`, waits for every reply owed and the
   * `BYE` reply, then closes. Requests already sent get their replies first.
   * If the server does not answer within `closeTimeout`, the connection is destroyed and
   * the promise rejects with `COMM_TIMEOUT`. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'closed') return Promise.resolve();
    void this.sendBye();
    return this.closing ?? Promise.resolve();
  }

  /**
   * Closes the connection at once, without `BYE`. Requests still owed reject with
   * `COMM_CLIENT_CLOSED` (or the given error).
   */
  destroy(error?: CommError): void {
    this.lose(error ?? new ClientClosedError(this.address));
  }

  /** Sends `BYE` and resolves with its reply once the connection has closed (R10). */
  private sendBye(): Promise<string> {
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

  private send(line: string, slot: ReplySlot): void {
    this.slots.push(slot);
    this.outgoing.push(line);
    this.outgoingChars += line.length + 1;
    this.scheduleFlush();
  }

  /** {@link send} for a run of lines that all belong to one slot. */
  private sendMany(lines: string[], slot: ReplySlot): void {
    this.slots.push(slot, lines.length);
    let chars = 0;
    for (let index = 0; index < lines.length; index++) chars += (lines[index] as string).length + 1;
    if (this.outgoing.length === 0) this.outgoing = lines;
    else for (let index = 0; index < lines.length; index++) this.outgoing.push(lines[index] as string);
    this.outgoingChars += chars;
    this.scheduleFlush();
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

  /** The connection is gone: every reply still owed fails with `error`, once. */
  private lose(error: CommError): void {
    if (this.state !== 'closed') {
      // After close() or BYE, later calls hear that the client was closed, not why the socket went.
      this.closedError = this.state === 'closing' ? new ClientClosedError(this.address) : error;
      this.state = 'closed';
    }
    this.outgoing = [];
    if (!this.socket.destroyed) this.socket.destroy();
    for (const slot of this.slots.drain()) slot.fail(error);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

