// `@comm/server-core/cli`: the command line both server commands share. The flags, their
// parsing and `--help` come from the option table (options.ts), so both commands speak the same
// dialect as the client's command: `30s`, `64KiB`, `-v` for the version.
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { formatEndpoint, InvalidOptionError } from '@comm/protocol';
import { formatOptionsHelp, parseCommandLine, type OptionTable, type OptionValues } from '@comm/protocol/options';
import type { ServerOptions } from './listen.js';
import type { ServerTlsOptions } from './tls.js';
import { ADMISSION_OPTIONS } from './admission/index.js';
import { PROXY_OPTIONS } from './proxy/gate.js';
import { TLS_OPTIONS } from './tls.js';
import { COMMAND_OPTIONS, CONVERSATION_OPTIONS, LISTEN_OPTIONS } from './options.js';
import { connectedBy, type ConnectionInfo } from './peer.js';

/** Every flag both server commands take. */
export const SERVER_COMMAND_OPTIONS = {
  ...LISTEN_OPTIONS,
  ...ADMISSION_OPTIONS,
  ...PROXY_OPTIONS,
  ...TLS_OPTIONS,
  ...CONVERSATION_OPTIONS,
  ...COMMAND_OPTIONS,
} as const;

/** A command's whole table, in the order `--help` shows it: where, the limits, the server's own, then the command's. */
function commandTable(own: OptionTable | undefined): OptionTable {
  return {
    ...LISTEN_OPTIONS,
    ...ADMISSION_OPTIONS,
    ...PROXY_OPTIONS,
    ...TLS_OPTIONS,
    ...CONVERSATION_OPTIONS,
    ...own,
    ...COMMAND_OPTIONS,
  };
}

/** What a server CLI needs from its server: both comm servers fit. */
export interface CliServer {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'connection', listener: (info: ConnectionInfo) => void): unknown;
  /** With TLS: takes the certificate anew for new connections (SIGHUP in the commands). */
  reloadTls?(tls: ServerTlsOptions): void;
}

/** The options a command line gives: the server options, its own, and the command's. */
export type CommandOptions<Own extends OptionTable> = ServerOptions &
  Partial<OptionValues<Own>> & {
    /** `--handler`: the module path as typed; each server loads it its own way. */
    handlerModule?: string;
    /** `--tls-*`: the files as typed; read into `tls` by the runner (and again on SIGHUP). */
    tlsFiles?: TlsFiles;
  };

/** The `--tls-*` flags. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string | undefined;
  clientAuth: ServerTlsOptions['clientAuth'];
  handshakeTimeout: number | undefined;
}

/** Reads the TLS files of the command line; an unreadable one is a bad command line. */
function readTls(files: TlsFiles): ServerTlsOptions {
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new InvalidOptionError(`--${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return {
    cert: read(files.cert, 'tls-cert'),
    key: read(files.key, 'tls-key'),
    ...(files.ca === undefined ? {} : { ca: read(files.ca, 'tls-ca') }),
    clientAuth: files.clientAuth,
    handshakeTimeout: files.handshakeTimeout,
  };
}

/** A server CLI: its name, version, and how to build its server from the parsed options. */
export interface ServerCliSpec<Own extends OptionTable = Record<never, never>> {
  /** The command name, e.g. `comm-server-seq`. */
  name: string;
  version: string;
  /** One line for `--help`. */
  summary: string;
  /** Options of this server only (beside {@link SERVER_COMMAND_OPTIONS}), by their library name. */
  options?: Own;
  /** Builds the server (it may load the handler module first). May throw `InvalidOptionError`. */
  createServer(options: CommandOptions<Own>, io: CliIo): CliServer | Promise<CliServer>;
}

/** Where a CLI writes, and how it learns of signals; the process by default. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  onSignal: (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', listener: () => void) => void;
}

/** The result of parsing a server command line. */
export type ParsedServerArgs<Own extends OptionTable = Record<never, never>> =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: CommandOptions<Own>; quiet: boolean };

/**
 * Parses a server command line: the flags of {@link SERVER_COMMAND_OPTIONS} plus the server's own.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for an unknown flag or a bad value.
 * @example
 * ```ts
 * parseServerArgs(['--port', '0', '--line-timeout', '10s']);
 * // { kind: 'run', options: { port: 0, lineTimeout: 10000 }, quiet: false }
 * ```
 */
export function parseServerArgs<Own extends OptionTable = Record<never, never>>(
  argv: readonly string[],
  own?: Own,
): ParsedServerArgs<Own> {
  const parsed = parseCommandLine(commandTable(own), argv);
  if (parsed.help) return { kind: 'help' };
  if (parsed.version) return { kind: 'version' };
  const { quiet, handler, tlsCert, tlsKey, tlsCa, tlsClientAuth, tlsHandshakeTimeout, ...options } = parsed.options as Record<
    string,
    unknown
  >;
  if (handler !== undefined) options.handlerModule = handler;
  if (tlsCert !== undefined || tlsKey !== undefined || tlsCa !== undefined) {
    if (tlsCert === undefined || tlsKey === undefined) throw new InvalidOptionError('--tls-cert and --tls-key go together');
    options.tlsFiles = {
      cert: tlsCert,
      key: tlsKey,
      ca: tlsCa,
      clientAuth: tlsClientAuth,
      handshakeTimeout: tlsHandshakeTimeout,
    };
  }
  return { kind: 'run', options: options as CommandOptions<Own>, quiet: quiet === true };
}

/** The `--help` text of a server CLI. */
export function serverUsage(spec: Pick<ServerCliSpec<OptionTable>, 'name' | 'summary' | 'options'>): string {
  return `${spec.name}: ${spec.summary}\n\nUsage: ${spec.name} [options]\n\nOptions:\n${formatOptionsHelp(commandTable(spec.options))}`;
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
 * taken, handler module not loadable...) or was forced down; 2 for a bad command line.
 *
 * @example
 * ```ts
 * process.exitCode = await runServerCli({ name: 'comm-server-seq', version, summary, createServer });
 * ```
 */
export async function runServerCli<Own extends OptionTable = Record<never, never>>(
  spec: ServerCliSpec<Own>,
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = processIo,
): Promise<number> {
  let parsed: ParsedServerArgs<Own>;
  try {
    parsed = parseServerArgs(argv, spec.options);
  } catch (error) {
    io.stderr(`${spec.name}: ${(error as Error).message}\nTry '${spec.name} --help'.\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    io.stdout(serverUsage(spec as ServerCliSpec<OptionTable>));
    return 0;
  }
  if (parsed.kind === 'version') {
    io.stdout(`${spec.version}\n`);
    return 0;
  }
  let server: CliServer;
  const { tlsFiles } = parsed.options;
  try {
    const options = tlsFiles === undefined ? parsed.options : { ...parsed.options, tls: readTls(tlsFiles) };
    delete options.tlsFiles;
    server = await spec.createServer(options, io);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.stderr(`${spec.name}: ${(error as Error).message}\n`);
    if (code !== 'COMM_INVALID_OPTION') return 1;
    io.stderr(`Try '${spec.name} --help'.\n`);
    return 2;
  }

  if (!parsed.quiet) server.on('connection', (info) => io.stdout(`${connectedBy(info)}\n`));
  // Signals are handled from before the listening line, which is what tells the world we are up.
  const shutdown = shutDownOnSignals(server, io, {
    graceful: () => io.stderr(`${spec.name}: shutting down, answering what was received (signal again to force)\n`),
    forced: () => io.stderr(`${spec.name}: forced shutdown\n`),
    failed: (error) => io.stderr(`${spec.name}: ${error.message}\n`),
  });
  const stop = shutdown.done;
  if (tlsFiles !== undefined) {
    io.onSignal('SIGHUP', () => {
      try {
        server.reloadTls?.(readTls(tlsFiles));
        io.stderr(`${spec.name}: TLS certificate reloaded; new connections get it\n`);
      } catch (error) {
        io.stderr(`${spec.name}: TLS reload failed, keeping the old certificate: ${(error as Error).message}\n`);
      }
    });
  }

  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (error) {
    if (shutdown.signalled()) return stop;
    io.stderr(`${spec.name}: cannot listen: ${(error as Error).message}\n`);
    return 1;
  }
  if (shutdown.signalled()) {
    // A signal came while listen() was under way: the close before it found nothing to close.
    server.destroy();
    return stop;
  }
  io.stderr(`${spec.name}: listening on ${formatEndpoint(address.address, address.port)}\n`);
  return stop;
}

/** What {@link shutDownOnSignals} says at each step. */
export interface ShutdownNotes {
  /** The first signal: the graceful close (R17) begins. */
  graceful(signal: 'SIGINT' | 'SIGTERM'): void;
  /** The second signal: everything is destroyed. */
  forced(): void;
  /** The graceful close failed. */
  failed(error: Error): void;
}

/**
 * The two-signal shutdown of every comm command: on the first SIGINT or SIGTERM a graceful
 * `close()`, on the second a `destroy()`. `done` resolves with the exit code: 0 after the
 * graceful close, 1 when it failed or was forced.
 *
 * @example
 * ```ts
 * const { done } = shutDownOnSignals(server, io, { graceful: () => log('closing'), forced: () => log('now'), failed: log });
 * process.exitCode = await done;
 * ```
 */
export function shutDownOnSignals(
  server: Pick<CliServer, 'close' | 'destroy'>,
  io: Pick<CliIo, 'onSignal'>,
  notes: ShutdownNotes,
): { done: Promise<number>; signalled: () => boolean } {
  let signals = 0;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    signals += 1;
    if (signals === 1) {
      notes.graceful(signal);
      server.close().then(
        () => finish(0),
        (error: unknown) => {
          notes.failed(error as Error);
          finish(1);
        },
      );
    } else if (signals === 2) {
      notes.forced();
      server.destroy();
      finish(1);
    }
  };
  io.onSignal('SIGINT', () => onSignal('SIGINT'));
  io.onSignal('SIGTERM', () => onSignal('SIGTERM'));
  return { done, signalled: () => signals > 0 };
}
