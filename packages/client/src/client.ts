import type { Socket } from 'node:net';
import { InvalidOptionError, type CommError } from '@comm/protocol';
import { checkLine, checkMilliseconds } from './checks.js';
import { BYE, Connection } from './connection.js';
import { AbortedError, ClientClosedError, CommTimeoutError } from './errors.js';
import { PendingRequest, PipelineSink } from './reply-slots.js';

/** Lines in flight per pipeline: 1024 lines of 64 bytes keep a loopback pipe full. */
export const DEFAULT_WINDOW = 1024;

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
  private readonly connection: Connection;

  /** @internal Use {@link connect}. */
  constructor(socket: Socket, address: string, options: { timeout: number; closeTimeout: number; maxLineLength: number }) {
    this.address = address;
    this.connection = new Connection(socket, address, options);
  }

  /** Replies owed by the server: lines sent (or about to be) whose reply has not arrived. */
  get pending(): number {
    return this.connection.pending;
  }

  /** True once the connection is closed, or closing after `close()` or a `BYE` line. */
  get closed(): boolean {
    return this.connection.state !== 'open';
  }

  /** The address the socket connected to (after name lookup), e.g. `'::1'`. */
  get remoteAddress(): string | undefined {
    return this.connection.socket.remoteAddress;
  }

  /** The local port of the connection, to find it in `ss` or a server's log. */
  get localPort(): number | undefined {
    return this.connection.socket.localPort;
  }

  /** `'IPv4'` or `'IPv6'`: the family the connection uses. */
  get remoteFamily(): string | undefined {
    return this.connection.socket.remoteFamily;
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
      const connection = this.connection;
      const timeout = checkMilliseconds(options.timeout, 'timeout', connection.timeout);
      connection.checkOpen();
      const signal = options.signal;
      if (signal?.aborted) throw new AbortedError(this.address, { cause: signal.reason });
      if (line === BYE) return connection.sendBye();
      return new Promise<string>((resolve, reject) => {
        const slot = new PendingRequest(this.address, resolve, reject);
        if (timeout > 0) {
          slot.timer = setTimeout(() => slot.fail(new CommTimeoutError('reply', this.address, timeout)), timeout);
        }
        if (signal !== undefined) {
          slot.signal = signal;
          signal.addEventListener('abort', slot.onAbort, { once: true });
        }
        connection.send(line, slot);
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
    const connection = this.connection;
    const timeout = checkMilliseconds(options.timeout, 'timeout', connection.timeout);
    connection.checkOpen();
    const sink = new PipelineSink();
    const signal = options.signal;
    const onAbort = (): void => sink.abort(new AbortedError(this.address, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const stopListening = connection.onClose((error) => sink.fail(error));
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
      connection.checkOpen();
      if (sink.outstanding++ === 0) sink.waitingSince = Date.now();
      sink.inFlight++;
      connection.send(line, sink);
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
          connection.checkOpen();
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
              connection.sendMany(run, sink);
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
      const quietFor = Date.now() - Math.max(connection.lastDataAt, sink.waitingSince);
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
      stopListening();
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
    return this.connection.close();
  }

  /**
   * Closes the connection at once, without `BYE`. Requests still owed reject with
   * `COMM_CLIENT_CLOSED` (or the given error).
   */
  destroy(error?: CommError): void {
    this.connection.lose(error ?? new ClientClosedError(this.address));
  }
}
