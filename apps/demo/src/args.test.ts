import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, parseCommand, UsageError } from './args.js';

describe('parseCommand', () => {
  it('runs the scene with no arguments, and with a lone -- from pnpm', () => {
    expect(parseCommand([])).toEqual({ kind: 'scene' });
    expect(parseCommand(['--'])).toEqual({ kind: 'scene' });
  });

  it('R1: serve defaults to port 2000', () => {
    expect(parseCommand(['serve', '--seq'])).toEqual({
      kind: 'serve',
      server: 'seq',
      port: DEFAULT_PORT,
      host: undefined,
      threads: undefined,
    });
  });

  it('reads serve options after a -- passed along by pnpm', () => {
    expect(parseCommand(['--', 'serve', '--threaded', '--port', '0', '--threads', '2', '--host', '::1'])).toEqual({
      kind: 'serve',
      server: 'threaded',
      port: 0,
      host: '::1',
      threads: 2,
    });
  });

  it('reads client HOST [PORT]', () => {
    expect(parseCommand(['client', '::1'])).toEqual({ kind: 'client', host: '::1', port: 2000 });
    expect(parseCommand(['client', 'localhost', '2001'])).toEqual({ kind: 'client', host: 'localhost', port: 2001 });
  });

  it.each([
    [['serve']],
    [['serve', '--seq', '--threaded']],
    [['serve', '--seq', '--threads', '2']],
    [['serve', '--seq', '--port', 'x']],
    [['serve', '--seq', '--port', '70000']],
    [['serve', '--threaded', '--threads', '0']],
    [['client']],
    [['client', 'h', '1', '2']],
    [['--seq']],
    [['dance']],
    [['--frobnicate']],
  ])('refuses %j as wrong usage', (argv) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
  });
});
