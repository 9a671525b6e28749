import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { destroyClients, killChildren, nodeCli, start } from '@comm/test-helpers';

const PEER = fileURLToPath(new URL('./fixtures/peer.py', import.meta.url));
/**
 * The built `comm` bin: CLI tests run what ships. `runCli(args, input, limitMs, command)` runs it
 * with `input` on its stdin (a pipe) to completion, killed after `limitMs` so a hang fails the
 * test instead of stalling it.
 */
export const { path: CLI, runToEnd: runCli } = nodeCli(new URL('../dist/cli.js', import.meta.url));

/** The misbehaviours of `fixtures/peer.py`; see its docstring. */
export type PeerMode =
  | 'echo'
  | 'split'
  | 'bytewise'
  | 'silent'
  | 'hold'
  | 'cut'
  | 'bad-utf8'
  | 'busy'
  | 'prefix'
  | 'windows'
  | 'full';

export interface RunningPeer {
  port: number;
  stop(): Promise<void>;
}

const serverStops = new Set<() => Promise<void>>();

/** Kills every peer, server and client a test started; call in `afterEach`. */
export async function cleanUp(): Promise<void> {
  destroyClients();
  await killChildren();
  await Promise.all([...serverStops].map((stop) => stop()));
}

/** Starts a child that says its port: on its first stdout line, or in stderr where `readiness` matches. */
async function startListening(command: string, args: string[], readiness: 'stdout-port' | RegExp): Promise<RunningPeer> {
  const run = start(command, args);
  const [, port] =
    readiness === 'stdout-port' ? await run.waitFor(/^(\d+)\n/) : await run.waitFor(readiness, { stream: 'stderr' });
  return { port: Number(port), stop: () => run.kill() };
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
export async function startRecordingServer(
  options: { replyToBye: boolean } = { replyToBye: true },
): Promise<RunningPeer & { received: string[] }> {
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

/** A unique-enough suffix for names that live outside the process (namespaces, links). */
export function uniqueSuffix(): string {
  return `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
}
