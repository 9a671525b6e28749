import type { ConnectionCounts, ServerStatsBase } from '@comm/server-core';

/** The counters of one thread of the pool. */
export interface ThreadStats extends ConnectionCounts {
  /** The pool slot, from 0 to `threads - 1`; a replaced worker keeps its slot. */
  readonly thread: number;
  /** The `threadId` of the worker now in the slot (`0` while none runs). */
  readonly threadId: number;
  /** How many times the slot's worker died and was replaced. */
  readonly restarts: number;
}

/** The sum over threads, and each thread's. */
export interface ThreadTotals extends ConnectionCounts {
  /** The mechanism in use. */
  readonly mechanism: string;
  readonly threads: readonly ThreadStats[];
}

/** The whole server's counters: the threads' totals, and what the admission rules and the PROXY gate turned away. */
export interface ServerStats extends ThreadTotals, ServerStatsBase {}

/** Adds up the threads' counters. */
export function sumStats(mechanism: string, threads: readonly ThreadStats[]): ThreadTotals {
  const sum = { connectionsOpen: 0, connectionsTotal: 0, linesIn: 0, bytesIn: 0, bytesOut: 0 };
  for (const thread of threads) {
    sum.connectionsOpen += thread.connectionsOpen;
    sum.connectionsTotal += thread.connectionsTotal;
    sum.linesIn += thread.linesIn;
    sum.bytesIn += thread.bytesIn;
    sum.bytesOut += thread.bytesOut;
  }
  return { mechanism, ...sum, threads };
}
