import { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { formatEndpoint } from '@comm/protocol';
import { checkOption } from '@comm/protocol/options';
import { AddressInUseError, closeNetServer, ignoreError, ConnectionTally, HandlerFailedError, NO_COUNTS, ServerClosedError, conversationConfig, conversationLimits, handlerModuleUrl, type ConnectionCounts, type ConversationLimits, listenDualStack, prepareSocket, refuseConnection, resolveServerOptions, serveConnection, type ConnectionContext, type Conversation, type ConversationConfig, type ServerConfig, type ServerOptions } from '@comm/server-core';
import { deserializeError, MechanismUnavailableError, WorkerFailedError } from './errors.js';
import { detectCapabilities, MECHANISMS, supports, type Mechanism } from './mechanism.js';
import { nextConnectionId, peerOf, type FromWorker, type PeerInfo } from './messages.js';
import { THREADED_OPTIONS } from './options.js';
import { WorkerPool, type WorkerSlot } from './pool.js';
import { sumStats, type ServerStats, type ThreadStats } from './stats.js';

/**
 * Options of the threaded server. Every option it shares with `@comm/server-seq` (address,
 * dual-stack, limits, timeouts, socket options) is validated and applied by the same code in
 * `@comm/protocol`, so it means exactly the same here.
 */
export interface ThreadedServerOptions
  extends Omit<ServerOptions, 'handler' | 'answerBatch' | 'setup' | 'onClose' | 'onHandlerError'> {
  /**
   * The handler module: a path (relative to the current directory) or a `file:`/`data:` URL of
   * a module that exports `handler(line, context)` and optionally `setup(context)`. Each worker
   * imports it. Default: echo.
   */
  handler?: string | URL;
  /** Worker threads. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * How connections reach the workers; `'auto'` (default) takes the best this runtime supports:
   * `'transfer'`, else `'reuse-port'`, else `'main-thread-io'`. Naming one the runtime lacks makes
   * `listen()` reject with `COMM_MECHANISM_UNAVAILABLE`.
   */
  mechanism?: Mechanism | 'auto';
}

/** A client whose connection has begun: the `connection` event. */
export interface ThreadedConnectionInfo extends PeerInfo {
  /** The pool slot (0-based) of the thread that serves it. */
  readonly thread: number;
  /** `Connected by <address>:<port>`, the chapter's line. */
  readonly message: string;
}

/** Where a handler failure happened: the second argument of `handlerError`. */
export interface HandlerErrorInfo {
  readonly connectionId: number;
  readonly thread: number;
}

/** A worker that died: the second argument of `workerExit`. */
export interface WorkerExitInfo {
  readonly thread: number;
  /** Connections the worker served when it died; they were closed. */
  readonly connectionsClosed: number;
  /** Milliseconds until the replacement starts (the backoff). */
  readonly restartIn: number;
}

/** A replacement worker that is ready: the argument of `workerStart`. */
export interface WorkerStartInfo {
  readonly thread: number;
  readonly threadId: number;
  /** How many times this slot's worker has been replaced so far. */
  readonly restarts: number;
}

/** The events of a {@link ThreadedServer}. */
export interface ThreadedServerEvents {
  listening: [address: AddressInfo];
  /** A client connected and was given to a thread. */
  connection: [info: ThreadedConnectionInfo];
  /** A handler threw, rejected or gave no line (or `setup` failed); the client got `ERR COMM_HANDLER_FAILED ...`. */
  handlerError: [error: HandlerFailedError, info: HandlerErrorInfo];
  /** A worker thread died; its connections were closed and it is being replaced. */
  workerExit: [error: WorkerFailedError, info: WorkerExitInfo];
  /** A replacement worker has loaded the handler module and serves again. */
  workerStart: [info: WorkerStartInfo];
  /** The listening socket failed after `listen()` resolved (e.g. EMFILE). Only emitted when listened to. */
  error: [error: Error];
  /** `close()` or `destroy()` has finished: no connection and no worker is left. */
  close: [];
}

/** One connection served with `main-thread-io`: its socket here, its handler state on `slot`. */
interface RemoteRecord {
  readonly slot: WorkerSlot;
  /** The worker that holds the state; a replacement in the same slot does not. */
  readonly worker: WorkerSlot['worker'];
  readonly tally: ConnectionTally;
  conversation: Conversation | undefined;
  /** The batch or setup waiting for the worker's answer (at most one: the conversation waits). */
  pending: { resolve: (value: never) => void; reject: (error: Error) => void } | undefined;
}

/**
 * `main-thread-io`: the batches of one worker waiting to be sent. Every read of one turn of the
 * event loop goes in one message, not one message per connection: 10,000 clients writing at once
 * cost a few messages instead of 10,000 queued ones (memory) and as many wake-ups (time).
 */
interface Outbox {
  /** The worker the batches were asked of; a replacement in the slot does not get them. */
  readonly worker: WorkerSlot['worker'];
  readonly connectionIds: number[];
  readonly lines: string[][];
}


/**
 * The threaded comm server: clients are served in parallel on a pool of worker threads, each
 * connection by one thread, like the chapter's `ClientThread`. The handler is a module each
 * thread imports. Dual-stack by default (R1).
 *
 * @example
 * ```ts
 * import { createServer } from '@comm/server-threaded';
 *
 * const server = createServer({ port: 2000, handler: './upper.mjs', threads: 4 });
 * server.on('connection', ({ message, thread }) => console.log(message, 'on thread', thread));
 * await server.listen();
 * console.log(server.mechanism); // 'transfer' on Node 26
 * ```
 */
export class ThreadedServer extends EventEmitter<ThreadedServerEvents> {
  /** The validated shared options in force (address, limits...). */
  readonly config: ServerConfig;
  readonly threads: number;
  /** The handler module URL the workers import, or `undefined` for echo. */
  readonly handlerUrl: string | undefined;
  private readonly requestedMechanism: Mechanism | 'auto';
  /** Chosen at the start of `listen()`; `mechanism` shows it once listening. */
  private chosenMechanism: Mechanism | undefined = undefined;
  private listening = false;
  private pool: WorkerPool | undefined = undefined;
  private netServer: net.Server | undefined = undefined;
  private boundAddress: AddressInfo | null = null;
  private readonly connectionIds = new SharedArrayBuffer(8);
  private readonly connectionCounter = new BigInt64Array(this.connectionIds);
  /** Accepted while no worker was ready (all restarting); served when one is. */
  private readonly unassigned: Socket[] = [];
  private readonly remote = new Map<number, RemoteRecord>();
  private readonly remoteTallies: ConnectionTally[] = [];
  private readonly outboxes = new Map<WorkerSlot, Outbox>();
  private outboxFlushScheduled = false;
  private mainIoConfig: ConversationConfig | undefined = undefined;
  private listenPromise: Promise<AddressInfo> | undefined = undefined;
  private closing = false;
  private closePromise: Promise<void> | undefined = undefined;
  /** The counters as they stood when the last connection closed, kept for `stats()` after `close()`. */
  private finalStats: ServerStats | undefined = undefined;

  constructor(options: ThreadedServerOptions = {}) {
    super();
    const { handler, threads, mechanism, ...shared } = options;
    this.threads = (checkOption('threads', THREADED_OPTIONS.threads, threads) as number | undefined) ?? availableParallelism();
    this.requestedMechanism = checkOption('mechanism', THREADED_OPTIONS.mechanism, mechanism) as Mechanism | 'auto';
    this.handlerUrl = handler === undefined ? undefined : handlerModuleUrl(handler);
    this.config = resolveServerOptions(shared);
  }

  /** The mechanism in use once `listen()` has resolved; `undefined` before. */
  get mechanism(): Mechanism | undefined {
    return this.listening ? this.chosenMechanism : undefined;
  }

  /** The bound address once listening, else `null`. */
  address(): AddressInfo | null {
    return this.boundAddress;
  }

  /**
   * Finds the mechanism, starts the workers (each imports the handler module), and listens.
   * Resolves with the bound address.
   *
   * @throws {HandlerLoadError} (`COMM_HANDLER_LOAD_FAILED`) when the handler module cannot be loaded.
   * @throws {MechanismUnavailableError} (`COMM_MECHANISM_UNAVAILABLE`) for a forced mechanism this runtime lacks.
   * @throws {AddressInUseError} (`COMM_ADDRESS_IN_USE`) when the port is taken.
   * @throws {ServerClosedError} (`COMM_SERVER_CLOSED`) after `close()`.
   */
  listen(): Promise<AddressInfo> {
    if (this.closing) return Promise.reject(new ServerClosedError('server closed: cannot listen again'));
    this.listenPromise ??= this.start();
    return this.listenPromise;
  }

  /**
   * Counters across threads: connections open and total, lines, bytes, and each thread's.
   * Asks every worker (with `main-thread-io` the main thread counts), so a thread busy in a long
   * handler call answers when that call returns. After `close()` it gives the final counts.
   */
  async stats(): Promise<ServerStats> {
    if (this.finalStats !== undefined) return this.finalStats;
    const pool = this.pool;
    const mechanism = this.chosenMechanism ?? 'none';
    if (pool === undefined) return sumStats(mechanism, []);
    const counts = await Promise.all(
      pool.slots.map((slot) =>
        mechanism === 'main-thread-io' ? (this.remoteTallies[slot.index]?.counts() ?? NO_COUNTS) : pool.counts(slot),
      ),
    );
    return this.statsOf(pool, counts);
  }

  private statsOf(pool: WorkerPool, counts: readonly ConnectionCounts[]): ServerStats {
    const threads = pool.slots.map(
      (slot, index): ThreadStats => ({
        thread: slot.index,
        threadId: slot.worker?.threadId ?? 0,
        restarts: slot.restarts,
        ...(counts[index] as ConnectionCounts),
      }),
    );
    return sumStats(this.chosenMechanism ?? 'none', threads);
  }

  /**
   * Shuts down gracefully (R17) across threads: stops accepting, has every line already received
   * answered, flushes, closes each connection, terminates the workers, and resolves. A client
   * that does not read its replies holds this up: `destroy()` does not wait.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = this.shutDown();
    return this.closePromise;
  }

  /** Closes everything now: workers are terminated, sockets destroyed; unflushed replies are lost. */
  destroy(): void {
    const closing = this.close();
    for (const socket of this.unassigned.splice(0)) socket.destroy();
    for (const record of this.remote.values()) record.conversation?.destroy();
    void this.pool?.stop();
    void closing;
  }

  private async start(): Promise<AddressInfo> {
    const capabilities = await detectCapabilities();
    const available = MECHANISMS.filter((candidate) => supports(capabilities, candidate));
    const mechanism = this.requestedMechanism === 'auto' ? (available[0] as Mechanism) : this.requestedMechanism;
    if (!available.includes(mechanism)) throw new MechanismUnavailableError(mechanism, available);
    this.chosenMechanism = mechanism;

    const conversation = this.config.conversation;
    const limits = conversationLimits(conversation);
    const pool = new WorkerPool(
      this.threads,
      { mechanism, handlerUrl: this.handlerUrl, limits, listen: this.config.listen, connectionIds: this.connectionIds },
      {
        message: (slot, message) => this.fromWorker(slot, message),
        up: (slot) => this.workerUp(slot),
        down: (slot, error, restartIn) => this.workerDown(slot, error, restartIn),
      },
    );
    this.pool = pool;
    await pool.start();
    try {
      if (this.closing) throw new ServerClosedError('server closed while starting');
      if (mechanism === 'main-thread-io') this.prepareMainThreadIo(pool, limits);
      const address = mechanism === 'reuse-port' ? await this.listenReusePort(pool) : await this.listenHere();
      if (this.closing) throw new ServerClosedError('server closed while starting');
      this.listening = true;
      this.boundAddress = address;
      this.emit('listening', address);
      return address;
    } catch (error) {
      await closeNetServer(this.netServer);
      await pool.stop();
      throw error;
    }
  }

  /** `transfer` and `main-thread-io`: this thread accepts. */
  private listenHere(): Promise<AddressInfo> {
    // pauseOnConnect: a socket must not have started reading to be transferable, and with
    // main-thread-io the conversation resumes it once its worker is known.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    server.on('error', (error) => {
      if (this.boundAddress !== null && this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.netServer = server;
    return listenDualStack(server, this.config.listen);
  }

  /**
   * `reuse-port`: this thread binds the address once without `reusePort`, which gives the usual
   * EADDRINUSE when anyone holds the port (even with `reusePort`) and resolves `0` and the
   * dual-stack fallback, then lets it go; every worker then binds that concrete address with `reusePort`.
   */
  private async listenReusePort(pool: WorkerPool): Promise<AddressInfo> {
    const probe = net.createServer();
    const address = await listenDualStack(probe, this.config.listen);
    await closeNetServer(probe);
    this.boundAddress = address;
    await Promise.all(pool.slots.map((slot) => this.listenOnWorker(slot, address)));
    return address;
  }

  private listenOnWorker(slot: WorkerSlot, address: AddressInfo): Promise<void> {
    const worker = slot.worker;
    if (worker === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type !== 'listening' && message.type !== 'listen-failed') return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (message.type === 'listening') {
          resolve();
          return;
        }
        const error = deserializeError(message.error) as NodeJS.ErrnoException;
        reject(error.code === 'EADDRINUSE' ? new AddressInUseError(address.address, address.port, { cause: error }) : error);
      };
      const onExit = (): void => {
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      slot.post({ type: 'listen', host: address.address, port: address.port });
    });
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      refuseConnection(socket, undefined, this.config.conversation.lingerTimeout);
      return;
    }
    const slot = this.pool?.leastLoaded();
    if (slot === undefined) {
      // Every worker is being replaced: the client waits, unread, like a waiting client of R16.
      socket.on('error', ignoreError);
      this.unassigned.push(socket);
      return;
    }
    this.assign(socket, slot);
  }

  private assign(socket: Socket, slot: WorkerSlot): void {
    socket.off('error', ignoreError);
    if (socket.destroyed) return;
    const peer = peerOf(socket, nextConnectionId(this.connectionCounter));
    if (this.mainIoConfig !== undefined) {
      this.serveHere(socket, slot, peer);
    } else {
      try {
        slot.post({ type: 'socket', socket, peer }, [socket]);
      } catch {
        // A socket that already failed (reset before it moved) cannot be transferred: drop it.
        socket.destroy();
        return;
      }
      slot.load += 1;
    }
    this.announce(peer, slot);
  }

  private announce(peer: PeerInfo, slot: WorkerSlot): void {
    if (this.listenerCount('connection') === 0) return;
    this.emit('connection', {
      ...peer,
      thread: slot.index,
      message: `Connected by ${formatEndpoint(peer.remoteAddress, peer.remotePort)}`,
    });
  }

  /** `main-thread-io`: the conversation runs here and hands each read's lines to the connection's worker. */
  private prepareMainThreadIo(pool: WorkerPool, limits: ConversationLimits): void {
    for (const slot of pool.slots) this.remoteTallies[slot.index] = new ConnectionTally();
    const hasSetup = pool.slots.some((slot) => slot.hasSetup);
    this.mainIoConfig = conversationConfig({
      ...limits,
      answerBatch: (lines, context) => this.askWorker<readonly string[]>(context.connectionId, lines),
      setup: hasSetup ? (context) => this.askWorker<void>(context.connectionId, undefined) : undefined,
      onClose: (conversation) => this.remoteClosed(conversation),
      onHandlerError: (error, context) => this.reportHandlerError(error, context),
    });
  }

  private serveHere(socket: Socket, slot: WorkerSlot, peer: PeerInfo): void {
    prepareSocket(socket, this.config.listen);
    const tally = this.remoteTallies[slot.index] as ConnectionTally;
    const record: RemoteRecord = { slot, worker: slot.worker, tally, conversation: undefined, pending: undefined };
    this.remote.set(peer.connectionId, record);
    slot.load += 1;
    // Echo (no handler module) keeps nothing per connection on the worker: no message, no context.
    if (this.handlerUrl !== undefined) slot.post({ type: 'open', peer });
    const conversation = serveConnection(socket, this.mainIoConfig as ConversationConfig, { connectionId: peer.connectionId, peer });
    record.conversation = conversation;
    tally.opened(conversation as Conversation<never>);
  }

  /** Sends a batch (or, with no lines, waits for `setup`'s answer) and resolves with the worker's reply. */
  private askWorker<T>(connectionId: number, lines: string[] | undefined): Promise<T> {
    const record = this.remote.get(connectionId);
    if (record === undefined || record.slot.state !== 'ready' || record.slot.worker !== record.worker) {
      return Promise.reject(new WorkerFailedError(record?.slot.index ?? -1, 'the thread of this connection is gone'));
    }
    return new Promise<T>((resolve, reject) => {
      record.pending = { resolve: resolve as (value: never) => void, reject };
      if (lines !== undefined) this.queueBatch(record, connectionId, lines);
    });
  }

  private queueBatch(record: RemoteRecord, connectionId: number, lines: string[]): void {
    let outbox = this.outboxes.get(record.slot);
    if (outbox === undefined || outbox.worker !== record.worker) {
      outbox = { worker: record.worker, connectionIds: [], lines: [] };
      this.outboxes.set(record.slot, outbox);
    }
    outbox.connectionIds.push(connectionId);
    outbox.lines.push(lines);
    if (this.outboxFlushScheduled) return;
    this.outboxFlushScheduled = true;
    // After the poll phase: every socket read in this turn has added its batch by then.
    setImmediate(() => {
      this.outboxFlushScheduled = false;
      for (const slot of [...this.outboxes.keys()]) this.flushOutbox(slot);
    });
  }

  private flushOutbox(slot: WorkerSlot): void {
    const outbox = this.outboxes.get(slot);
    if (outbox === undefined) return;
    this.outboxes.delete(slot);
    // Batches asked of a worker that has died since were answered with its failure (workerDown).
    if (slot.worker !== outbox.worker || slot.state !== 'ready') return;
    slot.post({ type: 'batches', connectionIds: outbox.connectionIds, lines: outbox.lines });
  }

  private settle(connectionId: number, outcome: { value: unknown } | { error: Error }): void {
    const record = this.remote.get(connectionId);
    const pending = record?.pending;
    if (record === undefined || pending === undefined) return;
    record.pending = undefined;
    if ('error' in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.value as never);
  }

  private remoteClosed(conversation: Conversation): void {
    const record = this.remote.get(conversation.connectionId);
    if (record === undefined) return;
    this.remote.delete(conversation.connectionId);
    record.tally.closed(conversation as Conversation<never>);
    if (record.slot.worker === record.worker && record.worker !== undefined) {
      record.slot.load -= 1;
      if (this.handlerUrl !== undefined) {
        // A batch of this connection still waiting to go is answered with its state, then forgotten.
        this.flushOutbox(record.slot);
        record.slot.post({ type: 'forget', connectionId: conversation.connectionId });
      }
    }
  }

  private reportHandlerError(error: HandlerFailedError, context: ConnectionContext): void {
    const thread = this.remote.get(context.connectionId)?.slot.index ?? -1;
    this.emit('handlerError', error, { connectionId: context.connectionId, thread });
  }

  private fromWorker(slot: WorkerSlot, message: FromWorker): void {
    switch (message.type) {
      case 'replies':
        for (let i = 0; i < message.connectionIds.length; i++) {
          this.settle(message.connectionIds[i] as number, { value: message.replies[i] });
        }
        return;
      case 'opened':
        this.settle(
          message.connectionId,
          message.error === undefined ? { value: undefined } : { error: deserializeError(message.error) },
        );
        return;
      case 'closed':
        // A failing worker closes its connections before it exits: they count as closed by the failure.
        if (slot.state !== 'failing') slot.load = Math.max(0, slot.load - 1);
        return;
      case 'connection':
        slot.load += 1;
        this.announce(message.peer, slot);
        return;
      case 'handler-error':
        this.emit('handlerError', new HandlerFailedError(message.message, { cause: deserializeError(message.cause) }), {
          connectionId: message.connectionId,
          thread: slot.index,
        });
        return;
      default:
        return;
    }
  }

  private workerUp(slot: WorkerSlot): void {
    const started = (): void => {
      this.emit('workerStart', { thread: slot.index, threadId: slot.worker?.threadId ?? 0, restarts: slot.restarts });
    };
    if (this.chosenMechanism === 'reuse-port') {
      if (this.boundAddress === null || this.closing) return;
      this.listenOnWorker(slot, this.boundAddress).then(started, (error: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', error as Error);
      });
      return;
    }
    if (this.chosenMechanism === 'main-thread-io') this.remoteTallies[slot.index] = new ConnectionTally();
    while (this.unassigned.length > 0 && !this.closing) {
      const next = this.pool?.leastLoaded();
      if (next === undefined) break;
      this.assign(this.unassigned.shift() as Socket, next);
    }
    started();
  }

  private workerDown(slot: WorkerSlot, error: WorkerFailedError, restartIn: number): void {
    const connectionsClosed = slot.load;
    slot.load = 0;
    if (this.chosenMechanism === 'main-thread-io') {
      // The connections' handler state died with the thread: answer what is in flight with
      // ERR COMM_HANDLER_FAILED, then close them. Other threads' connections do not notice.
      for (const [connectionId, record] of this.remote) {
        if (record.slot !== slot) continue;
        void record.conversation?.close();
        this.settle(connectionId, { error });
      }
    }
    this.emit('workerExit', error, { thread: slot.index, connectionsClosed, restartIn });
  }

  private async shutDown(): Promise<void> {
    await this.listenPromise?.catch(() => undefined);
    const netServer = this.netServer;
    const stopped = closeNetServer(netServer);
    const lingerTimeout = this.config.conversation.lingerTimeout;
    for (const socket of this.unassigned.splice(0)) refuseConnection(socket, undefined, lingerTimeout);
    const conversations = [...this.remote.values()].map((record) => record.conversation?.close());
    await Promise.all(conversations);
    const pool = this.pool;
    if (pool !== undefined) {
      const drained = await pool.drain();
      const final =
        this.chosenMechanism === 'main-thread-io'
          ? pool.slots.map((slot) => this.remoteTallies[slot.index]?.counts() ?? NO_COUNTS)
          : drained;
      this.finalStats = this.statsOf(pool, final);
      await pool.stop();
    }
    await stopped;
    this.boundAddress = null;
    this.emit('close');
  }
}

/**
 * Creates a threaded comm server; call `listen()` to start it.
 *
 * @example
 * ```ts
 * const server = createServer({ port: 0, handler: new URL('./upper.mjs', import.meta.url) });
 * const { port } = await server.listen();
 * ```
 */
export function createServer(options: ThreadedServerOptions = {}): ThreadedServer {
  return new ThreadedServer(options);
}
