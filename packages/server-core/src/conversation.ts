// The conversation over one connection (R2-R17): the state machine and the socket I/O. Its
// options are in config.ts, the answer strategies in answer.ts, the deadline sweep in sweep.ts.
// It is over 400 lines because the state machine is one piece: every phase change touches
// reading, writing and the deadlines together, and splitting it would spread one invariant
// over several files.
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { LineDecoder, errorReply, type DecodedItem } from '@comm/protocol';
import type { Answering } from './answer.js';
import { conversationConfig, type ConversationConfig, type ConversationOptions } from './config.js';
import type { CloseReason } from './context.js';
import { HandlerFailedError, LineTimeoutError } from './errors.js';
import { remotePeer, type PeerAddress } from './peer.js';
import type { ProxyInfo } from './proxy/gate.js';
import { tlsInfoOf, type TlsInfo } from './tls.js';
import { isThenable } from './util.js';

const LF = 0x0a;
const CR = 0x0d;

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

/**
 * The conversation over one connection (R2-R15): reads lines, answers each in order, enforces
 * the limits, and closes cleanly. Create one with {@link serveConnection}. It is also the
 * handler's {@link ConnectionContext}.
 *
 * Built to be small: the decoder is made on the first byte, `state` on first use, no timer or
 * closure belongs to one connection (one shared sweep watches every deadline), and the socket
 * listeners are shared functions.
 */
export class Conversation<State = Record<string, unknown>> implements Answering<State> {
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
  /** The balancer and its PROXY header, when the connection came through one. */
  proxy: ProxyInfo | undefined = undefined;
  /** The TLS handshake's outcome, when the connection is TLS. */
  tls: TlsInfo | undefined = undefined;

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
  constructor(socket: Socket, config: ConversationConfig<State>, connectionId: number, peer: PeerAddress = remotePeer(socket)) {
    this.socket = socket;
    this.config = config;
    this.echoes = config.echoes;
    this.connectionId = connectionId;
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
      this.config.sweep.watch(this, this.config.sweepInterval);
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
      const lineEnded = items.length > 1 || (items.length === 1 && (typeof items[0] === 'string' || chunk.indexOf(LF) !== -1));
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
    this.config.answer(this, items, bye, final);
  }

  /** @internal For the answer strategies. */
  handlerFailed(cause: unknown): string {
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
  /** @internal For the answer strategies. */
  suspend(): void {
    if (this.busy) return;
    this.busy = true;
    this.socket.pause();
  }

  /** Writes one batch of replies in one write, then decides whether to read on. */
  /** @internal For the answer strategies. */
  send(replies: string[], bye: boolean, final: boolean): void {
    const wasBusy = this.busy;
    this.busy = false;
    if (this.phase !== Phase.Open) return;
    const socket = this.socket;
    if (replies.length > 0 || bye) {
      let text = replies.length > 0 ? replies.join('\n') + '\n' : '';
      if (bye) text += 'BYE\n';
      socket.write(text);
    }
    if (bye || final || this.shutdownRequested) {
      this.finish(bye ? 'bye' : final ? 'end' : 'shutdown');
      return;
    }
    if (this.peerEnded) {
      this.peerEnded = false;
      this.peerEnd();
      return;
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
    if (this.config.idleTimeout > 0) this.config.sweep.watch(this, this.config.sweepInterval);
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
    this.config.sweep.watch(this, this.config.sweepInterval);
  }

  /** @internal For the deadline sweep. */
  checkDeadlines(now: number): void {
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
    this.config.sweep.unwatch(this);
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
}

/** Who a served connection is, when the server knows it already. */
export interface ConnectionIdentity {
  /** Default: a counter of this process (thread). */
  readonly connectionId?: number;
  /** The peer as taken when the connection was accepted; default: read from the socket now. */
  readonly peer?: PeerAddress;
  /** The balancer and its PROXY header, when the connection came through one. */
  readonly proxy?: ProxyInfo | undefined;
}

/**
 * Serves one connection with the comm conversation: reads lines, answers each (echo by
 * default) in order, all replies of one read in one write, and enforces the limits of the spec.
 * The socket is made half-open (R11) and resumed; a socket accepted with `pauseOnConnect` works.
 *
 * @param options validated once with {@link conversationConfig} when many connections share them.
 * @param identity the connection's id and its peer as taken at accept: a socket reset while it
 *   waited no longer knows its peer.
 * @example
 * ```ts
 * import net from 'node:net';
 * import { conversationConfig, serveConnection } from '@comm/server-core';
 *
 * const config = conversationConfig({ handler: (line) => line.toUpperCase() });
 * net.createServer({ allowHalfOpen: true }, (socket) => serveConnection(socket, config)).listen(2000);
 * ```
 */
export function serveConnection<State = Record<string, unknown>>(
  socket: Socket,
  options: ConversationOptions<State> | ConversationConfig<State> = {},
  { connectionId = ++lastConnectionId, peer, proxy }: ConnectionIdentity = {},
): Conversation<State> {
  const conversation = new Conversation(socket, conversationConfig(options), connectionId, peer);
  if (proxy !== undefined) conversation.proxy = proxy;
  if (socket instanceof TLSSocket) conversation.tls = tlsInfoOf(socket);
  return conversation;
}
