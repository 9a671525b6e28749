import { describe, expect, it } from 'vitest';
import { checkOption, formatOptionsHelp, parseByteSize, parseCommandLine, parseDuration, resolveOptions } from './options.js';

const TABLE = {
  lineTimeout: { kind: 'duration', flag: 'line-timeout', default: 30_000, help: 'line deadline' },
  maxLineLength: { kind: 'bytes', flag: 'max-line-length', min: 1, default: 65_536, help: 'longest line' },
  port: { kind: 'count', flag: 'port', short: 'p', min: 0, max: 65535, default: 2000, help: 'TCP port' },
  noDelay: { kind: 'switch', flag: 'nagle', negated: true, default: true, help: "keep Nagle's algorithm" },
  invalidUtf8: { kind: 'choice', flag: 'invalid-utf8', choices: ['error', 'replace'], default: 'error', help: 'policy' },
  backlog: { kind: 'count', flag: 'backlog', min: 1, help: 'queue' },
  secret: { kind: 'text', help: 'library only, no flag' },
} as const;

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

describe('resolveOptions and checkOption (the library side of the table)', () => {
  it('fills in the defaults, and leaves options without one undefined', () => {
    expect(resolveOptions(TABLE, {})).toEqual({
      lineTimeout: 30_000,
      maxLineLength: 65_536,
      port: 2000,
      noDelay: true,
      invalidUtf8: 'error',
      backlog: undefined,
      secret: undefined,
    });
  });

  it.each([
    ['lineTimeout', -1],
    ['lineTimeout', 1.5],
    ['lineTimeout', '30s'],
    ['maxLineLength', 0],
    ['port', 65536],
    ['noDelay', 'yes'],
    ['invalidUtf8', 'ignore'],
    ['secret', ''],
  ])('rejects %s = %o with COMM_INVALID_OPTION, naming the option', (name, value) => {
    expect(() => resolveOptions(TABLE, { [name]: value })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    expect(() => checkOption(name, TABLE[name as keyof typeof TABLE], value)).toThrow(new RegExp(`^${name} must be`));
  });
});

describe('parseCommandLine (the command side of the same table)', () => {
  it('reads each kind: times and sizes with units, counts, switches (negated too), choices', () => {
    const parsed = parseCommandLine(TABLE, [
      '--line-timeout',
      '2s',
      '--max-line-length=1KiB',
      '-p',
      '0',
      '--nagle',
      '--invalid-utf8',
      'replace',
    ]);
    expect(parsed.options).toEqual({ lineTimeout: 2000, maxLineLength: 1024, port: 0, noDelay: false, invalidUtf8: 'replace' });
    expect(parsed.help).toBe(false);
  });

  it('knows -h/--help and -v/--version in every command', () => {
    expect(parseCommandLine(TABLE, ['-h', '--port', 'nonsense']).help).toBe(true);
    expect(parseCommandLine(TABLE, ['-v']).version).toBe(true);
    expect(parseCommandLine(TABLE, ['--version']).version).toBe(true);
  });

  it('gives positionals up to the limit', () => {
    expect(parseCommandLine(TABLE, ['host', '2000'], { maxPositionals: 2 }).positionals).toEqual(['host', '2000']);
  });

  it.each([
    [['--bogus']],
    [['--port', 'abc']],
    [['--port']],
    [['--line-timeout', '5 parsecs']],
    [['--max-line-length', '-1']],
    [['--invalid-utf8', 'ignore']],
    [['--secret', 'x']],
    [['positional']],
  ])('rejects %o with COMM_INVALID_OPTION', (argv) => {
    expect(() => parseCommandLine(TABLE, argv)).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });

  it('names the flag and what it expects', () => {
    expect(() => parseCommandLine(TABLE, ['--max-line-length', 'lots'])).toThrow(
      '--max-line-length expects a size like 65536, 64KiB or 1MiB, got "lots"',
    );
    expect(() => parseCommandLine(TABLE, ['--line-timeout', 'soon'])).toThrow(
      '--line-timeout expects a time like 500, 500ms, 30s or 5m, got "soon"',
    );
  });
});

describe('formatOptionsHelp', () => {
  it('has a row per flag with its default in units, then --help and --version', () => {
    const help = formatOptionsHelp(TABLE);
    expect(help).toMatch(/--line-timeout <time>\s+line deadline \(default 30s\)/);
    expect(help).toMatch(/--max-line-length <bytes>\s+longest line \(default 64KiB\)/);
    expect(help).toMatch(/-p, --port <n>\s+TCP port \(default 2000\)/);
    expect(help).toMatch(/--invalid-utf8 <error\|replace>/);
    expect(help).toMatch(/-h, --help/);
    expect(help).toMatch(/-v, --version/);
    expect(help).not.toContain('secret');
  });
});
