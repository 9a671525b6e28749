// Runs the built `comm-server-threaded` bin as a child process on the Node that runs the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or the signal's name) once the child has exited. */
  readonly exited: Promise<number | string>;
}

const children = new Set<ChildProcess>();

/** Starts the CLI with `args`; {@link killChildren} ends it if a test does not. */
export function runCli(args: readonly string[]): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  const exited = once(child, 'exit').then(([code, signal]) => {
    children.delete(child);
    return (code as number | null) ?? (signal as string);
  });
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

/** Resolves once the child's stderr (or stdout) matches `pattern`; rejects when it exits first. */
export async function waitForStderr(run: CliRun, pattern: RegExp, stream: 'stderr' | 'stdout' = 'stderr'): Promise<RegExpMatchArray> {
  for (;;) {
    const match = pattern.exec(run[stream]());
    if (match) return match;
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`the CLI exited before printing ${pattern}:\n${run.stderr()}`);
    }
    await Promise.race([once(run.child[stream] as NodeJS.EventEmitter, 'data'), run.exited]);
  }
}

/** Starts a listening server on 127.0.0.1 and a free port; resolves with the port. */
export async function startCli(args: readonly string[]): Promise<{ run: CliRun; port: number }> {
  const run = runCli(['--host', '127.0.0.1', '--port', '0', ...args]);
  const match = await waitForStderr(run, /listening on 127\.0\.0\.1:(\d+)/);
  return { run, port: Number(match[1]) };
}

/** For `afterEach`: kills children a test left running. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}
