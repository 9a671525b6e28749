// Runs the built `comm-server-seq` as a real child process, for the CLI and memory tests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** Resolves with the port once the server says it listens; rejects if it exits first. */
  async listening(): Promise<number> {
    for (;;) {
      const match = /listening on .*:(\d+)\n/.exec(this.stderr);
      if (match) return Number(match[1]);
      const exited = await Promise.race([
        this.exited.then(() => true),
        new Promise<false>((resolve) => this.child.stderr.once('data', () => resolve(false))),
      ]);
      if (exited) throw new Error(`server exited before listening: ${this.stderr}`);
    }
  }

  /** Resolves once stdout has `count` lines matching `pattern`. */
  async printed(pattern: RegExp, count = 1): Promise<string[]> {
    for (;;) {
      const lines = this.stdout.split('\n').filter((line) => pattern.test(line));
      if (lines.length >= count) return lines;
      await new Promise((resolve) => this.child.stdout.once('data', resolve));
    }
  }

  /** The server's resident memory now and at its peak, in bytes (Linux /proc). */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  }
}

const running = new Set<CliProcess>();

/** Starts the CLI with `args` (tracked for {@link killCliProcesses}). */
export function runCli(args: string[]): CliProcess {
  return new CliProcess(args);
}

/** For `afterEach`: kills every server a test left running. */
export async function killCliProcesses(): Promise<void> {
  await Promise.all(
    [...running].map((cli) => {
      cli.child.kill('SIGKILL');
      return cli.exited;
    }),
  );
}
