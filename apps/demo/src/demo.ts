import type { Readable, Writable } from 'node:stream';
import { connect, runInteractive } from '@comm/client';
import { within } from './bounded.js';
import { STEP_TIMEOUT_MS, playScene } from './scene.js';
import { startSequential, startThreaded, type DemoServer } from './servers.js';
import { describeWait, firstReplyWaits } from './summary.js';
import { Timeline, type TimelineRow } from './timeline.js';

/** One thread per client of the scene, as the chapter's ClientThread has. */
const SCENE_THREADS = 3;

/**
 * The demo without arguments: both servers on free ports, the scene on each with its timeline,
 * what it shows in two sentences; then, when `input` is a terminal, an interactive client of
 * the threaded server. Resolves with the exit code.
 */
export async function runDemo(input: Readable & { isTTY?: boolean }, out: Writable): Promise<number> {
  const print = (line = ''): void => {
    out.write(line + '\n');
  };
  print("comm demo: the chapter's two servers side by side, on loopback.");
  print('Three clients talk at once: A, B (over IPv6) and C. A connects first and keeps talking;');
  print('B and C connect while it does, say hello, and wait for their answer.');
  print();
  const [seq, threaded] = await Promise.all([startSequential({ port: 0 }), startThreaded({ port: 0, threads: SCENE_THREADS })]);
  try {
    const rows: TimelineRow[] = [];
    for (const server of [seq, threaded]) {
      print(server.description);
      const timeline = new Timeline(print);
      timeline.header();
      await playScene(server, timeline);
      rows.push(...timeline.rows);
      print();
    }
    print('What it shows:');
    for (const server of ['seq', 'threaded']) {
      firstReplyWaits(rows, server, ['B', 'C']).forEach((wait, index) => {
        print(`  ${(index === 0 ? server : '').padEnd(9)} ${describeWait(wait)}`);
      });
    }
    print();
    if (input.isTTY === true) await talkTo(threaded, input, out);
    return 0;
  } finally {
    await Promise.all([seq.close(), threaded.close()]);
  }
}

/** The chapter's interactive client, against the scene's threaded server. */
async function talkTo(server: DemoServer, input: Readable, out: Writable): Promise<void> {
  let thread: string | undefined;
  server.onAnnouncement((announcement) => {
    if (announcement.type === 'served') thread ??= announcement.thread;
  });
  const client = await within(
    connect('localhost', server.address.port, { connectTimeout: STEP_TIMEOUT_MS, timeout: STEP_TIMEOUT_MS }),
    STEP_TIMEOUT_MS,
    'the interactive client to connect',
  );
  // The server names the thread as it hands the connection over; wait for it, briefly.
  await within(
    new Promise<void>((resolve) => {
      const check = (): void => (thread === undefined ? void setTimeout(check, 5) : resolve());
      check();
    }),
    STEP_TIMEOUT_MS,
    'the threaded server to take the interactive client',
  );
  out.write(
    `Your turn: a client of the threaded server on localhost:${server.address.port}, served by ${thread}.\n` +
      'Type a line and Enter; BYE or Ctrl-D ends.\n',
  );
  await runInteractive(client, input, out, { prompt: (input as { isTTY?: boolean }).isTTY === true });
}
