import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Every child starts through `sh` so its open-file limit can be raised first: holding 10,000
 * sockets needs more than the usual soft limit of 1,024. `exec` keeps the pid, so the pid the
 * runner reads /proc with is the server's own.
 */
const RAISE_NOFILE = 'n=$1; shift; ulimit -n "$n" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

/** Open files every child asks for: 10,000 connections plus what a runtime holds itself. */
export const CHILD_NOFILE = 16_384;

const running = new Set<ChildProcess>();

/** Kills every child still running: a bench stopped half-way must not leave servers behind. */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts a command with a raised open-file limit, stdin and stdout piped, stderr kept for errors. */
function spawnWithLimit(command: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn('sh', ['-c', RAISE_NOFILE, 'sh', String(CHILD_NOFILE), ...command], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** The soft open-file limit a child started by {@link spawnWithLimit} gets. */
export async function childNofile(): Promise<number> {
  const child = spawnWithLimit(['sh', '-c', 'ulimit -n']);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  return Number(output.trim());
}

/**
 * Keeps what a child wrote on stderr, to explain its failure in one line: the first line that
 * names an error (Node prints a stack frame and a caret before it), else the last line.
 */
function keepStderr(child: ChildProcess): () => string {
  let head = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (head.length < 8000) head += chunk.toString();
  });
  return () => {
    const lines = head
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    return lines.find((line) => /^(\w*Error\b|Error \[|\w+Error:)|error:/i.test(line)) ?? lines.at(-1) ?? '';
  };
}

/** A server running in its own process. */
export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** What the server printed when it started (its mechanism, thread count...). */
  readonly info: Record<string, unknown>;
  /** Resident memory now, in bytes (VmRSS from /proc/<pid>/status). */
  rss(): number;
  /** Open file descriptors now (entries of /proc/<pid>/fd): listeners plus accepted sockets. */
  openFiles(): number;
  /** JSON lines the server printed after its first (e.g. its stats as it stops). */
  readonly messages: ReadonlyArray<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL if it has not exited within 3 s. */
  stop(): Promise<void>;
}

/** What starts a server: a command line that ends up printing `{"port":N,"pid":P}` on stdout. */
export interface ServerCommand {
  name: string;
  command: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** The resident memory of a process, in bytes. */
function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Starts a server child and waits (at most `timeoutMs`) for it to say which port it listens on. */
export async function startServer(spec: ServerCommand, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawnWithLimit(spec.command, spec.env ?? process.env);
  const stderr = keepStderr(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.name}: did not start within ${timeoutMs} ms. ${stderr()}`));
    }, timeoutMs);
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name}: exited (${code ?? signal}) before listening. ${stderr()}`));
    });
  });
  // Keep draining stdout so a chatty server never blocks on a full pipe; JSON lines are kept.
  const messages: Array<Record<string, unknown>> = [];
  lines.removeAllListeners('line');
  lines.on('line', (line) => {
    if (line.startsWith('{')) messages.push(JSON.parse(line) as Record<string, unknown>);
  });
  const stdoutDone = new Promise<void>((resolve) => lines.once('close', resolve));
  const pid = Number(info.pid ?? child.pid);
  return {
    name: spec.name,
    port: Number(info.port),
    pid,
    info,
    rss: () => readRss(pid),
    openFiles: () => readdirSync(`/proc/${pid}/fd`).length,
    messages,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await Promise.race([stdoutDone, sleep(1000)]);
    },
  };
}

/** The generator's last word: its result, or why it failed. */
type GeneratorEvent = { event: string; message?: string } & Record<string, unknown>;

/** A generator child: its events as they come, and its end. */
export interface GeneratorProcess {
  /** Resolves with the next event the generator prints (e.g. `held`). */
  nextEvent(): Promise<GeneratorEvent>;
  /** Writes a command line to the generator's stdin (e.g. `release`). */
  tell(line: string): void;
  /** Resolves with the final `result` event; rejects with the generator's error or exit. */
  finished(): Promise<GeneratorEvent>;
  kill(): void;
}

/** Starts the load generator (dist/generator.js) with the given arguments. */
export function startGenerator(script: string, args: readonly string[]): GeneratorProcess {
  const child = spawnWithLimit([process.execPath, script, ...args]);
  const stderr = keepStderr(child);
  const events: GeneratorEvent[] = [];
  const waiting: Array<(event: GeneratorEvent) => void> = [];
  let lastEvent: GeneratorEvent | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const event = JSON.parse(line) as GeneratorEvent;
    lastEvent = event;
    const waiter = waiting.shift();
    if (waiter) waiter(event);
    else events.push(event);
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.stdin!.on('error', () => {});
  return {
    nextEvent() {
      const queued = events.shift();
      if (queued) return Promise.resolve(queued);
      return Promise.race([
        new Promise<GeneratorEvent>((resolve) => waiting.push(resolve)),
        closed.then((code): never => {
          throw new Error(`generator exited (${code}) early: ${lastEvent?.message ?? stderr()}`);
        }),
      ]);
    },
    tell(line) {
      child.stdin!.write(`${line}\n`);
    },
    async finished() {
      const code = await closed;
      if (code === 0 && lastEvent?.event === 'result') return lastEvent;
      throw new Error(lastEvent?.message ?? `generator exited with ${code}: ${stderr()}`);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
