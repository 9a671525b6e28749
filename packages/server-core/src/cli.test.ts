import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDuration, parseServerArgs, serverUsage } from './cli.js';

describe('parseServerArgs', () => {
  it('gives no options for no flags, so every default comes from the server', () => {
    expect(parseServerArgs([])).toEqual({ kind: 'run', options: {}, extra: {}, quiet: false });
  });

  it('maps every shared flag to its option by name', () => {
    const parsed = parseServerArgs([
      '--port', '0', '--host', '::1', '--ipv6-only', '--backlog', '64', '--nagle', '--keep-alive',
      '--keep-alive-delay', '10s', '--max-line-length', '1KiB', '--invalid-utf8', 'replace',
      '--line-timeout', '2s', '--idle-timeout', '0', '--max-pending-reply-bytes', '2MiB', '-q',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      quiet: true,
      extra: {},
      options: {
        port: 0, host: '::1', ipv6Only: true, backlog: 64, noDelay: false, keepAlive: true,
        keepAliveInitialDelay: 10_000, maxLineLength: 1024, invalidUtf8: 'replace',
        lineTimeout: 2000, idleTimeout: 0, maxPendingReplyBytes: 2 * 1024 * 1024,
      },
    });
  });

  it('passes the values of a server\'s own flags through', () => {
    const parsed = parseServerArgs(['--max-waiting', '5'], { 'max-waiting': { type: 'string', description: 'x' } });
    expect(parsed).toMatchObject({ kind: 'run', extra: { 'max-waiting': '5' } });
  });

  it('knows --help, -h, --version and -v', () => {
    expect(parseServerArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseServerArgs(['-h', '--port', 'nonsense'])).toEqual({ kind: 'help' });
    expect(parseServerArgs(['-v'])).toEqual({ kind: 'version' });
  });

  it.each([
    [['--bogus']],
    [['--port', 'abc']],
    [['--port']],
    [['--line-timeout', '5 parsecs']],
    [['--max-line-length', '-1']],
    [['--invalid-utf8', 'ignore']],
    [['positional']],
  ])('rejects %o with COMM_INVALID_OPTION', (argv) => {
    expect(() => parseServerArgs(argv)).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });
});

describe('quantities', () => {
  it('reads sizes in bytes, KiB, MiB and GiB', () => {
    expect(parseByteSize('65536')).toBe(65536);
    expect(parseByteSize('64KiB')).toBe(65536);
    expect(parseByteSize('64k')).toBe(65536);
    expect(parseByteSize('1MiB')).toBe(1048576);
    expect(parseByteSize('1GiB')).toBe(1024 ** 3);
  });

  it('reads times in ms, s, m and h', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
  });
});

describe('serverUsage', () => {
  it('lists the shared flags and the server\'s own', () => {
    const usage = serverUsage({
      name: 'comm-x',
      summary: 'a test server',
      extraOptions: { threads: { type: 'string', valueName: '<n>', description: 'worker threads' } },
    });
    expect(usage).toContain('Usage: comm-x [options]');
    for (const flag of ['--port', '--host', '--max-line-length', '--line-timeout', '--idle-timeout', '--help', '--version', '--threads <n>']) {
      expect(usage).toContain(flag);
    }
  });
});
