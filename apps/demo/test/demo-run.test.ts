import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killChildren, start } from '@comm/test-helpers';
import { CLI } from './processes.js';

/** One timeline row as the demo prints it. */
interface Row {
  server: string;
  thread: string | undefined;
  client: string;
  arrow: string;
  text: string;
}

const ROW = /^ *\+\d+ ms {2}(seq|threaded) +(?:(main|thread \d+) +)?([A-Z]) (\S+) +(··|→|←|»|…) +(.*)$/;

function parseTimeline(stdout: string): Row[] {
  const rows: Row[] = [];
  for (const line of stdout.split('\n')) {
    const match = ROW.exec(line);
    if (match) {
      const [, server, thread, client, , arrow, text] = match as unknown as string[];
      rows.push({ server: server!, thread, client: client!, arrow: arrow!, text: text! });
    }
  }
  return rows;
}

const UNICODE = '"héllo wörld — 你好 🌍"';

describe('the demo without a terminal (as in CI: pnpm demo </dev/null)', () => {
  let stdout = '';
  let stderr = '';
  let code: number | string = 'not run';
  let rows: Row[] = [];

  beforeAll(async () => {
    const demo = start(process.execPath, [CLI]);
    demo.child.stdin.end();
    code = await demo.exited(90_000);
    stdout = demo.stdout();
    stderr = demo.stderr();
    rows = parseTimeline(stdout);
  }, 100_000);

  afterEach(killChildren);

  const index = (server: string, client: string, arrow: string, text: string): number => {
    const found = rows.findIndex(
      (row) => row.server === server && row.client === client && row.arrow === arrow && row.text.startsWith(text),
    );
    expect(found, `${server} ${client} ${arrow} ${text} in\n${stdout}`).toBeGreaterThanOrEqual(0);
    return found;
  };

  it('plays the scene and exits 0 with nothing on stderr', () => {
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const server of ['seq', 'threaded']) {
      for (const client of ['A', 'B', 'C']) index(server, client, '←', '"BYE"');
    }
  });

  it('R16: on the sequential server B and C wait in line, unanswered until the one before says BYE', () => {
    expect(index('seq', 'B', '…', 'server: waits in line')).toBeGreaterThan(0);
    expect(index('seq', 'C', '…', 'server: waits in line')).toBeGreaterThan(0);
    expect(index('seq', 'B', '←', '"hello from B')).toBeGreaterThan(index('seq', 'A', '→', '"BYE"'));
    expect(index('seq', 'C', '←', '"hello from C over IPv4"')).toBeGreaterThan(index('seq', 'B', '→', '"BYE"'));
    // B's turn begins only once A has said BYE.
    expect(index('seq', 'B', '»', 'server: Connected by')).toBeGreaterThan(index('seq', 'A', '→', '"BYE"'));
    expect(rows.filter((row) => row.server === 'seq' && row.arrow === '←').every((row) => row.thread === 'main')).toBe(true);
    expect(stdout).toMatch(/B waited +\d+ ms for its first reply: until A said BYE/);
    expect(stdout).toMatch(/C waited +\d+ ms for its first reply: until B said BYE/);
  });

  it('on the threaded server all three are answered while A still talks, each by a named thread', () => {
    const aSaysBye = index('threaded', 'A', '→', '"BYE"');
    const aSaysUnicode = index('threaded', 'A', '→', UNICODE);
    for (const client of ['B', 'C']) {
      const firstReply = index('threaded', client, '←', `"hello from ${client} over`);
      expect(firstReply).toBeLessThan(aSaysUnicode);
      expect(firstReply).toBeLessThan(aSaysBye);
    }
    const replies = rows.filter((row) => row.server === 'threaded' && row.arrow === '←');
    expect(replies.length).toBeGreaterThanOrEqual(7);
    for (const row of replies) expect(row.thread).toMatch(/^thread \d+$/);
    expect(rows.some((row) => row.server === 'threaded' && row.arrow === '…')).toBe(false);
    expect(stdout).toMatch(/B waited +\d+ ms for its first reply: answered at once by thread \d+/);
    expect(stdout).toMatch(/mechanism '(transfer|reuse-port|main-thread-io)'/);
  });

  it('R2: a non-ASCII line (2-, 3- and 4-byte characters) comes back intact from both servers', () => {
    for (const server of ['seq', 'threaded']) {
      expect(rows[index(server, 'A', '←', UNICODE)]?.text).toBe(UNICODE);
      expect(rows[index(server, 'B', '←', UNICODE)]?.text).toBe(UNICODE);
    }
  });

  it('R1: B talks over IPv6 (::1), or says why it cannot', () => {
    const overIpv6 = stdout.includes('"hello from B over IPv6"');
    if (overIpv6) expect(stdout).toMatch(/B ::1 +» {2}server: Connected by \[::1\]:\d+/);
    else expect(stdout).toMatch(/no IPv6 here \(.+\): B uses IPv4 instead/);
  });
});
