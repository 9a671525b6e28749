import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './args.js';

describe('parseCommandLine', () => {
  it('takes HOST and an optional PORT, 2000 by default', () => {
    expect(parseCommandLine(['example.com'])).toEqual({
      action: 'run',
      host: 'example.com',
      port: 2000,
      family: 0,
      timeout: undefined,
      maxLineLength: 65536,
    });
    expect(parseCommandLine(['::1', '2001'])).toMatchObject({ host: '::1', port: 2001 });
  });

  it('reads -4, -6, --timeout and --max-line-length in the units of every comm command', () => {
    expect(parseCommandLine(['-4', 'h'])).toMatchObject({ family: 4 });
    expect(parseCommandLine(['--ipv6', 'h'])).toMatchObject({ family: 6 });
    expect(parseCommandLine(['--timeout', '1500ms', 'h'])).toMatchObject({ timeout: 1500 });
    expect(parseCommandLine(['--timeout', '2s', 'h'])).toMatchObject({ timeout: 2000 });
    expect(parseCommandLine(['--timeout', '1', 'h'])).toMatchObject({ timeout: 1 });
    expect(parseCommandLine(['--max-line-length', '10', 'h'])).toMatchObject({ maxLineLength: 10 });
    expect(parseCommandLine(['--max-line-length', '1KiB', 'h'])).toMatchObject({ maxLineLength: 1024 });
  });

  it('answers --help and --version before anything else', () => {
    expect(parseCommandLine(['--help', 'h', 'x'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['-v'])).toEqual({ action: 'version' });
    expect(parseCommandLine(['--version'])).toEqual({ action: 'version' });
  });

  it.each([
    [[], /missing HOST/],
    [['h', '1', '2'], /too many arguments/],
    [['h', '0'], /PORT must be/],
    [['h', '65536'], /PORT must be/],
    [['h', '20x'], /PORT must be/],
    [['-4', '-6', 'h'], /cannot be used together/],
    [['--timeout', '0', 'h'], /--timeout must be a whole number of milliseconds >= 1/],
    [['--timeout', '1.5', 'h'], /--timeout expects a time/],
    [['--timeout', 'soon', 'h'], /--timeout/],
    [['--max-line-length', '1.5', 'h'], /--max-line-length expects a size/],
    [['--bogus', 'h'], /bogus/],
  ])('refuses %j as a usage error', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(message) }),
    );
  });
});
