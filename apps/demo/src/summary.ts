import type { TimelineRow } from './timeline.js';

/** How long a client waited for its first reply, and who was talking meanwhile. */
export interface FirstReplyWait {
  server: string;
  client: string;
  waitedMs: number;
  thread: string | undefined;
  /** The client whose BYE this client waited for; undefined when it waited for nobody. */
  waitedFor: string | undefined;
}

function clientName(row: TimelineRow): string {
  return row.client.split(' ')[0] ?? row.client;
}

/**
 * Reads the timeline of one server for the first reply of each of `clients`: how long after
 * the client's first line it came, and, for a client the server let wait in line, whose BYE
 * it waited for.
 */
export function firstReplyWaits(rows: readonly TimelineRow[], server: string, clients: readonly string[]): FirstReplyWait[] {
  const ofServer = rows.filter((row) => row.server === server);
  const waits: FirstReplyWait[] = [];
  for (const client of clients) {
    const sentIndex = ofServer.findIndex((row) => row.kind === 'sent' && clientName(row) === client);
    const replyIndex = ofServer.findIndex(
      (row, index) => index > sentIndex && row.kind === 'received' && clientName(row) === client,
    );
    const sent = ofServer[sentIndex];
    const reply = ofServer[replyIndex];
    if (sent === undefined || reply === undefined) continue;
    // Only a client the server let wait in line waited for someone: for the one whose BYE
    // came last before its reply. Another client's BYE that merely came first is no wait.
    const waited = ofServer.some((row) => row.kind === 'waiting' && clientName(row) === client);
    const byeBefore = waited
      ? ofServer
          .slice(sentIndex, replyIndex)
          .filter((row) => row.kind === 'sent' && row.text === 'BYE' && clientName(row) !== client)
          .at(-1)
      : undefined;
    waits.push({
      server,
      client,
      waitedMs: reply.ms - sent.ms,
      thread: reply.thread,
      waitedFor: byeBefore === undefined ? undefined : clientName(byeBefore),
    });
  }
  return waits;
}

/** One line per client, e.g. `B waited 512 ms for its first reply: until A said BYE`. */
export function describeWait(wait: FirstReplyWait): string {
  const ms = `${Math.round(wait.waitedMs)} ms`.padStart(7);
  const why =
    wait.waitedFor !== undefined
      ? `until ${wait.waitedFor} said BYE`
      : `answered at once${wait.thread === undefined ? '' : ` by ${wait.thread}`}`;
  return `${wait.client} waited ${ms} for its first reply: ${why}`;
}
