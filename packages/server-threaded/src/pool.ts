import { Worker } from 'node:worker_threads';
import { HandlerLoadError, NO_COUNTS, type ConnectionCounts } from '@comm/server-core';
import { deserializeError, WorkerFailedError } from './errors.js';
import { assertNever } from './exhaustive.js';
import type { DriverMessage, FromWorker, ToWorker, WorkerInit } from './messages.js';

/** The worker entry, built by tsup beside this module (the CJS build gets `import.meta.url` from tsup's shim). */
const WORKER_URL = new URL('./worker.js', import.meta.url);

/** A worker that ran this long before it died starts the backoff from the beginning again. */
const STABLE_AFTER_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 50;
const MAX_RESTART_DELAY_MS = 5_000;

/**
 * How long to wait before replacing a worker that died `failures` times in a row:
 * 50 ms, then doubling, at most 5 s, so a handler that kills every worker cannot spin the CPU.
 *
 * @example
 * ```ts
 * restartDelay(1); // 50
 * restartDelay(4); // 400
 * ```
 */
export function restartDelay(failures: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * The young generation of each worker's heap, in MiB. V8's default lets it grow to tens of MiB
 * under a burst of new connections (a transferred socket is deserialized there) and keeps it
 * committed, which shows as resident memory per idle connection; capped, the burst is collected
 * sooner at no measurable cost in throughput.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

type SlotState = 'starting' | 'ready' | 'failing' | 'down' | 'stopped';

/** One place in the pool; the worker in it may be replaced, the slot stays. */
export class WorkerSlot {
  readonly index: number;
  worker: Worker | undefined = undefined;
  state: SlotState = 'down';
  /** Connections the main thread has handed to this slot and not seen close. */
  load = 0;
  restarts = 0;
  /** The handler module exports `setup`. */
  hasSetup = false;
  /** Deaths without a stable run between them, for the backoff. */
  failures = 0;
  startedAt = 0;
  /** Why the current worker is going down, as soon as it says so (`fatal`, `load-failed`). */
  failure: Error | undefined = undefined;
  restartTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly exitWaiters: (() => void)[] = [];

  constructor(index: number) {
    this.index = index;
  }

  /** Posts to the worker if there is one; a message to a dying worker is dropped. */
  post(message: ToWorker, transfer?: readonly unknown[]): void {
    this.worker?.postMessage(message, transfer as never);
  }

  /** Resolves once the slot's current worker (if any) has exited. */
  exited(): Promise<void> {
    if (this.worker === undefined) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }
}

/** What the server hears from the pool. */
export interface PoolListener {
  /** Every message that is not the pool's own business. */
  message(slot: WorkerSlot, message: DriverMessage): void;
  /** A worker is ready to serve (at start and after each replacement). */
  up(slot: WorkerSlot): void;
  /** A running worker died (or started to fail); it will be replaced after `restartIn` ms. */
  down(slot: WorkerSlot, error: WorkerFailedError, restartIn: number): void;
}

/**
 * The worker threads of one server: starts them, tells when they are up, replaces one that dies
 * (with backoff), picks the least-loaded one, and stops them all.
 */
export class WorkerPool {
  readonly slots: WorkerSlot[];
  private readonly init: Omit<WorkerInit, 'thread'>;
  private readonly listener: PoolListener;
  /** Start-up is over: from now on a dying worker is replaced rather than failing `start()`. */
  private running = false;
  private stopping = false;
  private nextRequestId = 0;
  private readonly requests = new Map<number, { slot: WorkerSlot; resolve: (counts: ConnectionCounts) => void }>();
  private readonly startWaiters = new Map<WorkerSlot, { resolve: () => void; reject: (error: Error) => void }>();
  /** Round-robin start for ties, so idle workers take turns. */
  private nextTurn = 0;

  constructor(threads: number, init: Omit<WorkerInit, 'thread'>, listener: PoolListener) {
    this.slots = Array.from({ length: threads }, (_, index) => new WorkerSlot(index));
    this.init = init;
    this.listener = listener;
  }

  /**
   * Starts every worker and resolves when all have loaded the handler module.
   *
   * @throws {HandlerLoadError} the first worker's load error; every worker is stopped then.
   */
  async start(): Promise<void> {
    try {
      await Promise.all(this.slots.map((slot) => this.spawn(slot)));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.running = true;
  }

  /** The ready slot with the fewest connections; ties go round-robin. */
  leastLoaded(): WorkerSlot | undefined {
    const slots = this.slots;
    let best: WorkerSlot | undefined;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(this.nextTurn + i) % slots.length] as WorkerSlot;
      if (slot.state === 'ready' && (best === undefined || slot.load < best.load)) best = slot;
    }
    if (best !== undefined) this.nextTurn = (best.index + 1) % slots.length;
    return best;
  }

  /** Asks a worker for its counters; a slot without a live worker counts zero. */
  counts(slot: WorkerSlot): Promise<ConnectionCounts> {
    if (slot.worker === undefined || slot.state === 'stopped') return Promise.resolve(NO_COUNTS);
    const requestId = ++this.nextRequestId;
    return new Promise((resolve) => {
      this.requests.set(requestId, { slot, resolve });
      slot.post({ type: 'stats', requestId });
    });
  }

  /**
   * R17 on every thread: each worker stops accepting, answers what it received and closes its
   * connections. Resolves with each slot's final counters when all have drained (a worker that
   * died meanwhile counts zero). Dead workers are not replaced any more.
   */
  drain(): Promise<ConnectionCounts[]> {
    this.stopping = true;
    return Promise.all(
      this.slots.map((slot) => {
        this.cancelRestart(slot);
        const worker = slot.worker;
        if (worker === undefined) return NO_COUNTS;
        return new Promise<ConnectionCounts>((resolve) => {
          const onMessage = (message: FromWorker): void => {
            if (message.type !== 'drained') return;
            worker.off('message', onMessage);
            resolve(message.counts);
          };
          worker.on('message', onMessage);
          slot.exitWaiters.push(() => resolve(NO_COUNTS));
          worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
        });
      }),
    );
  }

  /** Terminates every worker now and resolves when all have exited; nothing is restarted after. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map((slot) => {
        this.cancelRestart(slot);
        const exited = slot.exited();
        void slot.worker?.terminate();
        return exited;
      }),
    );
  }

  private cancelRestart(slot: WorkerSlot): void {
    if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
  }

  private spawn(slot: WorkerSlot): Promise<void> {
    const worker = new Worker(WORKER_URL, {
      workerData: { ...this.init, thread: slot.index } satisfies WorkerInit,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    slot.worker = worker;
    slot.state = 'starting';
    slot.load = 0;
    slot.failure = undefined;
    slot.startedAt = performance.now();
    worker.on('message', (message: FromWorker) => this.received(slot, worker, message));
    // Only an exception the worker's own handler missed (e.g. while the worker entry loads) lands here.
    worker.on('error', (error) => {
      if (slot.worker === worker) slot.failure ??= error;
    });
    worker.on('exit', (code) => this.exited(slot, worker, code));
    return new Promise((resolve, reject) => this.startWaiters.set(slot, { resolve, reject }));
  }

  private received(slot: WorkerSlot, worker: Worker, message: FromWorker): void {
    if (slot.worker !== worker) return;
    switch (message.type) {
      case 'ready': {
        slot.state = 'ready';
        slot.hasSetup = message.hasSetup;
        this.startWaiters.get(slot)?.resolve();
        this.startWaiters.delete(slot);
        if (this.running) this.listener.up(slot);
        return;
      }
      case 'load-failed': {
        const cause = message.cause === undefined ? undefined : deserializeError(message.cause);
        slot.failure = new HandlerLoadError(this.init.handlerUrl ?? '(echo)', message.reason, { cause });
        return;
      }
      case 'fatal': {
        // Stop handing it connections now; it closes its own and exits, then it is replaced.
        slot.state = 'failing';
        slot.failure = deserializeError(message.error);
        return;
      }
      case 'stats': {
        const request = this.requests.get(message.requestId);
        this.requests.delete(message.requestId);
        request?.resolve(message.counts);
        return;
      }
      case 'listening':
      case 'listen-failed':
      case 'connection':
      case 'closed':
      case 'opened':
      case 'replies':
      case 'handler-error':
      case 'drained':
        this.listener.message(slot, message);
        return;
      default:
        assertNever(message, 'worker message');
    }
  }

  private exited(slot: WorkerSlot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    for (const [requestId, request] of this.requests) {
      if (request.slot !== slot) continue;
      this.requests.delete(requestId);
      request.resolve(NO_COUNTS);
    }
    for (const resolve of slot.exitWaiters.splice(0)) resolve();
    const cause = slot.failure ?? new Error(`the thread exited with code ${code}`);

    const starting = this.startWaiters.get(slot);
    if (starting !== undefined) {
      this.startWaiters.delete(slot);
      starting.reject(cause);
      if (!this.running) {
        // At start-up a failure is the caller's to see, not a reason to loop.
        slot.state = 'down';
        return;
      }
    }
    if (this.stopping) {
      slot.state = 'stopped';
      return;
    }
    slot.state = 'down';
    if (performance.now() - slot.startedAt >= STABLE_AFTER_MS) slot.failures = 0;
    slot.failures += 1;
    const delay = restartDelay(slot.failures);
    this.listener.down(slot, new WorkerFailedError(slot.index, cause.message, { cause }), delay);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.stopping) return;
      slot.restarts += 1;
      // A replacement that fails to load dies like any worker: its exit schedules the next try.
      this.spawn(slot).catch(() => {});
    }, delay);
  }
}
