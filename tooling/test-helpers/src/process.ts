// One runner for the child processes the tests start: the packages' CLIs and the tools around
// them (nc, socat, the Python peer, `script`). Two ways to use it: `start` for a long-running
// child that a test waits on (a pattern in stdout or stderr, its memory) and kills, `runToEnd`
// for a run to completion with input on stdin and a time limit. `nodeCli` binds both to one
// package's built CLI, so each package only names its script.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a child ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What a run to completion left: how it ended and everything it printed, as UTF-8. */
export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

export interface StartOptions {
  /** Written to stdin, which is then ended; without it stdin stays an open pipe (`child.stdin`). */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export type Stream = 'stdout' | 'stderr';

/** A child process whose output is collected, with ways to wait for text in it. */
export class ChildRun {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly output: Record<Stream, string> = { stdout: '', stderr: '' };
  /** Called on every chunk of output and at the close: the waits of {@link until}. */
  private readonly listeners = new Set<() => void>();
  private isClosed = false;
  /** Resolves at the close (exited, output all read); rejects if the command could not start. */
  private readonly closed: Promise<Exit>;
  /** Resolves once the process has exited (its output may still be arriving). */
  private readonly exit: Promise<void>;

  constructor(
    private readonly command: string,
    args: readonly string[],
    { input, env }: StartOptions = {},
  ) {
    this.child = spawn(command, args, { stdio: 'pipe', ...(env ? { env } : {}) });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream].setEncoding('utf8').on('data', (text: string) => {
        this.output[stream] += text;
        this.notify();
      });
    }
    // A child that exits without reading all its input is not the test's failure.
    this.child.stdin.on('error', () => undefined);
    if (input !== undefined) this.child.stdin.end(input);
    let spawnError: Error | undefined;
    this.exit = new Promise((resolve) => this.child.once('exit', () => resolve()).once('close', () => resolve()));
    this.closed = new Promise((resolve, reject) => {
      this.child.on('error', (error) => {
        if (this.child.pid === undefined) spawnError = error;
      });
      this.child.once('close', (code, signal) => {
        this.isClosed = true;
        running.delete(this);
        this.notify();
        if (spawnError) reject(new Error(`${command}: ${spawnError.message}`, { cause: spawnError }));
        else resolve({ code, signal });
      });
    });
    // Awaited by whoever asks; a failed start must not also count as an unhandled rejection.
    this.closed.catch(() => undefined);
    running.add(this);
  }

  /** Everything the child wrote to stdout so far. */
  stdout(): string {
    return this.output.stdout;
  }

  /** Everything the child wrote to stderr so far. */
  stderr(): string {
    return this.output.stderr;
  }

  /**
   * Resolves with how the child ended, once it has exited and its output is all read; kills
   * it after `limitMs`, so a hang fails the test instead of stalling it.
   */
  async ended(limitMs = 60_000): Promise<Exit> {
    const limit = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(limit);
    }
  }

  /** {@link ended} as one value: the exit code, or the name of the signal that ended it. */
  async exited(limitMs?: number): Promise<number | string> {
    const { code, signal } = await this.ended(limitMs);
    return code ?? signal ?? 'unknown';
  }

  /** Resolves with the match once `pattern` matches the output of `stream` so far. */
  waitFor(
    pattern: RegExp,
    { stream = 'stdout', limitMs }: { stream?: Stream; limitMs?: number } = {},
  ): Promise<RegExpMatchArray> {
    return this.until(() => this.output[stream].match(pattern) ?? undefined, `${pattern} on ${stream}`, limitMs);
  }

  /** Resolves once stdout has `count` lines matching `pattern`, with those lines. */
  printed(pattern: RegExp, count = 1): Promise<string[]> {
    return this.until(() => {
      const lines = this.output.stdout.split('\n').filter((line) => pattern.test(line));
      return lines.length >= count ? lines : undefined;
    }, `${count} lines matching ${pattern} on stdout`);
  }

  /** For the servers' CLIs: resolves with the port once the server says on stderr that it listens. */
  async listening(): Promise<number> {
    const [, port] = await this.waitFor(/listening on .*:(\d+)\n/, { stream: 'stderr' });
    return Number(port);
  }

  /** The child's resident memory now and at its peak, in bytes (Linux /proc). */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  }

  /** Kills the child (SIGKILL unless told otherwise) if it still runs; resolves once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit;
  }

  /**
   * Resolves with what `find` finds in the output, checked at every chunk; rejects when the
   * child closes without it, or after `limitMs`, with all the output in the message.
   */
  private until<T>(find: () => T | undefined, what: string, limitMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        finish();
        reject(
          new Error(`${this.command}: ${why} before ${what}; stdout:\n${this.output.stdout}\nstderr:\n${this.output.stderr}`),
        );
      };
      const check = (): void => {
        const found = find();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.isClosed) fail('exited');
      };
      const timer = setTimeout(() => fail(`${limitMs} ms passed`), limitMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const running = new Set<ChildRun>();

/**
 * Starts `command` with `args`, every stdio a pipe (stdin not a terminal), and tracks it for
 * {@link killChildren}.
 *
 * @example
 * ```ts
 * const demo = start(process.execPath, [CLI]);
 * expect(await demo.exited()).toBe(0);
 * ```
 */
export function start(command: string, args: readonly string[], options?: StartOptions): ChildRun {
  return new ChildRun(command, args, options);
}

/** Runs `command` with `input` on its stdin (`null`: left open) and resolves when it has exited. */
export async function runToEnd(
  command: string,
  args: readonly string[],
  { input = '', limitMs, env }: { input?: string | Buffer | null; limitMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const run = start(command, args, { ...(input === null ? {} : { input }), ...(env ? { env } : {}) });
  const exit = await run.ended(limitMs);
  return { ...exit, stdout: run.stdout(), stderr: run.stderr() };
}

/** For `afterEach`: kills every child a test left running, and resolves once they have exited. */
export async function killChildren(): Promise<void> {
  await Promise.all([...running].map((run) => run.kill()));
  running.clear();
}

/** One package's built CLI, run on the Node that runs the tests. */
export interface NodeCli {
  /** The script's absolute path. */
  readonly path: string;
  /** Starts the CLI with `args` as a long-running child. */
  start(args: readonly string[], options?: StartOptions): ChildRun;
  /**
   * Runs the CLI with `input` on its stdin (a pipe; `null`: left open) to completion, killed
   * after `limitMs`; `command` runs it through another command (e.g. strace) instead.
   */
  runToEnd(
    args: readonly string[],
    input?: string | Buffer | null,
    limitMs?: number,
    command?: readonly string[],
  ): Promise<RunResult>;
}

/**
 * Binds {@link start} and {@link runToEnd} to a package's built CLI, e.g.
 * `nodeCli(new URL('../dist/cli.js', import.meta.url))`: the tests run what ships.
 */
export function nodeCli(script: URL | string): NodeCli {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  const built = (): string => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run the package's build first`);
    return path;
  };
  return {
    path,
    start: (args, options) => start(process.execPath, [built(), ...args], options),
    runToEnd: (args, input = '', limitMs = 60_000, command = [process.execPath, built()]) =>
      runToEnd(command[0] as string, [...command.slice(1), ...args], { input, limitMs }),
  };
}
