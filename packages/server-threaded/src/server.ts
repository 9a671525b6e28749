import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '@comm/protocol';
import { checkOption } from '@comm/protocol/options';
import {
  ServerClosedError,
  connectedBy,
  conversationLimits,
  edgeCounts,
  handlerModuleUrl,
  resolveServerOptions,
  type ConnectionCounts,
  type ServerConfig,
  type ServerOptions,
} from '@comm/server-core';
import { createDriver, type Driver, type DriverHost } from './drivers/index.js';
import { MechanismUnavailableError, type WorkerFailedError } from './errors.js';
import type { ThreadedServerEvents } from './events.js';
import { detectCapabilities, MECHANISMS, supports, type Mechanism } from './mechanism.js';
import { THREADED_OPTIONS } from './options.js';
import { WorkerPool, type WorkerSlot } from './pool.js';
import { sumStats, type ServerStats, type ThreadStats, type ThreadTotals } from './stats.js';

export type {
  HandlerErrorInfo,
  ThreadedConnectedInfo,
  ThreadedConnectionInfo,
  ThreadedDisconnectInfo,
  ThreadedServerEvents,
  WorkerExitInfo,
  WorkerStartInfo,
} from './events.js';

/**
 * Options of the threaded server. Every option it shares with `@comm/server-seq` (address,
 * dual-stack, limits, timeouts, socket options) is validated and applied by the same code in
 * `@comm/server-core`, so it means exactly the same here.
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

/**
 * The best mechanism for the options: a PROXY header is read on the main thread, and a socket
 * that has been read cannot move to a worker, so `proxyProtocol` takes `main-thread-io`.
 */
function autoMechanism(available: readonly Mechanism[], config: ServerConfig): Mechanism {
  if (config.proxy !== undefined) return 'main-thread-io';
  // The admission rules are kept on the main thread; with reuse-port the workers accept.
  const best = available.find((candidate) => candidate !== 'reuse-port' || !config.admission.hasRules);
  return best ?? 'main-thread-io';
}

/** What a forced mechanism cannot do, said at `listen()` rather than silently ignored. */
function checkEdgeOptions(mechanism: Mechanism, config: ServerConfig): void {
  if (config.tls !== undefined) {
    throw new InvalidOptionError(
      'tls is not supported on the threaded server yet: use @comm/server-seq, or terminate TLS at a balancer',
    );
  }
  if (config.proxy !== undefined && mechanism !== 'main-thread-io') {
    throw new InvalidOptionError(
      `proxyProtocol needs mechanism main-thread-io on the threaded server (got ${mechanism}): the header is read on the main thread, and a socket that has been read cannot move to a worker`,
    );
  }
  if (mechanism === 'reuse-port' && config.admission.hasRules) {
    throw new InvalidOptionError(
      'allow, deny, maxConnections and maxConnectionsPerAddress need mechanism transfer or main-thread-io (with reuse-port the workers accept, and the rules are kept on the main thread)',
    );
  }
}

/**
 * The threaded comm server: clients are served in parallel on a pool of worker threads, each
 * connection by one thread, like the chapter's `ClientThread`. The handler is a module each
 * thread imports. Dual-stack by default (R1). It emits the events of every comm server
 * (`connection`, `disconnect`, `handlerError`...) with the serving `thread` in each connection
 * record, and `workerExit` / `workerStart` for its threads.
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
  private listening = false;
  private pool: WorkerPool | undefined = undefined;
  /** The mechanism's driver, chosen once at the start of `listen()`. */
  private driver: Driver | undefined = undefined;
  private boundAddress: AddressInfo | null = null;
  private readonly connectionIds = new BigInt64Array(new SharedArrayBuffer(8));
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
    return this.listening ? this.driver?.mechanism : undefined;
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
    const { pool, driver } = this;
    if (pool === undefined || driver === undefined) return this.withRefusals(sumStats('none', []));
    return this.statsOf(pool, await Promise.all(pool.slots.map((slot) => driver.counts(slot))));
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
    this.driver?.destroy();
    void this.pool?.stop();
    void closing;
  }

  private async start(): Promise<AddressInfo> {
    const capabilities = await detectCapabilities();
    const available = MECHANISMS.filter((candidate) => supports(capabilities, candidate));
    const mechanism = this.requestedMechanism === 'auto' ? autoMechanism(available, this.config) : this.requestedMechanism;
    if (!available.includes(mechanism)) throw new MechanismUnavailableError(mechanism, available);
    checkEdgeOptions(mechanism, this.config);

    const init = {
      mechanism,
      handlerUrl: this.handlerUrl,
      limits: conversationLimits(this.config.conversation),
      listen: this.config.listen,
      connectionIds: this.connectionIds.buffer as SharedArrayBuffer,
    };
    const pool = new WorkerPool(this.threads, init, {
      message: (slot, message) => driver.message(slot, message),
      up: (slot) => this.workerUp(driver, slot),
      down: (slot, error, restartIn) => this.workerDown(driver, slot, error, restartIn),
    });
    const driver = createDriver(mechanism, this.hostFor(pool));
    this.pool = pool;
    this.driver = driver;
    await pool.start();
    try {
      if (this.closing) throw new ServerClosedError('server closed while starting');
      const address = await driver.listen();
      if (this.closing) throw new ServerClosedError('server closed while starting');
      this.listening = true;
      this.boundAddress = address;
      this.emit('listening', address);
      return address;
    } catch (error) {
      await driver.stopAccepting();
      await pool.stop();
      throw error;
    }
  }

  /** What the driver sees of this server. */
  private hostFor(pool: WorkerPool): DriverHost {
    return {
      config: this.config,
      handlerUrl: this.handlerUrl,
      pool,
      connectionIds: this.connectionIds,
      isClosing: () => this.closing,
      listens: (event) => this.listenerCount(event) > 0,
      connected: (peer, thread) => {
        if (this.listenerCount('connection') > 0) this.emit('connection', { ...peer, thread, message: connectedBy(peer) });
      },
      disconnected: (info) => this.emit('disconnect', info),
      handlerFailed: (error, connection) => this.emit('handlerError', error, connection),
      refused: (peer, reason) => {
        if (this.listenerCount('refused') > 0) this.emit('refused', peer, reason);
      },
      listenerFailed: (error) => {
        if (this.boundAddress !== null && this.listenerCount('error') > 0) this.emit('error', error);
      },
    };
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
    return this.withRefusals(sumStats(this.driver?.mechanism ?? 'none', threads));
  }

  private withRefusals(totals: ThreadTotals): ServerStats {
    return { ...totals, ...edgeCounts(this.config) };
  }

  private workerUp(driver: Driver, slot: WorkerSlot): void {
    driver.workerUp(slot).then(
      (serving) => {
        if (serving)
          this.emit('workerStart', { thread: slot.index, threadId: slot.worker?.threadId ?? 0, restarts: slot.restarts });
      },
      (error: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', error as Error);
      },
    );
  }

  private workerDown(driver: Driver, slot: WorkerSlot, error: WorkerFailedError, restartIn: number): void {
    const connectionsClosed = slot.load;
    slot.load = 0;
    driver.workerDown(slot, error);
    this.emit('workerExit', error, { thread: slot.index, connectionsClosed, restartIn });
  }

  private async shutDown(): Promise<void> {
    await this.listenPromise?.catch(() => undefined);
    const { pool, driver } = this;
    if (pool !== undefined && driver !== undefined) {
      const stopped = driver.stopAccepting();
      await driver.closeConnections();
      const drained = await pool.drain();
      this.finalStats = this.statsOf(pool, driver.finalCounts(drained));
      await pool.stop();
      await stopped;
    }
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
