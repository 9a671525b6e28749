import type { Conversation } from '@comm/server-core';

/** The counters of one thread of the pool. */
export interface ThreadStats {
  /** The pool slot, from 0 to `threads - 1`; a replaced worker keeps its slot. */
  readonly thread: number;
  /** The `threadId` of the worker now in the slot (`0` while none runs). */
  readonly threadId: number;
  /** How many times the slot's worker died and was replaced. */
  readonly restarts: number;
  /** Connections served by this slot now. */
  readonly connectionsOpen: number;
  /** Connections served by this slot's current worker since it started. */
  readonly connectionsTotal: number;
  /** Lines received and answered (error lines and `BYE` included), current worker. */
  readonly linesIn: number;
  /** Bytes read from clients, current worker. */
  readonly bytesIn: number;
  /** Reply bytes handed to the sockets, current worker. */
  readonly bytesOut: number;
}

/** The counters of one thread as they cross to the main thread, before the slot fills them in. */
export type ConnectionCounts = Pick<ThreadStats, 'connectionsOpen' | 'connectionsTotal' | 'linesIn' | 'bytesIn' | 'bytesOut'>;

/**
 * Counts the connections one thread serves. Open connections are read live from their
 * conversations; closed ones are added up when they close, so the counts cost nothing per line.
 */
export class ConnectionTally {
  private readonly live = new Set<Conversation<never>>();
  private total = 0;
  private closedLines = 0;
  private closedBytesIn = 0;
  private closedBytesOut = 0;

  get openCount(): number {
    return this.live.size;
  }

  /** The conversations open now, e.g. to close them all. */
  conversations(): IterableIterator<Conversation<never>> {
    return this.live.values();
  }

  opened(conversation: Conversation<never>): void {
    this.live.add(conversation);
    this.total += 1;
  }

  closed(conversation: Conversation<never>): void {
    if (!this.live.delete(conversation)) return;
    this.closedLines += conversation.linesIn;
    this.closedBytesIn += conversation.bytesIn;
    this.closedBytesOut += conversation.bytesOut;
  }

  counts(): ConnectionCounts {
    let linesIn = this.closedLines;
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (const conversation of this.live) {
      linesIn += conversation.linesIn;
      bytesIn += conversation.bytesIn;
      bytesOut += conversation.bytesOut;
    }
    return { connectionsOpen: this.live.size, connectionsTotal: this.total, linesIn, bytesIn, bytesOut };
  }
}

/** Zero counts, for a slot whose worker is not running. */
export const NO_COUNTS: ConnectionCounts = Object.freeze({
  connectionsOpen: 0,
  connectionsTotal: 0,
  linesIn: 0,
  bytesIn: 0,
  bytesOut: 0,
});

/** The whole server's counters: the sum over threads, and each thread's. */
export interface ServerStats extends ConnectionCounts {
  /** The mechanism in use. */
  readonly mechanism: string;
  readonly threads: readonly ThreadStats[];
}

/** Adds up the threads' counters. */
export function sumStats(mechanism: string, threads: readonly ThreadStats[]): ServerStats {
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
