import { performance } from 'node:perf_hooks';

/** What happened: a client connected, sent or received a line, or closed; or a remark. */
export type TimelineKind = 'connect' | 'sent' | 'received' | 'closed' | 'waiting' | 'note';

/** One row of the timeline. */
export interface TimelineEvent {
  /** Which server the client talks to, e.g. `seq` or `threaded`. */
  server: string;
  /** The client's name and address, e.g. `A 127.0.0.1`. */
  client: string;
  kind: TimelineKind;
  /** The line sent or received, or the remark. */
  text?: string;
  /** The thread that served the line, when the server tells. */
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
  closed: '× ',
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
export function formatRow(row: TimelineRow): string {
  const text =
    row.text === undefined
      ? kindWord(row.kind)
      : row.kind === 'note' || row.kind === 'waiting'
        ? row.text
        : JSON.stringify(row.text);
  return formatColumns(`+${Math.round(row.ms)} ms`, row.server, row.thread ?? '', row.client, `${ARROWS[row.kind]} ${text}`);
}

function kindWord(kind: TimelineKind): string {
  return kind === 'connect' ? 'connected' : kind === 'closed' ? 'closed' : '';
}
