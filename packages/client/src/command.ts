import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { CommError, InvalidOptionError } from '@comm/protocol';
import { packageVersion } from '@comm/protocol/options';
import { USAGE, UsageError, parseCommandLine, type TlsFlags } from './args.js';
import { connect, type TlsOptions } from './connect.js';
import { runFilter } from './filter.js';
import { runInteractive } from './interactive.js';

/** The exit status of `comm`. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, what shells expect after Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
/** 128 + SIGPIPE, what a Unix filter ends with when its reader has gone. */
export const EXIT_BROKEN_PIPE = 141;

/** The streams `comm` talks to; the real process's, or a test's. */
export interface CommandIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

/** The `--tls*` flags as `connect`'s `tls` option: the PEM files read now (a missing one is a usage error). */
function tlsFromFlags(flags: TlsFlags): TlsOptions {
  const read = (file: string | undefined, flag: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new InvalidOptionError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return {
    ca: read(flags.ca, '--tls-ca'),
    cert: read(flags.cert, '--tls-cert'),
    key: read(flags.key, '--tls-key'),
    servername: flags.servername,
    rejectUnauthorized: !flags.insecure,
  };
}

const version = (): string => packageVersion(new URL('../package.json', import.meta.url));

/**
 * Runs `comm [options] HOST [PORT]` and resolves with its exit status: 0 success, 1 a
 * connection or protocol error (one line on stderr naming the address), 2 wrong usage,
 * 130 interrupted on a terminal, 141 stdout closed by its reader.
 * Interactive on a terminal, a filter otherwise.
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(process.argv.slice(2), process);
 * ```
 */
export async function runCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let invocation: ReturnType<typeof parseCommandLine>;
  try {
    invocation = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`comm: ${error.message}\nTry 'comm --help' for more information.\n`);
    return EXIT_USAGE;
  }
  if (invocation.action === 'help') {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (invocation.action === 'version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const { host, port, family, timeout, maxLineLength, tls } = invocation;
  try {
    const client = await connect(host, port, {
      family,
      maxLineLength,
      ...(timeout === undefined ? {} : { connectTimeout: timeout, timeout }),
      ...(tls === undefined ? {} : { tls: tlsFromFlags(tls) }),
    });
    try {
      if (io.stdin.isTTY === true) {
        const end = await runInteractive(client, io.stdin, io.stdout);
        return end === 'interrupted' ? EXIT_INTERRUPTED : EXIT_OK;
      }
      await runFilter(client, io.stdin, io.stdout, { maxLineLength });
      return EXIT_OK;
    } finally {
      client.destroy();
    }
  } catch (error) {
    // The reader of our output left (a pipe into `head`): end quietly, as a filter killed by
    // SIGPIPE would, with its status.
    if (error instanceof CommError && error.code === 'COMM_OUTPUT_CLOSED') return EXIT_BROKEN_PIPE;
    if (error instanceof CommError && error.code === 'COMM_INVALID_OPTION') {
      io.stderr.write(`comm: ${error.message}\nTry 'comm --help' for more information.\n`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`comm: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return EXIT_FAILURE;
  }
}
