import { describe, expect, it } from 'vitest';
import { parseServerArgs, serverUsage } from './cli.js';

describe('parseServerArgs', () => {
  it('gives no options for no flags, so every default comes from the server', () => {
    expect(parseServerArgs([])).toEqual({ kind: 'run', options: {}, quiet: false });
  });

  it('maps every shared flag to its option by name', () => {
    const parsed = parseServerArgs([
      '--port',
      '0',
      '--host',
      '::1',
      '--ipv6-only',
      '--backlog',
      '64',
      '--nagle',
      '--keep-alive',
      '--keep-alive-delay',
      '10s',
      '--max-line-length',
      '1KiB',
      '--invalid-utf8',
      'replace',
      '--line-timeout',
      '2s',
      '--idle-timeout',
      '0',
      '--max-pending-reply-bytes',
      '2MiB',
      '-q',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      quiet: true,
      options: {
        port: 0,
        host: '::1',
        ipv6Only: true,
        backlog: 64,
        noDelay: false,
        keepAlive: true,
        keepAliveInitialDelay: 10_000,
        maxLineLength: 1024,
        invalidUtf8: 'replace',
        lineTimeout: 2000,
        idleTimeout: 0,
        maxPendingReplyBytes: 2 * 1024 * 1024,
      },
    });
  });

  it("reads a server's own flags by the same table, into its own options", () => {
    const parsed = parseServerArgs(['--max-waiting', '5', '--handler', './upper.mjs'], {
      maxWaiting: { kind: 'count', flag: 'max-waiting', help: 'x' },
    });
    expect(parsed).toMatchObject({ kind: 'run', options: { maxWaiting: 5, handlerModule: './upper.mjs' } });
  });

  it('knows --help, -h, --version and -v', () => {
    expect(parseServerArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseServerArgs(['-h', '--port', 'nonsense'])).toEqual({ kind: 'help' });
    expect(parseServerArgs(['-v'])).toEqual({ kind: 'version' });
  });

  // Every kind's parse errors are tested with the table parser in @comm/protocol/options.
  it.each([[['--bogus']], [['--port', 'abc']], [['--invalid-utf8', 'ignore']], [['positional']]])(
    'rejects %o with COMM_INVALID_OPTION',
    (argv) => {
      expect(() => parseServerArgs(argv)).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    },
  );
});

describe('serverUsage', () => {
  it("lists the shared flags and the server's own", () => {
    const usage = serverUsage({
      name: 'comm-x',
      summary: 'a test server',
      options: { threads: { kind: 'count', flag: 'threads', help: 'worker threads' } },
    });
    expect(usage).toContain('Usage: comm-x [options]');
    for (const flag of [
      '--port',
      '--host',
      '--max-line-length',
      '--line-timeout',
      '--idle-timeout',
      '--help',
      '--version',
      '--threads <n>',
    ]) {
      expect(usage).toContain(flag);
    }
  });
});
