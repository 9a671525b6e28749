import type { Socket } from 'node:net';
import type { CommError } from '@comm/protocol';
import { checkLine, checkMilliseconds } from './checks.js';
import { BYE, Connection } from './connection.js';
import { AbortedError, ClientClosedError, CommTimeoutError } from './errors.js';
import { flatten, replyBatches, type PipelineOptions } from './pipeline.js';
import { PendingRequest } from './reply-slots.js';

/** Options of one {@link CommClient.request}. */
export interface RequestOptions {
  /** Rejects the request with `COMM_ABORTED`; the reply, when it comes, is dropped. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the reply; overrides the client's `timeout`. 0 for no limit. */
  timeout?: number;
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
    return flatten(this.pipelineBatches(lines, options));
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
  pipelineBatches(
    lines: AsyncIterable<string> | Iterable<string>,
    options: PipelineOptions = {},
  ): AsyncGenerator<string[], void, undefined> {
    return replyBatches(this.connection, lines, options);
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
