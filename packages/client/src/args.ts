import { parseArgs } from 'node:util';
import { DEFAULT_MAX_LINE_LENGTH, DEFAULT_PORT } from '@comm/protocol';

/** The command line was wrong: the command prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What the command line asks for. */
export type Invocation =
  | { action: 'help' }
  | { action: 'version' }
  | {
      action: 'run';
      host: string;
      port: number;
      family: 0 | 4 | 6;
      /** Milliseconds for the connect and for each reply; undefined keeps the defaults. */
      timeout: number | undefined;
      maxLineLength: number;
    };

export const USAGE = `Usage: comm [options] HOST [PORT]

Sends lines to a comm server and prints its replies (port ${DEFAULT_PORT} by default).
On a terminal it prompts "Enter line:" and prints each reply; BYE ends the session.
With input from a pipe or a file it is a filter: one reply line on stdout per input line,
in order; a line BYE ends the session.

HOST is a host name, an IPv4 address, an IPv6 address ([::1] or ::1), or a link-local
IPv6 address with its interface (fe80::1%eth0).

Options:
  -4, --ipv4                 use IPv4 only
  -6, --ipv6                 use IPv6 only
  -t, --timeout SECONDS      limit for the connect and for each reply (default: connect 10 s, replies none)
      --max-line-length N    longest line in bytes, both ways (default ${DEFAULT_MAX_LINE_LENGTH})
  -h, --help                 show this help
  -V, --version              show the version

Exit status: 0 success, 1 connection or protocol error, 2 wrong usage,
130 Ctrl-C on a terminal, 141 stdout closed by its reader (as SIGPIPE).
`;

function positiveNumber(text: string, name: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${name} must be a positive number, got '${text}'`);
  }
  return value;
}

/**
 * Reads the command line `comm [options] HOST [PORT]`.
 *
 * @throws {UsageError} for unknown options, a missing host or a bad port.
 * @example
 * ```ts
 * parseCommandLine(['-6', '::1', '2000']); // { action: 'run', host: '::1', port: 2000, family: 6, ... }
 * ```
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ipv4: { type: 'boolean', short: '4' },
        ipv6: { type: 'boolean', short: '6' },
        timeout: { type: 'string', short: 't' },
        'max-line-length': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { action: 'help' };
  if (values.version) return { action: 'version' };
  if (values.ipv4 && values.ipv6) throw new UsageError('-4 and -6 cannot be used together');
  if (positionals.length === 0) throw new UsageError('missing HOST');
  if (positionals.length > 2) throw new UsageError(`too many arguments: ${positionals.slice(2).join(' ')}`);
  const [host, portText] = positionals as [string, string | undefined];
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw new UsageError(`PORT must be a number from 1 to 65535, got '${portText}'`);
    }
  }
  const timeout =
    values.timeout === undefined ? undefined : Math.ceil(positiveNumber(values.timeout, '--timeout') * 1000);
  const maxText = values['max-line-length'];
  let maxLineLength = DEFAULT_MAX_LINE_LENGTH;
  if (maxText !== undefined) {
    maxLineLength = positiveNumber(maxText, '--max-line-length');
    if (!Number.isSafeInteger(maxLineLength)) throw new UsageError(`--max-line-length must be a whole number, got '${maxText}'`);
  }
  return {
    action: 'run',
    host,
    port,
    family: values.ipv4 ? 4 : values.ipv6 ? 6 : 0,
    timeout,
    maxLineLength,
  };
}
