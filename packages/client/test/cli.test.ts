import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from '../src/command.js';
import { CLI, cleanUp, runCli, startNodeEcho, startPeer, startRecordingServer, startSocatEcho } from './helpers.js';

afterEach(cleanUp);

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('comm: usage', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: comm \[options\] HOST \[PORT\]/);
    expect(result.stdout).toMatch(/-4, --ipv4/);
    // Every exit status the command can return is named in the usage.
    for (const status of [EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE]) {
      expect(result.stdout).toMatch(new RegExp(`Exit status:[^]*\\b${status} `));
    }
    expect(result.stderr).toBe('');
  });

  it('--version prints the package version and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it.each([
    [[], 'missing HOST'],
    [['localhost', 'http'], "PORT must be a number from 1 to 65535, got 'http'"],
    [['-4', '-6', 'localhost'], '-4 and -6 cannot be used together'],
    [['--nope', 'localhost'], "Unknown option '--nope'"],
    [['-4', '::1'], 'family 4 was asked but ::1 is an IPv6 address'],
    [['[localhost]'], "only an IPv6 address goes in brackets, got '[localhost]'"],
  ])('wrong usage %j exits 2 with a message on stderr and nothing on stdout', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`comm: ${message}`);
    expect(result.stderr).toMatch(/Try 'comm --help'/);
  });
});

describe('comm: connection errors exit 1 with one line on stderr naming the address', () => {
  it('refused port', async () => {
    const echo = await startNodeEcho('::1');
    await echo.stop();
    const result = await runCli(['::1', String(echo.port)], 'hello\n');
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `comm: connection refused: [::1]:${echo.port}\n` });
  });

  it('unknown host', async () => {
    const result = await runCli(['no-such-host.invalid', '2000'], 'hello\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^comm: host not found: no-such-host\.invalid:2000 \(\w+\)\n$/);
  });

  it('-6 with a name that has no IPv6 address', async () => {
    const echo = await startNodeEcho('::1');
    const result = await runCli(['-6', 'localhost', String(echo.port)], 'x\n');
    // /etc/hosts here maps localhost to 127.0.0.1 only; elsewhere it may reach ::1 and succeed.
    if (result.code === 0) return expect(result.stdout).toBe('x\n');
    expect(result).toMatchObject({ code: 1, stderr: `comm: host not found: localhost:${echo.port} (no IPv6 address)\n` });
  });

  it('a server that never answers, with --timeout', async () => {
    const peer = await startPeer('silent', '127.0.0.1');
    const result = await runCli(['--timeout', '300ms', '127.0.0.1', String(peer.port)], 'anyone?\n');
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `comm: timed out: no reply within 300 ms from 127.0.0.1:${peer.port}\n`,
    });
  });

  it('a server that closes mid-reply: the replies before are printed, then the error', async () => {
    const peer = await startPeer('cut', '127.0.0.1');
    const result = await runCli(['127.0.0.1', String(peer.port)], 'one\ntwo\nthree\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('one\n');
    expect(result.stderr).toMatch(
      new RegExp(
        `^comm: connection lost: 127\\.0\\.0\\.1:${peer.port} \\(the server closed the connection in the middle of a reply`,
      ),
    );
    expect(result.stderr.split('\n')).toHaveLength(2);
  });

  it('R8: a reply with invalid UTF-8 is a protocol error', async () => {
    const peer = await startPeer('bad-utf8', '::1');
    const result = await runCli(['::1', String(peer.port)], 'fine\nbad\nnever\n');
    expect(result).toMatchObject({ code: 1, stdout: 'fine\n', stderr: `comm: invalid utf-8 in reply from [::1]:${peer.port}\n` });
  });

  it('R7: a reply line over --max-line-length is a protocol error', async () => {
    const peer = await startPeer('split', '127.0.0.1');
    const result = await runCli(['--max-line-length', '10', '127.0.0.1', String(peer.port)], 'short\n');
    expect(result.code).toBe(0);
    const long = await runCli(['--max-line-length', '10', '127.0.0.1', String(peer.port)], `short\n${'x'.repeat(11)}\n`);
    // The input line is over the limit too; the client refuses to send it.
    expect(long).toMatchObject({ code: 1, stdout: 'short\n', stderr: 'comm: input line 2: line too long: more than 10 bytes\n' });
  });

  it('an input line that is not UTF-8 is named by its number', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const result = await runCli(['127.0.0.1', String(peer.port)], Buffer.from('ok\n\xff\xfe\nnext\n', 'latin1'));
    expect(result).toMatchObject({ code: 1, stdout: 'ok\n', stderr: 'comm: input line 2: invalid utf-8 in line\n' });
  });
});

describe('comm: a filter when stdin is a pipe or a file', () => {
  it('R9: one reply line per input line, in order, nothing else on stdout; replies split at random bytes', async () => {
    const peer = await startPeer('split', '127.0.0.1');
    const lines = Array.from({ length: 3000 }, (_, index) => (index % 100 === 3 ? '' : `${index} héllo 😀 𝄞 €`));
    const result = await runCli(['127.0.0.1', String(peer.port)], `${lines.join('\n')}\n`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`${lines.join('\n')}\n`);
  });

  it('R3: CRLF input lines are sent without the CR; a last line without LF is sent too', async () => {
    const server = await startRecordingServer();
    const result = await runCli(['127.0.0.1', String(server.port)], 'dos\r\nline\r\nlast');
    expect(result).toMatchObject({ code: 0, stdout: 'dos\nline\nlast\n', stderr: '' });
    expect(server.received).toEqual(['dos', 'line', 'last', 'BYE']);
  });

  it('R10: a line BYE ends the session: no reply printed for it, later lines not sent, exit 0', async () => {
    const server = await startRecordingServer();
    const result = await runCli(['127.0.0.1', String(server.port)], 'one\ntwo\nBYE\nthree\nfour\n');
    expect(result).toMatchObject({ code: 0, stdout: 'one\ntwo\n', stderr: '' });
    expect(server.received).toEqual(['one', 'two', 'BYE']);
  });

  it('R10: a BYE line ends the session even while stdin stays open', async () => {
    const server = await startRecordingServer();
    const child = spawn(process.execPath, [CLI, '127.0.0.1', String(server.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.write('one\nBYE\n');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(stdout).toBe('one\n');
  });

  it('end of input waits for every reply owed, closes with BYE and exits 0', async () => {
    const server = await startRecordingServer();
    const result = await runCli(['127.0.0.1', String(server.port)], 'a\nb\nc\n');
    expect(result).toMatchObject({ code: 0, stdout: 'a\nb\nc\n', stderr: '' });
    expect(server.received).toEqual(['a', 'b', 'c', 'BYE']);
  });

  it('empty input: nothing on stdout, exit 0', async () => {
    const server = await startRecordingServer();
    const result = await runCli(['127.0.0.1', String(server.port)], '');
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(server.received).toEqual(['BYE']);
  });

  it('reads a file given as stdin, over IPv6 [::1] in brackets, through socat', async () => {
    const peer = await startSocatEcho('::1');
    const dir = mkdtempSync(join(tmpdir(), 'comm-cli-'));
    try {
      const file = join(dir, 'input.txt');
      writeFileSync(file, 'from a file\nñandú 🦆\n');
      const fd = openSync(file, 'r');
      try {
        const child = spawn(process.execPath, [CLI, '[::1]', String(peer.port)], { stdio: [fd, 'pipe', 'pipe'] });
        let stdout = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
        expect(code).toBe(0);
        expect(stdout).toBe('from a file\nñandú 🦆\n');
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams: 1,000,000 lines pass through a fast echo, every reply in order (bounded: killed after 120 s)', async () => {
    const echo = await startNodeEcho('127.0.0.1');
    const count = 1_000_000;
    const lines: string[] = new Array(count);
    for (let index = 0; index < count; index++) lines[index] = `${index} 😀`;
    const input = `${lines.join('\n')}\n`;
    const result = await runCli(['127.0.0.1', String(echo.port)], input, 120_000);
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(input.length);
    expect(result.stdout === input).toBe(true);
  }, 150_000);

  it('a slow reader of stdout slows it down without losing a line or missing a drain', async () => {
    // An echo in another process, so replies come in bursts with pauses between them.
    const echo = await startSocatEcho('127.0.0.1');
    const lines = Array.from({ length: 1_000_000 }, (_, index) => `${String(index).padStart(12, '0')} ${'x'.repeat(50)}`);
    const input = `${lines.join('\n')}\n`;
    const child = spawn(process.execPath, [CLI, '127.0.0.1', String(echo.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    // It takes seconds; a missed 'drain' hangs it for good, which the limit turns into a failure.
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const chunks: Buffer[] = [];
    let seen = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Now and then the reader looks away for a moment, so the pipe fills and drains often.
      if (++seen % 64 === 0) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 2);
      }
    });
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    clearTimeout(limit);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8') === input).toBe(true);
  }, 90_000);

  it('stops quietly with status 141 when the reader of stdout goes away (comm ... | head -1)', async () => {
    const echo = await startNodeEcho('127.0.0.1');
    const input = Array.from({ length: 500_000 }, (_, index) => `line ${index}\n`).join('');
    const child = spawn(process.execPath, [CLI, '127.0.0.1', String(echo.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.stdout.once('data', () => child.stdout.destroy());
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(limit);
    expect(code).toBe(141);
    expect(stderr).toBe('');
  });

  it('turns Nagle off (TCP_NODELAY) by default, seen with strace', async (context) => {
    const probe = spawnSync('strace', ['-f', '-e', 'trace=none', 'true']);
    if (probe.status !== 0) context.skip('strace is missing or may not trace here, so socket options cannot be seen');
    const echo = await startNodeEcho('127.0.0.1');
    const result = await runCli(['127.0.0.1', String(echo.port)], 'x\n', 60_000, [
      'strace',
      '-f',
      '-e',
      'trace=setsockopt',
      process.execPath,
      CLI,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('x\n');
    expect(result.stderr).toMatch(/setsockopt\(\d+, SOL_TCP, TCP_NODELAY, \[1\], 4\) = 0/);
  });
});
