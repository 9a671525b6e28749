// The one option table of the comm servers. Each option is written here once, with its name,
// flag, kind, default, range and help; the library's validation, the command-line flags and
// `--help` of both server commands, and the limits handed to worker threads all come from it.
// Adding a limit means adding one entry here (and using it where it acts).
import { DEFAULT_MAX_LINE_LENGTH, DEFAULT_PORT } from '@comm/protocol';
import { resolveOptions, type OptionValues } from '@comm/protocol/options';

/** R13: how long a line may take from its first byte to its LF, by default. */
export const DEFAULT_LINE_TIMEOUT = 30_000;
/** R14: how long a connection may stay silent, by default. */
export const DEFAULT_IDLE_TIMEOUT = 5 * 60_000;
/** R15: how many reply bytes may wait for a client that does not read, by default. */
export const DEFAULT_MAX_PENDING_REPLY_BYTES = 1024 * 1024;
/** How long, after the server's FIN, the peer's last bytes are read and dropped before the socket is destroyed. */
export const DEFAULT_LINGER_TIMEOUT = 2_000;
/** Every address, both families (with `ipv6Only: false`). */
export const DEFAULT_HOST = '::';

const INT32_MAX = 2 ** 31 - 1;

/** Where and how a server listens, and what it sets on each accepted socket. */
export const LISTEN_OPTIONS = {
  /** The TCP port; `0` picks a free one. Default 2000 (R1). */
  port: {
    kind: 'count',
    flag: 'port',
    short: 'p',
    valueName: '<port>',
    min: 0,
    max: 65535,
    default: DEFAULT_PORT,
    help: 'TCP port, 0 for any free one',
  },
  /** The address to listen on. Default `'::'`, dual-stack; `'0.0.0.0'` where the host has no IPv6. */
  host: {
    kind: 'text',
    flag: 'host',
    short: 'H',
    valueName: '<address>',
    default: DEFAULT_HOST,
    help: 'address to listen on (:: is dual-stack; 0.0.0.0 where there is no IPv6)',
  },
  /** Listen on IPv6 only (no IPv4-mapped clients) when `host` is an IPv6 address. Default `false`. */
  ipv6Only: { kind: 'switch', flag: 'ipv6-only', default: false, help: 'with an IPv6 host, refuse IPv4 clients' },
  /** The kernel's queue of connections not yet accepted. Default: Node's (511). */
  backlog: {
    kind: 'count',
    flag: 'backlog',
    min: 1,
    max: INT32_MAX,
    help: "connections the kernel queues before accept (default Node's, 511)",
  },
  /** Disable Nagle's algorithm so each reply batch leaves at once. Default `true`. */
  noDelay: {
    kind: 'switch',
    flag: 'nagle',
    negated: true,
    default: true,
    help: "keep Nagle's algorithm on (by default replies leave at once)",
  },
  /** TCP keep-alive probes on idle connections. Default `false`. */
  keepAlive: { kind: 'switch', flag: 'keep-alive', default: false, help: 'send TCP keep-alive probes on idle connections' },
  /** Milliseconds of idleness before the first keep-alive probe; `0` leaves the system default. */
  keepAliveInitialDelay: {
    kind: 'duration',
    flag: 'keep-alive-delay',
    max: INT32_MAX,
    default: 0,
    help: 'idle time before the first probe, 0 = the system default',
  },
} as const;

/** The limits of every conversation (R7, R8, R13-R15): plain values, so they cross to worker threads as they are. */
export const CONVERSATION_OPTIONS = {
  /** R7: the most bytes in a line, its ending not counted. Default 65,536. */
  maxLineLength: {
    kind: 'bytes',
    flag: 'max-line-length',
    min: 1,
    default: DEFAULT_MAX_LINE_LENGTH,
    help: 'longest line, e.g. 65536 or 64KiB',
  },
  /** R8: `'error'` (default) answers a line with invalid UTF-8 with an error; `'replace'` uses U+FFFD. */
  invalidUtf8: {
    kind: 'choice',
    flag: 'invalid-utf8',
    choices: ['error', 'replace'],
    default: 'error',
    help: 'answer invalid UTF-8 with an error, or replace it with U+FFFD',
  },
  /** R13: milliseconds from a line's first byte to its LF; `0` turns the deadline off. Default 30,000. */
  lineTimeout: {
    kind: 'duration',
    flag: 'line-timeout',
    default: DEFAULT_LINE_TIMEOUT,
    help: 'time for a line to arrive whole, 0 = off',
  },
  /** R14: milliseconds without a byte in or a reply byte out before a quiet close; `0` turns it off. Default 300,000. */
  idleTimeout: {
    kind: 'duration',
    flag: 'idle-timeout',
    default: DEFAULT_IDLE_TIMEOUT,
    help: 'close a silent connection after this, 0 = off',
  },
  /** R15: unsent reply bytes past which the client is not read from until they drain. Default 1 MiB. */
  maxPendingReplyBytes: {
    kind: 'bytes',
    flag: 'max-pending-reply-bytes',
    min: 1,
    default: DEFAULT_MAX_PENDING_REPLY_BYTES,
    help: 'unsent replies past which a client is not read',
  },
  /** Milliseconds to keep reading (and dropping) the peer's bytes after the server's FIN, so the close is not a reset. Default 2,000. */
  lingerTimeout: {
    kind: 'duration',
    flag: 'linger-timeout',
    default: DEFAULT_LINGER_TIMEOUT,
    help: "after the server's FIN, time to drop the client's last bytes before closing, 0 = none",
  },
} as const;

/** Options of the server commands only. */
export const COMMAND_OPTIONS = {
  handler: {
    kind: 'text',
    flag: 'handler',
    valueName: '<module>',
    help: 'module exporting handler(line, connection) and optionally setup(connection) (default: echo)',
  },
  quiet: { kind: 'switch', flag: 'quiet', short: 'q', default: false, help: 'do not print "Connected by ..."' },
} as const;

/** The validated listen part of the server options. */
export type ListenValues = OptionValues<typeof LISTEN_OPTIONS>;

/** The conversation limits as plain values, validated: what crosses to a worker thread. */
export type ConversationLimits = OptionValues<typeof CONVERSATION_OPTIONS>;

/**
 * The limits of a config as plain values, for a worker thread that builds its own config from them.
 *
 * @example
 * ```ts
 * new Worker(url, { workerData: { limits: conversationLimits(config) } });
 * ```
 */
export function conversationLimits(config: Readonly<ConversationLimits>): ConversationLimits {
  return resolveOptions(CONVERSATION_OPTIONS, config);
}
