import { performance } from 'node:perf_hooks';

/**
 * What happened: a client connected, sent or received a line; the server took a client
 * (`served`) or let it wait in line (`waiting`); or a remark (`note`).
 */
type TimelineKind = 'connect' | 'sent' | 'received' | 'served' | 'waiting' | 'note';

/** One row of the timeline. */
export interface TimelineEvent {
  /** Which server the client talks to, e.g. `seq` or `threaded`. */
  server: string;
  /** The client's name and address, e.g. `A 127.0.0.1`. */
  client: string;
  kind: TimelineKind;
  /** The line sent or received, or what the server said, or the remark. */
  text?: string;
  /** The thread that serves the client, as the server tells it. */
  thread?: string;
}

/** A recorded row: the event and its offset from the start of the timeline. */
export interface TimelineRow extends TimelineEvent {
  ms: number;
}

const ARROWS: Record<TimelineKind, string> = {
  connect: '··',
  sent: '→ ',
  received: '← ',
  served: '» ',
  waiting: '… ',
  note: '  ',
};

/**
 * Prints events as they happen, one aligned row each, and keeps them for the summary.
 * The text comes last on a row, so wide characters (CJK, emoji) cannot break the columns.
 *
 * @example
 * ```ts
 * const timeline = new Timeline((row) => console.log(row));
 * timeline.record({ server: 'seq', client: 'A 127.0.0.1', kind: 'sent', text: 'hello' });
 * // "    +0 ms  seq       A 127.0.0.1   → "hello""
 * ```
 */
export class Timeline {
  readonly rows: TimelineRow[] = [];
  private readonly start = performance.now();

  constructor(private readonly print: (line: string) => void) {}

  /** The column titles, printed once before the first row. */
  header(): void {
    this.print(formatColumns('time', 'server', 'thread', 'client', '  what'));
  }

  record(event: TimelineEvent): TimelineRow {
    const row: TimelineRow = { ...event, ms: performance.now() - this.start };
    this.rows.push(row);
    this.print(formatRow(row));
    return row;
  }
}

function formatColumns(time: string, server: string, thread: string, client: string, what: string): string {
  return `${time.padStart(9)}  ${server.padEnd(9)} ${thread.padEnd(10)} ${client.padEnd(13)} ${what}`;
}

/** One row as printed: `+ms server thread client arrow text`. */
function formatRow(row: TimelineRow): string {
  // Lines are quoted, so an empty line or trailing spaces show; what the demo says is not.
  const quoted = row.kind === 'sent' || row.kind === 'received';
  const text = row.text === undefined ? '' : quoted ? JSON.stringify(row.text) : row.text;
  return formatColumns(`+${Math.round(row.ms)} ms`, row.server, row.thread ?? '', row.client, `${ARROWS[row.kind]} ${text}`);
}
