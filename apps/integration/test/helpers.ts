import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CommClient } from '@comm/client';
import { createServer as createSequentialServer, type SequentialServerOptions } from '@comm/server-seq';
import { createServer as createThreadedServer } from '@comm/server-threaded';

export type ServerKind = 'seq' | 'threaded';

/** What the server answers: the echo, upper case, or a failure for the line `boom` (R12). */
export type Behaviour = 'echo' | 'upper' | 'fail-on-boom';

/** The behaviours as handler source: a function for the sequential server, a module for the threads. */
const HANDLER_SOURCE: Record<Exclude<Behaviour, 'echo'>, string> = {
  upper: 'return line.toUpperCase();',
  'fail-on-boom': "if (line === 'boom') throw new Error('boom'); return line;",
};

export interface RunningServer {
  kind: ServerKind;
  port: number;
  close(): Promise<void>;
}

export interface ServerSetup {
  behaviour?: Behaviour;
  /** Options both servers share (limits, timeouts), plus `maxWaiting` for the sequential one. */
  options?: Pick<SequentialServerOptions, 'maxLineLength' | 'idleTimeout' | 'maxWaiting' | 'host'>;
}

const servers = new Set<RunningServer>();
const clients = new Set<CommClient>();
const children = new Set<ChildProcess>();

/**
 * Starts one of our servers on port 0, dual-stack (`::`) unless told otherwise, through its
 * public API, and registers it for {@link cleanUp}.
 */
export async function startServer(kind: ServerKind, setup: ServerSetup = {}): Promise<RunningServer> {
  const behaviour = setup.behaviour ?? 'echo';
  const options = { host: '::', ...setup.options, port: 0 };
  let running: RunningServer;
  if (kind === 'seq') {
    const handler =
      behaviour === 'echo' ? undefined : (new Function('line', HANDLER_SOURCE[behaviour]) as (line: string) => string);
    const server = createSequentialServer({ ...options, ...(handler ? { handler } : {}) });
    const { port } = await server.listen();
    running = { kind, port, close: () => server.close() };
  } else {
    const { maxWaiting: _notThreaded, ...shared } = options;
    const handler =
      behaviour === 'echo'
        ? undefined
        : `data:text/javascript,${encodeURIComponent(`export function handler(line) { ${HANDLER_SOURCE[behaviour]} }`)}`;
    const server = createThreadedServer({ ...shared, threads: 2, ...(handler ? { handler } : {}) });
    const { port } = await server.listen();
    running = { kind, port, close: () => server.close() };
  }
  servers.add(running);
  return running;
}

/** Registers a client for {@link cleanUp}. */
export function track<T extends CommClient>(client: T): T {
  clients.add(client);
  return client;
}

/** Destroys the clients, kills the children and closes the servers a test started. */
export async function cleanUp(): Promise<void> {
  for (const client of clients) client.destroy();
  clients.clear();
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await Promise.all([...servers].map((server) => server.close()));
  servers.clear();
}

/** The `comm` bin of the workspace's @comm/client, built. */
export const COMM = join(dirname(createRequire(import.meta.url).resolve('@comm/client/package.json')), 'dist', 'cli.js');

export interface CommResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `comm ARGS` with `input` on a pipe as its stdin; killed after `limitMs`. */
export function runComm(args: string[], input: string, limitMs = 60_000): Promise<CommResult> {
  const child = spawn(process.execPath, [COMM, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(limit);
      children.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** Lines with 1- to 4-byte characters, empty lines (R5) and separators that are data (R4). */
export function sampleLines(count: number): string[] {
  const pieces = ['a', 'é', '€', '😀', '𝄞', '\u2028', ' ', 'ok'];
  return Array.from({ length: count }, (_, index) => {
    if (index % 50 === 7) return '';
    let line = `#${index} `;
    for (let k = 0; k < index % 19; k++) line += pieces[(index * 5 + k) % pieces.length];
    return line;
  });
}
