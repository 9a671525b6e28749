import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InvalidOptionError, LineDecoder, errorReply, type DecodedItem, type InvalidUtf8Policy } from '@comm/protocol';
import { HandlerFailedError, LineTimeoutError } from './errors.js';

/** R13: how long a line may take from its first byte to its LF, by default. */
export const DEFAULT_LINE_TIMEOUT = 30_000;
/** R14: how long a connection may stay silent, by default. */
export const DEFAULT_IDLE_TIMEOUT = 5 * 60_000;
/** R15: how many reply bytes may wait for a client that does not read, by default. */
export const DEFAULT_MAX_PENDING_REPLY_BYTES = 1024 * 1024;
/** How long, after the server's FIN, the peer's last bytes are read and dropped before the socket is destroyed. */
export const DEFAULT_LINGER_TIMEOUT = 2_000;

const LF = 0x0a;
const CR = 0x0d;

/** What a handler learns about the connection it serves. */
export interface ConnectionContext<State = Record<string, unknown>> {
  /** A number unique among the connections of this process (or as the server assigned it). */
  readonly connectionId: number;
  /** The peer's address, an IPv4-mapped `::ffff:a.b.c.d` shown as `a.b.c.d`. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** `'IPv4'` or `'IPv6'`, after the `::ffff:` prefix is taken off. */
  readonly remoteFamily: string;
  /** Anything the handler wants to keep for this connection; an empty object until first set or read. */
  state: State;
}

/**
 * Answers one line. May return the reply or a promise of it. Lines of one connection are
 * handled one at a time, in order: the next call waits for the previous promise to settle.
 * A throw, a rejection, or a reply that is not one line (a non-string, an LF inside, a CR at
 * the end) answers `ERR COMM_HANDLER_FAILED handler failed` in that line's place.
 */
export type LineHandler<State = Record<string, unknown>> = (
  line: string,
  context: ConnectionContext<State>,
) => string | PromiseLike<string>;

/**
 * Answers all the complete lines of one read at once; must return exactly one reply per line,
 * in order. Lines the decoder rejected (too long, invalid UTF-8) and `BYE` are not passed:
 * their replies are put in place locally.
 */
export type BatchAnswerer<State = Record<string, unknown>> = (
  lines: string[],
  context: ConnectionContext<State>,
) => readonly string[] | PromiseLike<readonly string[]>;

/** Why a conversation ended; `Conversation.closeReason` after the socket closed. */
export type CloseReason =
  /** The peer sent its FIN (R11) and every line was answered. */
  | 'end'
  /** The peer sent `BYE` (R10). */
  | 'bye'
  /** `close()` was called (R17). */
  | 'shutdown'
  /** A line did not complete in time (R13). */
  | 'line-timeout'
  /** Nothing happened for `idleTimeout` (R14). */
  | 'idle-timeout'
  /** The `setup` hook failed. */
  | 'setup-failed'
  /** The socket failed (e.g. `ECONNRESET`); `Conversation.error` holds the cause. */
  | 'error'
  /** `destroy()` was called, or the socket was destroyed from outside. */
  | 'destroyed';

/** Options of a conversation: its handler, its limits and its hooks. One object serves every connection. */
export interface ConversationOptions<State = Record<string, unknown>> {
  /** Answers each line. Default: echo (the reply is the line, R9). */
  handler?: LineHandler<State>;
  /** Answers all lines of one read at once, instead of `handler` (used to hand a batch to a worker). */
  answerBatch?: BatchAnswerer<State>;
  /** Called once per connection before its first line is read, e.g. to set `context.state`. */
  setup?: (context: ConnectionContext<State>) => void | PromiseLike<void>;
  /** R7: the most bytes in a line, its ending not counted. Default 65,536. */
  maxLineLength?: number;
  /** R8: `'error'` (default) answers a line with invalid UTF-8 with an error; `'replace'` uses U+FFFD. */
  invalidUtf8?: InvalidUtf8Policy;
  /** R13: milliseconds from a line's first byte to its LF; `0` turns the deadline off. Default 30,000. */
  lineTimeout?: number;
  /** R14: milliseconds without a byte in or a reply byte out before a quiet close; `0` turns it off. Default 300,000. */
  idleTimeout?: number;
  /** R15: unsent reply bytes past which the client is not read from until they drain. Default 1 MiB. */
  maxPendingReplyBytes?: number;
  /** Milliseconds to keep reading (and dropping) the peer's bytes after the server's FIN, so the close is not a reset. Default 2,000. */
  lingerTimeout?: number;
  /** Told about each handler or setup failure (the client only sees `ERR COMM_HANDLER_FAILED ...`). */
  onHandlerError?: (error: HandlerFailedError, context: ConnectionContext<State>) => void;
  /** Called once when the connection's socket has closed. */
  onClose?: (conversation: Conversation<State>) => void;
}

/**
 * Validated conversation options, built once and shared by every connection so that a
 * connection holds one pointer to them. Make one with {@link conversationConfig}.
 */
export interface ConversationConfig<State = Record<string, unknown>> {
  readonly handler: LineHandler<State> | undefined;
  readonly answerBatch: BatchAnswerer<State> | undefined;
  readonly setup: ((context: ConnectionContext<State>) => void | PromiseLike<void>) | undefined;
  readonly maxLineLength: number;
  readonly invalidUtf8: InvalidUtf8Policy;
  readonly lineTimeout: number;
  readonly idleTimeout: number;
  readonly maxPendingReplyBytes: number;
  readonly lingerTimeout: number;
  readonly onHandlerError: ((error: HandlerFailedError, context: ConnectionContext<State>) => void) | undefined;
  readonly onClose: ((conversation: Conversation<State>) => void) | undefined;
  /** How often the shared deadline sweep runs for these timeouts, in ms. */
  readonly sweepInterval: number;
}

const validConfigs = new WeakSet<object>();

function checkMilliseconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(`${name} must be a whole number of milliseconds >= 0 (0 = off), got ${String(value)}`);
  }
  return value;
}

function checkByteCount(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a whole number of bytes >= 1, got ${String(value)}`);
  }
  return value;
}

function checkFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`${name} must be a function, got ${typeof value}`);
  }
  return value;
}

/** A sweep often enough to fire a deadline within a tenth of it, never more often than every 10 ms. */
function sweepIntervalFor(...timeouts: number[]): number {
  const shortest = Math.min(...timeouts.filter((timeout) => timeout > 0));
  return Math.min(1000, Math.max(10, Math.floor(shortest / 10)));
}

/**
 * Validates conversation options once, for every connection that will use them.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a value out of range.
 * @example
 * ```ts
 * const config = conversationConfig({ handler: (line) => line.toUpperCase(), lineTimeout: 10_000 });
 * netServer.on('connection', (socket) => serveConnection(socket, config));
 * ```
 */
export function conversationConfig<State = Record<string, unknown>>(
  options: ConversationOptions<State> | ConversationConfig<State> = {},
): ConversationConfig<State> {
  if (validConfigs.has(options)) return options as ConversationConfig<State>;
  const handler = checkFunction(options.handler, 'handler');
  const answerBatch = checkFunction(options.answerBatch, 'answerBatch');
  if (handler && answerBatch) throw new InvalidOptionError('give handler or answerBatch, not both');
  // The decoder is the one place that checks its own options.
  const probe = new LineDecoder({ maxLineLength: options.maxLineLength, invalidUtf8: options.invalidUtf8 });
  const lineTimeout = checkMilliseconds(options.lineTimeout, DEFAULT_LINE_TIMEOUT, 'lineTimeout');
  const idleTimeout = checkMilliseconds(options.idleTimeout, DEFAULT_IDLE_TIMEOUT, 'idleTimeout');
  const lingerTimeout = checkMilliseconds(options.lingerTimeout, DEFAULT_LINGER_TIMEOUT, 'lingerTimeout');
  const config = {
    handler,
    answerBatch,
    setup: checkFunction(options.setup, 'setup'),
    maxLineLength: probe.maxLineLength,
    invalidUtf8: probe.invalidUtf8,
    lineTimeout,
    idleTimeout,
    maxPendingReplyBytes: checkByteCount(
      options.maxPendingReplyBytes,
      DEFAULT_MAX_PENDING_REPLY_BYTES,
      'maxPendingReplyBytes',
    ),
    lingerTimeout,
    onHandlerError: checkFunction(options.onHandlerError, 'onHandlerError'),
    onClose: checkFunction(options.onClose, 'onClose'),
    sweepInterval: sweepIntervalFor(lineTimeout, idleTimeout, lingerTimeout, 10_000),
  } as ConversationConfig<State>;
  Object.freeze(config);
  validConfigs.add(config);
  return config;
}

const enum Phase {
  /** The `setup` hook runs; nothing is read. */
  Setup,
  /** Lines are read and answered. */
  Open,
  /** The last reply and the FIN are queued; waiting for them to reach the kernel. */
  Ending,
  /** The FIN is out; the peer's remaining bytes are dropped until it closes or the linger ends. */
  Lingering,
  Closed,
}

/** `lineStartedAt` when no line is in progress. */
const NO_LINE = -1;
/** `lineStartedAt` when a line started since the last sweep, which stamps it. */
const LINE_STARTED = -2;

const kConversation = Symbol('comm.conversation');
type TaggedSocket = Socket & { [kConversation]: Conversation<never> };

let lastConnectionId = 0;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A reply must be one line: a string with no LF, and no CR at its end (it would read as CRLF). */
function isOneLine(reply: unknown): reply is string {
  return (
    typeof reply === 'string' &&
    reply.indexOf('\n') === -1 &&
    (reply.length === 0 || reply.charCodeAt(reply.length - 1) !== CR)
  );
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.length > 7 && address.startsWith('::ffff:') && address.includes('.', 7)
    ? address.slice(7)
    : address;
}

/** Who is on the other end of a socket. */
export interface PeerAddress {
  /** Without the `::ffff:` prefix of IPv4-mapped addresses. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** `'IPv4'` for an IPv4-mapped peer of a dual-stack listener, as for a plain IPv4 one. */
  readonly remoteFamily: string;
}

/**
 * The peer of a socket as people expect to read it (R1): `127.0.0.1`, not `::ffff:127.0.0.1`.
 * Empty address and port 0 for a socket that is already gone.
 *
 * @example
 * ```ts
 * remotePeer(socket); // { remoteAddress: '127.0.0.1', remotePort: 51234, remoteFamily: 'IPv4' }
 * ```
 */
export function remotePeer(socket: Socket): PeerAddress {
  const remoteAddress = normalizeAddress(socket.remoteAddress);
  const family = socket.remoteFamily ?? '';
  return {
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
    remoteFamily: family === 'IPv6' && remoteAddress.indexOf(':') === -1 ? 'IPv4' : family,
  };
}

/**
 * The conversation over one connection (R2-R15): reads lines, answers each in order, enforces
 * the limits, and closes cleanly. Create one with {@link serveConnection}. It is also the
 * handler's {@link ConnectionContext}.
 *
 * Built to be small: the decoder is made on the first byte, `state` on first use, no timer or
 * closure belongs to one connection (one shared sweep watches every deadline), and the socket
 * listeners are shared functions.
 */
export class Conversation<State = Record<string, unknown>> implements ConnectionContext<State> {
  readonly socket: Socket;
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  /** Lines received, each counted once it is answered or queued to be (error lines and `BYE` included). */
  linesIn = 0;
  /** Why the conversation ended, once it has; `undefined` while it runs. */
  closeReason: CloseReason | undefined = undefined;
  /** The socket error that ended it, if one did. */
  error: Error | undefined = undefined;

  private readonly config: ConversationConfig<State>;
  /** No handler: the reply is the line (R9's reference behaviour). */
  private readonly echoes: boolean;
  private phase = Phase.Setup;
  private decoder: LineDecoder | undefined = undefined;
  private userState: State | undefined = undefined;
  /** A handler promise or batch is outstanding; reading is paused meanwhile. */
  private busy = false;
  /** Past `maxPendingReplyBytes`; reading is paused until the replies are flushed. */
  private waitingForFlush = false;
  private shutdownRequested = false;
  private peerEnded = false;
  private midLine = false;
  private lineStartedAt = NO_LINE;
  private activitySeen = false;
  private lastActivityAt = 0;
  private lingerUntil = 0;
  /** Unsent reply bytes at the last sweep: less now means the client reads, which is activity. */
  private pendingAtLastSweep = 0;
  private onFlushed: ((error?: Error | null) => void) | undefined = undefined;
  private closeWaiters: ((conversation: Conversation<State>) => void)[] | undefined = undefined;

  /** Use {@link serveConnection}. */
  constructor(socket: Socket, config: ConversationConfig<State>, connectionId: number) {
    this.socket = socket;
    this.config = config;
    this.echoes = config.handler === undefined && config.answerBatch === undefined;
    this.connectionId = connectionId;
    const peer = remotePeer(socket);
    this.remoteAddress = peer.remoteAddress;
    this.remotePort = peer.remotePort;
    this.remoteFamily = peer.remoteFamily;
    this.lastActivityAt = performance.now();

    // Hold the socket until setup is done; a 'data' listener does not resume a paused socket.
    socket.pause();
    // R11: after the peer's FIN the replies to its last lines must still go out.
    socket.allowHalfOpen = true;
    (socket as TaggedSocket)[kConversation] = this.untyped;
    socket.on('data', Conversation.onSocketData);
    socket.on('end', Conversation.onSocketEnd);
    socket.on('error', Conversation.onSocketError);
    socket.on('close', Conversation.onSocketClose);
    if (socket.destroyed) {
      // Already gone (a waiting client that reset): 'close' will not come again.
      queueMicrotask(() => this.closed$());
      return;
    }

    const setup = config.setup;
    if (setup === undefined) {
      this.open();
      return;
    }
    let ready: void | PromiseLike<void>;
    try {
      ready = setup(this);
    } catch (error) {
      this.setupFailed(error);
      return;
    }
    if (isThenable(ready)) {
      ready.then(
        () => this.open(),
        (error: unknown) => this.setupFailed(error),
      );
    } else {
      this.open();
    }
  }

  /** This conversation for the code shared by all of them, which does not care about `State`. */
  private get untyped(): Conversation<never> {
    return this as unknown as Conversation<never>;
  }

  get state(): State {
    return (this.userState ??= {} as State);
  }

  set state(value: State) {
    this.userState = value;
  }

  /** Bytes read from the peer so far. */
  get bytesIn(): number {
    return this.socket.bytesRead;
  }

  /** Bytes of replies handed to the socket so far (queued ones included). */
  get bytesOut(): number {
    return this.socket.bytesWritten;
  }

  /** True once the socket has closed. */
  get isClosed(): boolean {
    return this.phase === Phase.Closed;
  }

  /**
   * Resolves with this conversation once its socket has closed, whatever the reason.
   *
   * @example
   * ```ts
   * const { closeReason, linesIn } = await serveConnection(socket).closed;
   * ```
   */
  get closed(): Promise<Conversation<State>> {
    if (this.phase === Phase.Closed) return Promise.resolve(this);
    return new Promise((resolve) => (this.closeWaiters ??= []).push(resolve));
  }

  /**
   * Ends the conversation gracefully (R17): reads nothing more, answers every line already
   * received (waiting for a handler in progress), flushes, sends FIN, and resolves when the
   * socket has closed. A peer that does not read its replies holds this up; `destroy()` does not wait.
   */
  close(): Promise<void> {
    if (this.phase === Phase.Closed) return Promise.resolve();
    if (this.phase <= Phase.Open) {
      this.shutdownRequested = true;
      if (!this.busy) {
        this.socket.pause();
        if (this.phase === Phase.Open) this.finish('shutdown');
      }
    }
    return this.closed.then(() => undefined);
  }

  /** Closes the socket now; replies not yet flushed are lost. */
  destroy(): void {
    this.closeReason ??= 'destroyed';
    this.socket.destroy();
  }

  private open(): void {
    if (this.phase !== Phase.Setup) return;
    this.phase = Phase.Open;
    if (this.shutdownRequested) {
      this.finish('shutdown');
      return;
    }
    if (this.config.lineTimeout > 0 || this.config.idleTimeout > 0) {
      Conversation.watch(this.untyped, this.config.sweepInterval);
    }
    this.socket.resume();
  }

  private setupFailed(error: unknown): void {
    this.reportHandlerError(new HandlerFailedError('setup failed', { cause: error }));
    if (this.phase !== Phase.Setup) return;
    this.phase = Phase.Open;
    this.finish('setup-failed');
  }

  private receive(chunk: Buffer): void {
    // After the FIN is queued the peer's bytes are only read to be dropped.
    if (this.phase !== Phase.Open) return;
    this.activitySeen = true;
    // The echo fast path needs a decoder with nothing held: one that has seen a chunk ending in LF.
    if (this.echoes && this.decoder !== undefined && !this.midLine && this.echoVerbatim(chunk)) return;
    const wasMidLine = this.midLine;
    const items = (this.decoder ??= new LineDecoder(this.config)).push(chunk);
    if (chunk[chunk.length - 1] === LF) {
      this.midLine = false;
      this.lineStartedAt = NO_LINE;
    } else {
      this.midLine = true;
      // A new line started here unless this chunk only continued the one in progress.
      const lineEnded =
        items.length > 1 ||
        (items.length === 1 && (typeof items[0] === 'string' || chunk.indexOf(LF) !== -1));
      if (!wasMidLine || lineEnded) this.lineStartedAt = LINE_STARTED;
    }
    if (items.length > 0) this.answer(items, false);
  }

  /**
   * Echo without decoding: when the complete lines of a read are valid UTF-8 with no CR, within
   * the limit and no `BYE`, their echo is the very bytes that came, so they are written back as
   * they are (the speed of a raw pipe, one write per read). Anything else takes the general path.
   */
  private echoVerbatim(chunk: Buffer): boolean {
    const end = chunk.lastIndexOf(LF) + 1;
    if (end === 0) return false;
    const cr = chunk.indexOf(CR);
    if (cr !== -1 && cr < end) return false;
    const lines = end === chunk.length ? chunk : chunk.subarray(0, end);
    if (!isUtf8(lines)) return false;
    const max = this.config.maxLineLength;
    let count = 0;
    for (let start = 0, lf = chunk.indexOf(LF); lf !== -1 && lf < end; start = lf + 1, lf = chunk.indexOf(LF, start)) {
      const length = lf - start;
      if (length > max) return false;
      // B, Y, E
      if (length === 3 && chunk[start] === 0x42 && chunk[start + 1] === 0x59 && chunk[start + 2] === 0x45) return false;
      count += 1;
    }
    this.linesIn += count;
    const socket = this.socket;
    socket.write(lines);
    if (end < chunk.length) {
      // The unfinished line after the last LF goes to the decoder, and its deadline starts now.
      this.midLine = true;
      this.lineStartedAt = LINE_STARTED;
      const items = (this.decoder as LineDecoder).push(chunk.subarray(end));
      if (items.length > 0) {
        this.answer(items, false);
        return true;
      }
    }
    if (socket.writableLength > this.config.maxPendingReplyBytes) this.pauseForReplies();
    return true;
  }

  private peerEnd(): void {
    if (this.phase !== Phase.Open) return;
    if (this.busy) {
      this.peerEnded = true;
      return;
    }
    // R11: a final line without LF is a line too.
    const items = this.decoder?.end() ?? [];
    this.midLine = false;
    if (items.length > 0) this.answer(items, true);
    else this.finish('end');
  }

  /** Answers the items of one read (or of the end of input) and writes all replies at once. */
  private answer(items: DecodedItem[], final: boolean): void {
    let bye = false;
    for (let i = 0; i < items.length; i++) {
      if (items[i] === 'BYE') {
        // R10: BYE is answered by the conversation; what follows it is dropped.
        items.length = i;
        bye = true;
        this.linesIn += 1;
        break;
      }
    }
    this.linesIn += items.length;
    const config = this.config;
    if (this.echoes) this.echo(items, bye, final);
    else if (config.answerBatch !== undefined) this.answerBatch(items, bye, final);
    else this.answerEach(items, 0, bye, final);
  }

  private echo(items: DecodedItem[], bye: boolean, final: boolean): void {
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as DecodedItem;
      if (typeof item !== 'string') items[i] = errorReply(item);
      // A line may end in a CR that is data (`a\r\r\n`, or a last line without LF); sent back,
      // it would read as CRLF and vanish, so it cannot be echoed.
      else if (item.length > 0 && item.charCodeAt(item.length - 1) === CR) items[i] = this.handlerFailed(notOneLine(item));
    }
    this.send(items as string[], bye, final);
  }

  /** Calls the handler for items[start...] in order; suspends on the first promise. */
  private answerEach(items: DecodedItem[], start: number, bye: boolean, final: boolean): void {
    const handler = this.config.handler as LineHandler<State>;
    for (let i = start; i < items.length; i++) {
      const item = items[i] as DecodedItem;
      if (typeof item !== 'string') {
        items[i] = errorReply(item);
        continue;
      }
      let reply: string | PromiseLike<string>;
      try {
        reply = handler(item, this);
      } catch (error) {
        items[i] = this.handlerFailed(error);
        continue;
      }
      if (isOneLine(reply)) {
        items[i] = reply;
      } else if (isThenable(reply)) {
        this.suspend();
        reply.then(
          (value) => {
            items[i] = isOneLine(value) ? value : this.handlerFailed(notOneLine(value));
            this.answerEach(items, i + 1, bye, final);
          },
          (error: unknown) => {
            items[i] = this.handlerFailed(error);
            this.answerEach(items, i + 1, bye, final);
          },
        );
        return;
      } else {
        items[i] = this.handlerFailed(notOneLine(reply));
      }
    }
    this.send(items as string[], bye, final);
  }

  private answerBatch(items: DecodedItem[], bye: boolean, final: boolean): void {
    const lines: string[] = [];
    for (const item of items) if (typeof item === 'string') lines.push(item);
    if (lines.length === 0) {
      this.placeBatch(items, lines, bye, final);
      return;
    }
    let replies: readonly string[] | PromiseLike<readonly string[]>;
    try {
      replies = (this.config.answerBatch as BatchAnswerer<State>)(lines, this);
    } catch (error) {
      this.placeBatch(items, this.failBatch(lines.length, error), bye, final);
      return;
    }
    if (!isThenable(replies)) {
      this.placeBatch(items, this.checkBatch(replies, lines.length), bye, final);
      return;
    }
    this.suspend();
    replies.then(
      (value) => this.placeBatch(items, this.checkBatch(value, lines.length), bye, final),
      (error: unknown) => this.placeBatch(items, this.failBatch(lines.length, error), bye, final),
    );
  }

  private checkBatch(replies: unknown, count: number): readonly string[] {
    if (!Array.isArray(replies) || replies.length !== count) {
      return this.failBatch(count, new TypeError(`answerBatch must return ${count} replies`));
    }
    const checked = replies as string[];
    for (let i = 0; i < count; i++) {
      if (!isOneLine(checked[i])) checked[i] = this.handlerFailed(notOneLine(checked[i]));
    }
    return checked;
  }

  private failBatch(count: number, error: unknown): string[] {
    const reply = this.handlerFailed(error);
    return new Array<string>(count).fill(reply);
  }

  /** Puts the batch's replies into the places of the lines, beside the decoder's error replies. */
  private placeBatch(items: DecodedItem[], replies: readonly string[], bye: boolean, final: boolean): void {
    let next = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as DecodedItem;
      items[i] = typeof item === 'string' ? (replies[next++] as string) : errorReply(item);
    }
    this.send(items as string[], bye, final);
  }

  private handlerFailed(cause: unknown): string {
    const error = new HandlerFailedError('handler failed', { cause });
    this.reportHandlerError(error);
    return errorReply(error);
  }

  private reportHandlerError(error: HandlerFailedError): void {
    const report = this.config.onHandlerError;
    if (report === undefined) return;
    try {
      report(error, this);
    } catch {
      // A failing error hook must not take the server down either.
    }
  }

  /** Stops reading while a handler's promise is outstanding, so queued input stays bounded. */
  private suspend(): void {
    if (this.busy) return;
    this.busy = true;
    this.socket.pause();
  }

  /** Writes one batch of replies in one write, then decides whether to read on. */
  private send(replies: string[], bye: boolean, final: boolean): void {
    const wasBusy = this.busy;
    this.busy = false;
    if (this.phase !== Phase.Open) return;
    const socket = this.socket;
    if (replies.length > 0 || bye) {
      let text = replies.length > 0 ? replies.join('\n') + '\n' : '';
      if (bye) text += 'BYE\n';
      socket.write(text);
    }
    if (bye) return this.finish('bye');
    if (final) return this.finish('end');
    if (this.shutdownRequested) return this.finish('shutdown');
    if (this.peerEnded) {
      this.peerEnded = false;
      return this.peerEnd();
    }
    if (socket.writableLength > this.config.maxPendingReplyBytes) this.pauseForReplies();
    else if (wasBusy) this.readAgain();
  }

  /** R15: reads no more until the client has taken what we hold. */
  private pauseForReplies(): void {
    this.waitingForFlush = true;
    this.socket.pause();
    // The callback of an empty write runs once everything queued before it has gone to the kernel.
    this.socket.write('', (this.onFlushed ??= this.flushed.bind(this)));
  }

  /** Resumes reading after a pause (R13, R14: the paused time counts against neither deadline). */
  private readAgain(): void {
    this.activitySeen = true;
    if (this.midLine) this.lineStartedAt = LINE_STARTED;
    this.socket.resume();
  }

  private flushed(error?: Error | null): void {
    if (error) return;
    this.waitingForFlush = false;
    this.activitySeen = true;
    if (this.phase === Phase.Open && !this.busy) this.readAgain();
  }

  /** Queues the FIN after the replies; then drops what the peer still sends until it closes. */
  private finish(reason: CloseReason, lastReply?: string): void {
    if (this.phase !== Phase.Open) return;
    this.phase = Phase.Ending;
    this.closeReason ??= reason;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (lastReply !== undefined) socket.write(lastReply + '\n');
    socket.once('finish', Conversation.onSocketFinish);
    socket.end();
    this.decoder = undefined;
    this.activitySeen = true;
    if (this.config.idleTimeout > 0) Conversation.watch(this.untyped, this.config.sweepInterval);
    socket.resume();
  }

  private finSent(): void {
    if (this.phase !== Phase.Ending) return;
    this.phase = Phase.Lingering;
    if (this.config.lingerTimeout === 0) {
      this.socket.destroy();
      return;
    }
    this.lingerUntil = performance.now() + this.config.lingerTimeout;
    Conversation.watch(this.untyped, this.config.sweepInterval);
  }

  private checkDeadlines(now: number): void {
    if (this.phase === Phase.Lingering) {
      if (now >= this.lingerUntil) this.socket.destroy();
      return;
    }
    const pending = this.socket.writableLength;
    if (this.activitySeen || pending < this.pendingAtLastSweep) {
      this.activitySeen = false;
      this.lastActivityAt = now;
    }
    this.pendingAtLastSweep = pending;
    // R14: not while a handler works on a reply the client waits for.
    if (this.busy) return;
    const { idleTimeout, lineTimeout } = this.config;
    if (idleTimeout > 0 && now - this.lastActivityAt >= idleTimeout) {
      if (this.phase === Phase.Open) this.finish('idle-timeout');
      else this.socket.destroy();
      return;
    }
    if (this.phase !== Phase.Open || !this.midLine || this.waitingForFlush) return;
    if (this.lineStartedAt === LINE_STARTED) this.lineStartedAt = now;
    else if (lineTimeout > 0 && now - this.lineStartedAt >= lineTimeout) {
      // R13: every earlier line is answered already (nothing is in progress).
      this.linesIn += 1;
      this.finish('line-timeout', errorReply(new LineTimeoutError(lineTimeout)));
    }
  }

  private closed$(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.closeReason ??= this.error ? 'error' : 'destroyed';
    this.decoder = undefined;
    Conversation.unwatch(this.untyped);
    const waiters = this.closeWaiters;
    this.closeWaiters = undefined;
    if (waiters) for (const resolve of waiters) resolve(this);
    this.config.onClose?.(this);
  }

  // Shared listeners: `this` is the socket, so no connection needs closures of its own.
  private static onSocketData(this: Socket, chunk: Buffer): void {
    (this as TaggedSocket)[kConversation].receive(chunk);
  }

  private static onSocketEnd(this: Socket): void {
    (this as TaggedSocket)[kConversation].peerEnd();
  }

  private static onSocketFinish(this: Socket): void {
    (this as TaggedSocket)[kConversation].finSent();
  }

  private static onSocketError(this: Socket, error: Error): void {
    const conversation = (this as TaggedSocket)[kConversation];
    conversation.error ??= error;
    conversation.closeReason ??= 'error';
  }

  private static onSocketClose(this: Socket): void {
    (this as TaggedSocket)[kConversation].closed$();
  }

  // One sweep for every deadline of every connection in this thread: no timer per connection.
  private static readonly watched = new Set<Conversation<never>>();
  private static sweepTimer: ReturnType<typeof setInterval> | undefined = undefined;
  private static sweepEvery = Infinity;

  private static watch(conversation: Conversation<never>, interval: number): void {
    Conversation.watched.add(conversation);
    if (interval < Conversation.sweepEvery) {
      if (Conversation.sweepTimer !== undefined) clearInterval(Conversation.sweepTimer);
      Conversation.sweepEvery = interval;
      Conversation.sweepTimer = setInterval(Conversation.sweep, interval);
      Conversation.sweepTimer.unref();
    }
  }

  private static unwatch(conversation: Conversation<never>): void {
    const watched = Conversation.watched;
    watched.delete(conversation);
    if (watched.size === 0 && Conversation.sweepTimer !== undefined) {
      clearInterval(Conversation.sweepTimer);
      Conversation.sweepTimer = undefined;
      Conversation.sweepEvery = Infinity;
    }
  }

  private static sweep(): void {
    const now = performance.now();
    for (const conversation of Conversation.watched) conversation.checkDeadlines(now);
  }
}

function notOneLine(reply: unknown): Error {
  return new TypeError(
    typeof reply === 'string'
      ? 'reply is not one line: it contains LF or ends with CR'
      : `reply must be a string, got ${reply === null ? 'null' : typeof reply}`,
  );
}

/**
 * Serves one connection with the comm conversation: reads lines, answers each (echo by
 * default) in order, all replies of one read in one write, and enforces the limits of the spec.
 * The socket is made half-open (R11) and resumed; a socket accepted with `pauseOnConnect` works.
 *
 * @param options validated once with {@link conversationConfig} when many connections share them.
 * @param connectionId defaults to a counter of this process (thread).
 * @example
 * ```ts
 * import net from 'node:net';
 * import { conversationConfig, serveConnection } from '@comm/protocol';
 *
 * const config = conversationConfig({ handler: (line) => line.toUpperCase() });
 * net.createServer({ allowHalfOpen: true }, (socket) => serveConnection(socket, config)).listen(2000);
 * ```
 */
export function serveConnection<State = Record<string, unknown>>(
  socket: Socket,
  options: ConversationOptions<State> | ConversationConfig<State> = {},
  connectionId: number = ++lastConnectionId,
): Conversation<State> {
  return new Conversation(socket, conversationConfig(options), connectionId);
}

const dropBytes = (): void => {};
const ignoreError = (): void => {};

/**
 * Turns a connection away without serving it: writes `line` (if any), sends FIN, drops what the
 * peer sends, and destroys the socket once the peer closes or after `lingerTimeout` ms. Used for
 * a busy server (R16) and for waiting clients at shutdown (R17).
 *
 * @example
 * ```ts
 * refuseConnection(socket, errorReply(new ServerBusyError()));
 * ```
 */
export function refuseConnection(socket: Socket, line?: string, lingerTimeout = DEFAULT_LINGER_TIMEOUT): void {
  socket.on('error', ignoreError);
  if (socket.destroyed) return;
  socket.allowHalfOpen = true;
  socket.on('data', dropBytes);
  if (line !== undefined) socket.write(line + '\n');
  socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), lingerTimeout);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
