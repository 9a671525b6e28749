// Shared by the socket-level tests. They run the built package (dist/), because the worker
// threads start dist/worker.js: the tests exercise exactly what is published.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { availableMechanisms, createServer, type ThreadedServer, type ThreadedServerOptions } from '../dist/index.js';
import { connectClient, destroyClients, type TestClient } from '@comm/test-helpers';

export { connectClient, destroyClients, exchange, TestClient } from '@comm/test-helpers';

/** Absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The handler module most tests use (echo plus commands, see the file). */
export const PROBE_HANDLER = fixture('probe-handler.mjs');

/** Every mechanism this runtime supports: the tests run once per mechanism. */
export const MECHANISMS = await availableMechanisms();

const servers = new Set<ThreadedServer>();

/** Starts a server on 127.0.0.1, port 0, 2 threads unless told otherwise; stopped by {@link stopAll}. */
export async function startServer(options: ThreadedServerOptions = {}): Promise<{ server: ThreadedServer; port: number }> {
  const server = createServer({ host: '127.0.0.1', port: 0, threads: 2, ...options });
  servers.add(server);
  const { port } = await server.listen();
  return { server, port };
}

/** For `afterEach`: destroys the clients and servers a test left. */
export async function stopAll(): Promise<void> {
  destroyClients();
  await Promise.all(
    [...servers].map((server) => {
      server.destroy();
      return server.close();
    }),
  );
  servers.clear();
}

/** Sends one line and resolves with the reply to it (the client's `n`-th line overall). */
export async function ask(client: TestClient, line: string): Promise<string> {
  const before = client.lines().length;
  await client.write(`${line}\n`);
  const lines = await client.waitForLines(before + 1);
  if (lines.length <= before) throw new Error(`no reply to ${JSON.stringify(line)}: the connection closed`);
  return lines[before] as string;
}

/** Resolves once the client's socket has closed, with whether it was a clean FIN (no reset). */
export function closedCleanly(client: TestClient): Promise<boolean> {
  // Not `client.closed`: it rejects on a reset rather than reporting it.
  const socket = client.socket;
  if (socket.closed) return Promise.resolve(!socket.errored);
  return new Promise((resolve) => socket.once('close', (hadError: boolean) => resolve(!hadError)));
}

/** Waits for an event, for at most `limit` ms, so a missing event fails the test instead of hanging it. */
export async function eventWithin<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, limit = 20_000): Promise<T> {
  const signal = AbortSignal.timeout(limit);
  return (await once(emitter, event, { signal })) as T;
}

/** Connects `count` clients that each pipeline `lines` lines; resolves once every one has a first reply. */
export async function clientsUnderLoad(
  port: number,
  count: number,
  lines: number,
): Promise<{ clients: TestClient[]; sent: string[][] }> {
  const clients = await Promise.all(Array.from({ length: count }, () => connectClient(port)));
  const sent = clients.map((_, c) => Array.from({ length: lines }, (_, i) => `client ${c} line ${i}`));
  await Promise.all(clients.map((client, c) => client.write((sent[c] as string[]).join('\n') + '\n')));
  await Promise.all(clients.map((client) => client.waitForLines(1)));
  return { clients, sent };
}

/**
 * After a shutdown (R17): each client was closed with a FIN, not a reset, and what it received
 * is exactly the start of what it sent, in order. Resolves with the replies received in all.
 */
export async function expectAnsweredPrefixes(clients: readonly TestClient[], sent: readonly string[][]): Promise<number> {
  let received = 0;
  for (const [c, client] of clients.entries()) {
    expect(await closedCleanly(client)).toBe(true);
    const lines = client.lines();
    expect(lines).toEqual((sent[c] as string[]).slice(0, lines.length));
    received += lines.length;
  }
  return received;
}
