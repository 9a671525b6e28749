import { performance } from 'node:perf_hooks';

/** Something with deadlines that a sweep checks. */
export interface Watched {
  checkDeadlines(now: number): void;
}

/**
 * One timer for every deadline of every connection of a thread, instead of a timer per
 * connection: each sweep asks every watched conversation to check its own deadlines. It runs as
 * often as the shortest interval asked of it and stops when nothing is watched. A test can make
 * its own with `{ timer: false }` and drive it with `sweep(now)`.
 *
 * @example
 * ```ts
 * const sweep = new DeadlineSweep({ timer: false });
 * const config = conversationConfig({ lineTimeout: 100, sweep });
 * sweep.sweep(performance.now() + 200); // a line started before now is past its deadline
 * ```
 */
export class DeadlineSweep {
  private readonly watched = new Set<Watched>();
  private readonly useTimer: boolean;
  private timer: ReturnType<typeof setInterval> | undefined = undefined;
  private every = Number.POSITIVE_INFINITY;

  constructor({ timer = true }: { timer?: boolean } = {}) {
    this.useTimer = timer;
  }

  /** How many conversations it watches now. */
  get size(): number {
    return this.watched.size;
  }

  watch(item: Watched, interval: number): void {
    this.watched.add(item);
    if (!this.useTimer || interval >= this.every) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.every = interval;
    this.timer = setInterval(() => this.sweep(performance.now()), interval);
    this.timer.unref();
  }

  unwatch(item: Watched): void {
    this.watched.delete(item);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.every = Number.POSITIVE_INFINITY;
    }
  }

  /** Checks every deadline against `now` (a `performance.now()` time). */
  sweep(now: number): void {
    for (const item of this.watched) item.checkDeadlines(now);
  }
}

/** The sweep of this thread, shared by every conversation that is not given its own. */
export const threadSweep = new DeadlineSweep();
