import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { start } from '@comm/test-helpers';
import { CLI, cleanUp, startPeer, startRecordingServer } from './helpers.js';

/**
 * `comm` on a real pseudo-terminal: util-linux `script` runs it with a pty as its stdin and
 * stdout and forwards our pipe to it (and its end as Ctrl-D). `-e` passes the exit status on.
 */
const scriptWorks = spawnSync('script', ['-qec', 'true', '/dev/null']).status === 0;

interface TtySession {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves once the terminal output contains `text` for the `times`-th time. */
  waitFor(text: string, times?: number): Promise<void>;
  exit: Promise<number | null>;
}

afterEach(cleanUp);

function startTty(args: string[]): TtySession {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
  // What the terminal shows (comm's stderr included) is what script writes to its stdout.
  const run = start('script', ['-qec', command, '/dev/null']);
  const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    child: run.child,
    output: () => run.stdout() + run.stderr(),
    exit: run.ended().then(({ code }) => code),
    async waitFor(needle, times = 1) {
      await run.waitFor(new RegExp(`(?:[^]*?${literal(needle)}){${times}}`));
    },
  };
}

describe.skipIf(!scriptWorks)('comm on a terminal (pseudo-terminal through script)', () => {
  it('prompts "Enter line:", prints each reply, and BYE ends the session cleanly', async () => {
    const server = await startRecordingServer();
    const session = startTty(['127.0.0.1', String(server.port)]);
    await session.waitFor('Enter line: ');
    session.child.stdin.write('héllo 😀 𝄞\n');
    // The terminal echoes the typed line; the reply is the server's copy after it.
    await session.waitFor('héllo 😀 𝄞', 2);
    await session.waitFor('Enter line: ', 2);
    session.child.stdin.write('BYE\n');
    expect(await session.exit).toBe(0);
    expect(server.received).toEqual(['héllo 😀 𝄞', 'BYE']);
    // BYE's reply is not printed: the line typed is echoed once, and nothing follows it.
    expect(session.output().split('BYE')).toHaveLength(2);
  });

  it('prints the reply, not the echo: a server that answers differently shows its answer', async () => {
    const peer = await startPeer('prefix', '::1');
    const session = startTty(['::1', String(peer.port)]);
    await session.waitFor('Enter line: ');
    session.child.stdin.write('ping\n');
    await session.waitFor('got ping');
    session.child.stdin.end();
    // End of input (Ctrl-D) ends cleanly too.
    expect(await session.exit).toBe(0);
  });

  it('Ctrl-C leaves at once with status 130', async () => {
    const peer = await startPeer('silent', '127.0.0.1');
    const session = startTty(['127.0.0.1', String(peer.port)]);
    await session.waitFor('Enter line: ');
    session.child.stdin.write('no answer will come\n');
    await session.waitFor('no answer will come');
    session.child.stdin.write('\u0003');
    expect(await session.exit).toBe(130);
  });

  it('a connection error exits 1 with the message naming the address', async () => {
    const peer = await startPeer('cut', '127.0.0.1');
    const session = startTty(['127.0.0.1', String(peer.port)]);
    await session.waitFor('Enter line: ');
    session.child.stdin.write('one\n');
    await session.waitFor('one', 2);
    session.child.stdin.write('two\n');
    expect(await session.exit).toBe(1);
    expect(session.output()).toContain(`comm: connection lost: 127.0.0.1:${peer.port}`);
  });
});
