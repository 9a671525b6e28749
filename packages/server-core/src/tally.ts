import type { Conversation } from './conversation.js';

/** The counters every comm server reports in `stats()`, the same shape on both (per thread too). */
export interface ConnectionCounts {
  /** Connections served now. */
  readonly connectionsOpen: number;
  /** Connections served since the start. */
  readonly connectionsTotal: number;
  /** Lines received and answered (error lines and `BYE` included). */
  readonly linesIn: number;
  /** Bytes read from clients. */
  readonly bytesIn: number;
  /** Reply bytes handed to the sockets. */
  readonly bytesOut: number;
}

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
