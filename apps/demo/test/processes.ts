import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, as `pnpm demo` runs it. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A child process whose output is collected, with a way to wait for text in it. */
export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout so far once `pattern` matches it; rejects after `ms` or at exit. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name); kills the process after `ms`. */
  exited(ms?: number): Promise<number | string>;
}

const started = new Set<ChildProcessWithoutNullStreams>();

/** Kills whatever a test left running; for afterEach. */
export function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/**
 * Starts `command` with `args`, stdin a pipe (not a terminal), and tracks it for {@link killAll}.
 *
 * @example
 * ```ts
 * const demo = start(process.execPath, [CLI]);
 * expect(await demo.exited()).toBe(0);
 * ```
 */
export function start(command: string, args: readonly string[]): Running {
  const child = spawn(command, args, { stdio: 'pipe' });
  started.add(child);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  const exit = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      for (const listener of listeners) listener();
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${ms} ms in:\n${out}\n${err}`)), ms);
        const check = (): void => {
          const match = out.match(pattern);
          if (match) finish(undefined, match);
          else if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`exited before ${pattern}:\n${out}\n${err}`));
          }
        };
        const finish = (error?: Error, match?: RegExpMatchArray): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match as RegExpMatchArray);
        };
        listeners.add(check);
        check();
      });
    },
    async exited(ms = 60_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
