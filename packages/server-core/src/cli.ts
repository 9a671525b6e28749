import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT, InvalidOptionError, formatEndpoint } from '@comm/protocol';
import type { ServerOptions } from './listen.js';

/** One extra command-line option of a server CLI, beside the shared ones. */
export interface CliOptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** How the value is shown in `--help`, e.g. `<n>`. */
  valueName?: string;
  description: string;
}

/** What a server CLI needs from its server: both comm servers fit. */
export interface CliServer {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'connection', listener: (info: { remoteAddress: string; remotePort: number }) => void): unknown;
}

/** A server CLI: its name, version, and how to build its server from the parsed options. */
export interface ServerCliSpec {
  /** The command name, e.g. `comm-server-seq`. */
  name: string;
  version: string;
  /** One line for `--help`. */
  summary: string;
  /** Options of this server only, by their long name (kebab-case). */
  extraOptions?: Record<string, CliOptionSpec>;
  /** Builds the server; `extra` holds the raw values of `extraOptions`. May throw `InvalidOptionError`. */
  createServer(options: ServerOptions, extra: Record<string, string | boolean | undefined>): CliServer;
}

/** Where a CLI writes, and how it learns of signals; the process by default. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  onSignal: (signal: 'SIGINT' | 'SIGTERM', listener: () => void) => void;
}

/** The result of parsing a server command line. */
export type ParsedServerArgs =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: ServerOptions; extra: Record<string, string | boolean | undefined>; quiet: boolean };

const SHARED_OPTIONS: Record<string, CliOptionSpec> = {
  port: { type: 'string', short: 'p', valueName: '<port>', description: `TCP port, 0 for any free one (default ${DEFAULT_PORT})` },
  host: {
    type: 'string',
    short: 'H',
    valueName: '<address>',
    description: 'address to listen on (default ::, dual-stack; 0.0.0.0 where there is no IPv6)',
  },
  'ipv6-only': { type: 'boolean', description: 'with an IPv6 host, refuse IPv4 clients' },
  backlog: { type: 'string', valueName: '<n>', description: 'queue of connections the kernel holds before accept' },
  nagle: { type: 'boolean', description: "keep Nagle's algorithm on (by default replies leave at once)" },
  'keep-alive': { type: 'boolean', description: 'send TCP keep-alive probes on idle connections' },
  'keep-alive-delay': { type: 'string', valueName: '<time>', description: 'idle time before the first probe' },
  'max-line-length': { type: 'string', valueName: '<bytes>', description: 'longest line, e.g. 65536 or 64KiB (default 64KiB)' },
  'invalid-utf8': { type: 'string', valueName: '<error|replace>', description: 'answer invalid UTF-8 with an error (default) or replace it' },
  'line-timeout': { type: 'string', valueName: '<time>', description: 'time for a line to arrive whole, 0 = off (default 30s)' },
  'idle-timeout': { type: 'string', valueName: '<time>', description: 'close a silent connection after this, 0 = off (default 5m)' },
  'max-pending-reply-bytes': {
    type: 'string',
    valueName: '<bytes>',
    description: 'unsent replies past which a client is not read (default 1MiB)',
  },
  quiet: { type: 'boolean', short: 'q', description: 'do not print "Connected by ..."' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'v', description: 'show the version' },
};

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };
const TIME_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseQuantity(text: string, units: Record<string, number>, flagName: string, example: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? units[(match[2] as string).toLowerCase()] : undefined;
  const value = match && unit !== undefined ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new InvalidOptionError(`--${flagName} expects ${example}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** `'64KiB'` → 65536; a bare number is bytes. */
export function parseByteSize(text: string, flagName = 'size'): number {
  return parseQuantity(text, SIZE_UNITS, flagName, 'a size like 65536, 64KiB or 1MiB');
}

/** `'30s'` → 30000; a bare number is milliseconds. */
export function parseDuration(text: string, flagName = 'time'): number {
  return parseQuantity(text, TIME_UNITS, flagName, 'a time like 500, 500ms, 30s or 5m');
}

function parseWhole(text: string, flagName: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidOptionError(`--${flagName} expects a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The `--help` text of a server CLI. */
export function serverUsage(spec: Pick<ServerCliSpec, 'name' | 'summary' | 'extraOptions'>): string {
  const all = { ...SHARED_OPTIONS, ...spec.extraOptions };
  const rows = Object.entries(all).map(([name, option]) => {
    const flags = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.valueName ? ` ${option.valueName}` : ''}`;
    return `  ${flags.padEnd(38)} ${option.description}`;
  });
  return `${spec.name}: ${spec.summary}\n\nUsage: ${spec.name} [options]\n\nOptions:\n${rows.join('\n')}\n\nTimes take ms, s, m or h (a bare number is ms); sizes take KiB, MiB or GiB.\n`;
}

/**
 * Parses the options every comm server CLI shares, plus the server's own.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for an unknown flag or a bad value.
 * @example
 * ```ts
 * parseServerArgs(['--port', '0', '--line-timeout', '10s']);
 * // { kind: 'run', options: { port: 0, lineTimeout: 10000 }, extra: {}, quiet: false }
 * ```
 */
export function parseServerArgs(argv: readonly string[], extraOptions: Record<string, CliOptionSpec> = {}): ParsedServerArgs {
  const specs = { ...SHARED_OPTIONS, ...extraOptions };
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(specs).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
      ),
      strict: true,
      allowPositionals: false,
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new InvalidOptionError((error as Error).message.split('\n')[0] as string);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const options: ServerOptions = {};
  const text = (name: string): string | undefined => values[name] as string | undefined;
  if (text('port') !== undefined) options.port = parseWhole(text('port') as string, 'port');
  if (text('host') !== undefined) options.host = text('host');
  if (values['ipv6-only']) options.ipv6Only = true;
  if (text('backlog') !== undefined) options.backlog = parseWhole(text('backlog') as string, 'backlog');
  if (values.nagle) options.noDelay = false;
  if (values['keep-alive']) options.keepAlive = true;
  const keepAliveDelay = text('keep-alive-delay');
  if (keepAliveDelay !== undefined) options.keepAliveInitialDelay = parseDuration(keepAliveDelay, 'keep-alive-delay');
  const maxLine = text('max-line-length');
  if (maxLine !== undefined) options.maxLineLength = parseByteSize(maxLine, 'max-line-length');
  const invalidUtf8 = text('invalid-utf8');
  if (invalidUtf8 !== undefined) {
    if (invalidUtf8 !== 'error' && invalidUtf8 !== 'replace') {
      throw new InvalidOptionError(`--invalid-utf8 expects error or replace, got ${JSON.stringify(invalidUtf8)}`);
    }
    options.invalidUtf8 = invalidUtf8;
  }
  const lineTimeout = text('line-timeout');
  if (lineTimeout !== undefined) options.lineTimeout = parseDuration(lineTimeout, 'line-timeout');
  const idleTimeout = text('idle-timeout');
  if (idleTimeout !== undefined) options.idleTimeout = parseDuration(idleTimeout, 'idle-timeout');
  const maxPending = text('max-pending-reply-bytes');
  if (maxPending !== undefined) options.maxPendingReplyBytes = parseByteSize(maxPending, 'max-pending-reply-bytes');

  const extra: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(extraOptions)) extra[name] = values[name];
  return { kind: 'run', options, extra, quiet: values.quiet === true };
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  onSignal: (signal, listener) => process.on(signal, listener),
};

/**
 * Runs a comm server CLI: parses `argv`, listens, prints `Connected by <address>` per client,
 * and shuts down gracefully on SIGINT/SIGTERM (a second signal forces it). Resolves with the
 * exit code: 0 after a shutdown, `--help` or `--version`; 1 when the server cannot start (port
 * taken...) or was forced down; 2 for a bad command line.
 *
 * @example
 * ```ts
 * process.exitCode = await runServerCli({ name: 'comm-server-seq', version, summary, createServer });
 * ```
 */
export async function runServerCli(
  spec: ServerCliSpec,
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = processIo,
): Promise<number> {
  let parsed: ParsedServerArgs;
  let server: CliServer;
  try {
    parsed = parseServerArgs(argv, spec.extraOptions);
    if (parsed.kind === 'help') {
      io.stdout(serverUsage(spec));
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout(`${spec.version}\n`);
      return 0;
    }
    server = spec.createServer(parsed.options, parsed.extra);
  } catch (error) {
    io.stderr(`${spec.name}: ${(error as Error).message}\nTry '${spec.name} --help'.\n`);
    return 2;
  }

  if (!parsed.quiet) {
    server.on('connection', (info) => io.stdout(`Connected by ${formatEndpoint(info.remoteAddress, info.remotePort)}\n`));
  }
  // Signals are handled from before the listening line, which is what tells the world we are up.
  let signals = 0;
  let stopped: (code: number) => void = () => {};
  const stop = new Promise<number>((resolve) => (stopped = resolve));
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) {
      io.stderr(`${spec.name}: shutting down, answering what was received (signal again to force)\n`);
      server.close().then(
        () => stopped(0),
        (error: unknown) => {
          io.stderr(`${spec.name}: ${(error as Error).message}\n`);
          stopped(1);
        },
      );
    } else if (signals === 2) {
      io.stderr(`${spec.name}: forced shutdown\n`);
      server.destroy();
      stopped(1);
    }
  };
  io.onSignal('SIGINT', onSignal);
  io.onSignal('SIGTERM', onSignal);

  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (error) {
    if (signals > 0) return stop;
    io.stderr(`${spec.name}: cannot listen: ${(error as Error).message}\n`);
    return 1;
  }
  if (signals > 0) {
    // A signal came while listen() was under way: the close before it found nothing to close.
    server.destroy();
    return stop;
  }
  io.stderr(`${spec.name}: listening on ${formatEndpoint(address.address, address.port)}\n`);
  return stop;
}
