import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CommClient } from '../src/index.js';

const PEER = fileURLToPath(new URL('./fixtures/peer.py', import.meta.url));
/** The built `comm` bin: CLI tests run what ships. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The misbehaviours of `fixtures/peer.py`; see its docstring. */
export type PeerMode = 'echo' | 'split' | 'bytewise' | 'silent' | 'hold' | 'cut' | 'bad-utf8' | 'busy' | 'prefix' | 'windows' | 'full';

export interface RunningPeer {
  port: number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const serverStops = new Set<() => Promise<void>>();
const clients = new Set<CommClient>();

/** Kills every peer, server and client a test started; call in `afterEach`. */
export async function cleanUp(): Promise<void> {
  for (const client of clients) client.destroy();
  clients.clear();
  await Promise.all([...children].map(stopChild));
  await Promise.all([...serverStops].map((stop) => stop()));
}

/** Registers a client for {@link cleanUp}. */
export function track<T extends CommClient>(client: T): T {
  clients.add(client);
  return client;
}

function stopChild(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts a child that prints its listening port on its first stdout line. */
function startListening(command: string, args: string[], readiness: 'stdout-port' | RegExp): Promise<RunningPeer & { child: ChildProcess }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    const fail = (why: string): void => reject(new Error(`${command} ${args.join(' ')}: ${why}; stderr: ${stderr}`));
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code) => fail(`exited with ${code} before listening`));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (readiness instanceof RegExp) {
        const match = readiness.exec(stderr);
        if (match) resolve({ port: Number(match[1]), child, stop: () => stopChild(child) });
      }
    });
    if (readiness === 'stdout-port' && child.stdout) {
      createInterface({ input: child.stdout }).once('line', (line) =>
        resolve({ port: Number(line), child, stop: () => stopChild(child) }),
      );
    }
  });
}

/**
 * Starts `fixtures/peer.py` in the given mode on `host`, port 0; `prefix` runs it through
 * another command first (e.g. `ip netns exec NAME`).
 */
export async function startPeer(mode: PeerMode, host = '127.0.0.1', prefix: string[] = []): Promise<RunningPeer> {
  const argv = [...prefix, 'python3', PEER, mode, host, String(Math.floor(Math.random() * 1e9))];
  return startListening(argv[0] as string, argv.slice(1), 'stdout-port');
}

/**
 * Starts socat as a byte echo on `host`: `PIPE` sends back what it reads, in whatever
 * pieces it reads it. socat picks no free port for us, so the port is one the kernel just
 * handed out; socat's `-d -d` log tells when it listens.
 */
export async function startSocatEcho(host: '127.0.0.1' | '::1'): Promise<RunningPeer> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const listen = host === '::1' ? `TCP6-LISTEN:${port},bind=[::1]` : `TCP4-LISTEN:${port},bind=127.0.0.1`;
  return startListening('socat', ['-d', '-d', `${listen},reuseaddr,fork`, 'PIPE'], /listening on .*:(\d+)\s*$/m);
}

/** A Node echo server in this process (`socket.pipe(socket)`), the fastest peer at hand. */
export async function startNodeEcho(host = '127.0.0.1'): Promise<RunningPeer & { sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  return { ...(await listenTracked(server, sockets, host)), sockets };
}

/** Listens on `host`, port 0, and registers the server and its connections for {@link cleanUp}. */
async function listenTracked(server: Server, sockets: Set<Socket>, host: string): Promise<RunningPeer> {
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      serverStops.delete(stop);
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  serverStops.add(stop);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, stop };
}

/**
 * A server that does what R10 says with BYE (unless told not to answer it) and records
 * every line it got: enough to check what a client sends, line for line.
 */
export async function startRecordingServer(options: { replyToBye: boolean } = { replyToBye: true }): Promise<RunningPeer & { received: string[] }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      pending += text;
      let lf: number;
      while ((lf = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, lf);
        pending = pending.slice(lf + 1);
        received.push(line);
        if (line === 'BYE') {
          if (options.replyToBye) socket.end('BYE\n');
          return;
        }
        socket.write(`${line}\n`);
      }
    });
  });
  return { ...(await listenTracked(server, sockets, '127.0.0.1')), received };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `comm` as a child process with `input` on its stdin (a pipe), and resolves
 * when it exits. Killed after `limitMs` so a hang fails the test instead of stalling it.
 */
export function runCli(args: string[], input: string | Buffer | null = '', limitMs = 60_000, command: string[] = [process.execPath, CLI]): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the package's build first`);
  const child = spawn(command[0] as string, [...command.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin?.on('error', () => undefined);
  if (input !== null) child.stdin?.end(input);
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

/** A unique-enough suffix for names that live outside the process (namespaces, links). */
export function uniqueSuffix(): string {
  return `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
}

/** Lines that exercise the codec: 1- to 4-byte characters, an empty line (R5), separators that are data (R4). */
export function sampleLines(count: number): string[] {
  const pieces = ['a', 'é', '€', '😀', '𝄞', '\u2028', ' ', 'ÿ', 'ok'];
  return Array.from({ length: count }, (_, index) => {
    if (index % 50 === 7) return '';
    let line = `#${index} `;
    for (let k = 0; k < index % 23; k++) line += pieces[(index * 7 + k) % pieces.length];
    return line;
  });
}
