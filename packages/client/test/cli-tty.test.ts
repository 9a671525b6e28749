import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
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

const sessions: TtySession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.child.kill('SIGKILL');
  await cleanUp();
});

function startTty(args: string[]): TtySession {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const count = (needle: string): number => text.split(needle).length - 1;
  const session: TtySession = {
    child,
    output: () => text,
    exit,
    async waitFor(needle, times = 1) {
      while (count(needle) < times) {
        const more = new Promise<void>((resolve) => waiters.push(resolve));
        const ended = await Promise.race([more.then(() => false), exit.then(() => true)]);
        if (ended && count(needle) < times) throw new Error(`comm exited before printing '${needle}' x${times}; output: ${JSON.stringify(text)}`);
      }
    },
  };
  sessions.push(session);
  return session;
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
