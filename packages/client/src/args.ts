import { DEFAULT_MAX_LINE_LENGTH, DEFAULT_PORT, InvalidOptionError } from '@comm/protocol';
import { formatOptionsHelp, parseCommandLine as parseFlags } from '@comm/protocol/options';

/** The command line was wrong: the command prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The options of `comm`, in the dialect every comm command shares (`@comm/protocol/options`). */
const CLIENT_OPTIONS = {
  ipv4: { kind: 'switch', flag: 'ipv4', short: '4', default: false, help: 'use IPv4 only' },
  ipv6: { kind: 'switch', flag: 'ipv6', short: '6', default: false, help: 'use IPv6 only' },
  timeout: {
    kind: 'duration',
    flag: 'timeout',
    min: 1,
    help: 'limit for the connect and for each reply, e.g. 500ms or 10s (default: connect 10s, replies none)',
  },
  tls: {
    kind: 'switch',
    flag: 'tls',
    default: false,
    help: 'TLS from the first byte, the server verified against the system CAs',
  },
  tlsCa: { kind: 'text', flag: 'tls-ca', valueName: '<file>', help: 'with --tls: trust the CA certificate(s) in this PEM file' },
  tlsCert: {
    kind: 'text',
    flag: 'tls-cert',
    valueName: '<file>',
    help: 'with --tls: a client certificate (PEM), with --tls-key',
  },
  tlsKey: { kind: 'text', flag: 'tls-key', valueName: '<file>', help: "with --tls: the client certificate's key (PEM)" },
  tlsServername: {
    kind: 'text',
    flag: 'tls-servername',
    valueName: '<name>',
    help: 'with --tls: the name to verify (default: HOST)',
  },
  tlsInsecure: {
    kind: 'switch',
    flag: 'tls-insecure',
    default: false,
    help: 'with --tls: do not verify the server (tests only)',
  },
  maxLineLength: {
    kind: 'bytes',
    flag: 'max-line-length',
    min: 1,
    default: DEFAULT_MAX_LINE_LENGTH,
    help: 'longest line, both ways, e.g. 65536 or 64KiB',
  },
} as const;

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
      /** TLS as the flags ask (files not read yet), or `undefined` for plain TCP. */
      tls: TlsFlags | undefined;
    };

/** The `--tls*` flags, file names as given. */
export interface TlsFlags {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  servername: string | undefined;
  insecure: boolean;
}

export const USAGE = `Usage: comm [options] HOST [PORT]

Sends lines to a comm server and prints its replies (port ${DEFAULT_PORT} by default).
On a terminal it prompts "Enter line:" and prints each reply; BYE ends the session.
With input from a pipe or a file it is a filter: one reply line on stdout per input line,
in order; a line BYE ends the session.

HOST is a host name, an IPv4 address, an IPv6 address ([::1] or ::1), or a link-local
IPv6 address with its interface (fe80::1%eth0).

Options:
${formatOptionsHelp(CLIENT_OPTIONS)}
Exit status: 0 success, 1 connection or protocol error, 2 wrong usage,
130 Ctrl-C on a terminal, 141 stdout closed by its reader (as SIGPIPE).
`;

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
  let parsed: ReturnType<typeof parseFlags<typeof CLIENT_OPTIONS>>;
  try {
    parsed = parseFlags(CLIENT_OPTIONS, argv, { maxPositionals: 2 });
  } catch (error) {
    if (error instanceof InvalidOptionError)
      throw new UsageError(error.message.replace(/^unexpected arguments?/, 'too many arguments'));
    throw error;
  }
  const { options, positionals } = parsed;
  if (parsed.help) return { action: 'help' };
  if (parsed.version) return { action: 'version' };
  if (options.ipv4 && options.ipv6) throw new UsageError('-4 and -6 cannot be used together');
  const tlsFlag = ['tlsCa', 'tlsCert', 'tlsKey', 'tlsServername', 'tlsInsecure'].find(
    (name) => options[name as keyof typeof options] !== undefined && options[name as keyof typeof options] !== false,
  );
  if (!options.tls && tlsFlag !== undefined) throw new UsageError(`--${CLIENT_OPTIONS[tlsFlag as 'tlsCa'].flag} needs --tls`);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  if (positionals.length === 0) throw new UsageError('missing HOST');
  const [host, portText] = positionals as [string, string | undefined];
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw new UsageError(`PORT must be a number from 1 to 65535, got '${portText}'`);
    }
  }
  return {
    action: 'run',
    host,
    port,
    family: options.ipv4 ? 4 : options.ipv6 ? 6 : 0,
    timeout: options.timeout,
    maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
    tls: options.tls
      ? {
          ca: options.tlsCa,
          cert: options.tlsCert,
          key: options.tlsKey,
          servername: options.tlsServername,
          insecure: options.tlsInsecure === true,
        }
      : undefined,
  };
}
