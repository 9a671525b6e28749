import { parseArgs } from 'node:util';

/** The port of the chapter and of the spec (R1). */
export const DEFAULT_PORT = 2000;

/** What the command line asks for. */
export type Command =
  | { kind: 'scene' }
  | { kind: 'help' }
  | { kind: 'serve'; server: 'seq' | 'threaded'; port: number; host: string | undefined; threads: number | undefined }
  | { kind: 'client'; host: string; port: number };

export const USAGE = `Usage:
  comm-demo                       the scene: three clients at once on the sequential and the
                                  threaded server; then, on a terminal, an interactive client
  comm-demo serve --seq|--threaded [--port 2000] [--host HOST] [--threads N]
                                  run one server until Ctrl-C (try: nc localhost 2000)
  comm-demo client HOST [PORT]    talk to a comm server (port 2000 by default)
  comm-demo --help

Through pnpm: pnpm demo serve --threaded, or pnpm --filter @comm/demo start -- client ::1 2000
`;

/** Wrong usage: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`port must be a number from 0 to 65535, got ${text}`);
  return port;
}

/**
 * Reads the command line (without `node` and the script). A leading `--`, which
 * `pnpm ... start -- args` passes along, is skipped.
 *
 * @example
 * ```ts
 * parseCommand(['serve', '--seq', '--port', '2001']);
 * // { kind: 'serve', server: 'seq', port: 2001, host: undefined, threads: undefined }
 * ```
 */
export function parseCommand(argv: readonly string[]): Command {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by parseArgs from its literal options, assigned in the try
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        seq: { type: 'boolean' },
        threaded: { type: 'boolean' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        threads: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [subcommand, ...rest] = positionals;
  const serveOnly = ['seq', 'threaded', 'port', 'host', 'threads'] as const;
  if (subcommand !== 'serve') {
    const misplaced = serveOnly.find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} belongs to the serve subcommand`);
  }
  switch (subcommand) {
    case undefined:
      return { kind: 'scene' };
    case 'serve': {
      if (rest.length > 0) throw new UsageError(`serve takes no arguments, got ${rest.join(' ')}`);
      if (values.seq === values.threaded) throw new UsageError('serve needs exactly one of --seq and --threaded');
      let threads: number | undefined;
      if (values.threads !== undefined) {
        if (!values.threaded) throw new UsageError('--threads goes with --threaded');
        threads = Number(values.threads);
        if (!/^\d+$/.test(values.threads) || threads < 1) {
          throw new UsageError(`--threads must be a whole number >= 1, got ${values.threads}`);
        }
      }
      return {
        kind: 'serve',
        server: values.seq ? 'seq' : 'threaded',
        port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
        host: values.host,
        threads,
      };
    }
    case 'client': {
      const [host, port, ...extra] = rest;
      if (host === undefined) throw new UsageError('client needs a HOST');
      if (extra.length > 0) throw new UsageError(`client takes HOST [PORT], got also ${extra.join(' ')}`);
      return { kind: 'client', host, port: port === undefined ? DEFAULT_PORT : parsePort(port) };
    }
    default:
      throw new UsageError(`unknown subcommand ${subcommand}`);
  }
}
