import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerFailedError } from '@comm/server-core';
import { createServer } from '../dist/index.js';
import {
  MECHANISMS,
  PROBE_HANDLER,
  ask,
  clientsUnderLoad,
  closedCleanly,
  connectClient,
  expectAnsweredPrefixes,
  exchange,
  startServer,
  stopAll,
  type TestClient,
} from './helpers.js';

afterEach(stopAll);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Connects `count` clients at once and asks each which thread serves it. */
async function clientsWithThreads(port: number, count: number): Promise<{ client: TestClient; thread: string }[]> {
  const clients = await Promise.all(range(count).map(() => connectClient(port)));
  return Promise.all(clients.map(async (client) => ({ client, thread: await ask(client, 'thread') })));
}

describe.each(MECHANISMS)('threaded server, mechanism %s', (mechanism) => {
  it('reports the mechanism it uses', async () => {
    const { server } = await startServer({ mechanism });
    expect(server.mechanism).toBe(mechanism);
    expect((await server.stats()).mechanism).toBe(mechanism);
  });

  it('stats() while listen() is still starting answers, and close() then waits for the start', async () => {
    const server = createServer({ host: '127.0.0.1', port: 0, threads: 2, mechanism, handler: PROBE_HANDLER });
    const listening = server.listen();
    expect((await server.stats()).connectionsOpen).toBe(0);
    await listening;
    await server.close();
    expect(server.address()).toBeNull();
  });

  it('R9: 40 clients at once, 400 pipelined lines each, every reply verified', async () => {
    const { port, server } = await startServer({ mechanism });
    await Promise.all(
      range(40).map(async (c) => {
        const lines = range(400).map((i) => `client ${c} line ${i} ${'é'.repeat(i % 9)}`);
        expect(await exchange(port, lines.join('\n') + '\n')).toBe(lines.join('\n') + '\n');
      }),
    );
    const stats = await server.stats();
    expect(stats.connectionsTotal).toBe(40);
    expect(stats.linesIn).toBe(40 * 400);
  });

  it('R9: a handler module answers on the workers, lines of one connection in order', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const lines = range(300).map((i) => (i % 3 === 0 ? `later ${i}` : `now ${i}`));
    const expected = lines.map((line) => (line.startsWith('later ') ? line.slice(6) : line));
    expect(await exchange(port, lines.join('\n') + '\n')).toBe(expected.join('\n') + '\n');
  });

  it('connections land on more than one thread, and the stats count them per thread', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 2 });
    // With reuse-port the kernel picks by a hash: 32 clients all on one of 2 threads is a 1 in 2^31 event.
    const served = await clientsWithThreads(port, 32);
    expect(new Set(served.map(({ thread }) => thread)).size).toBe(2);
    const stats = await server.stats();
    expect(stats.connectionsOpen).toBe(32);
    expect(stats.threads).toHaveLength(2);
    for (const thread of stats.threads) expect(thread.connectionsOpen).toBeGreaterThan(0);
    expect(stats.threads.map((thread) => String(thread.threadId)).sort()).toEqual(
      [...new Set(served.map(({ thread }) => thread))].sort(),
    );
  });

  it('setup runs per connection and context.state belongs to that connection', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const [a, b] = await Promise.all([connectClient(port), connectClient(port)]);
    if (a === undefined || b === undefined) throw new Error('no clients');
    await ask(a, 'one');
    await ask(a, 'two');
    expect(await ask(b, 'count')).toBe('1');
    expect(await ask(a, 'count')).toBe('3');
    expect(await ask(a, 'who')).toBe('IPv4 127.0.0.1');
  });

  it('R9: lines of many clients arriving together are answered each with its own connection state', async () => {
    // With main-thread-io the batches read in one turn travel to a worker in one message: none may
    // be answered with another connection's state, or out of order.
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 2 });
    const clients = await Promise.all(range(60).map(() => connectClient(port)));
    const lines = (c: number): string[] => [`c${c} a`, 'count', `later c${c} b`, `c${c} c`, 'count'];
    await Promise.all(clients.map((client, c) => client.write(lines(c).join('\n') + '\n')));
    const replies = await Promise.all(clients.map((client) => client.waitForLines(5)));
    for (const [c, got] of replies.entries()) expect(got).toEqual([`c${c} a`, '2', `c${c} b`, `c${c} c`, '5']);
  });

  it('a CPU-heavy handler call on one thread leaves the clients of the other thread answered', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 2 });
    const served = await clientsWithThreads(port, 16);
    const heavy = served[0] as { client: TestClient; thread: string };
    const other = served.find(({ thread }) => thread !== heavy.thread);
    if (other === undefined) throw new Error('every client landed on one thread');
    const flag = join(tmpdir(), `comm-spin-${process.pid}-${mechanism}-${Date.now()}`);
    try {
      const before = heavy.client.lines().length;
      await heavy.client.write(`spin-until ${flag}\n`);
      // The heavy thread spins until the flag file exists, so these replies cannot wait for it.
      for (let i = 0; i < 20; i++) expect(await ask(other.client, `meanwhile ${i}`)).toBe(`meanwhile ${i}`);
      expect(heavy.client.lines()).toHaveLength(before);
      writeFileSync(flag, '');
      expect((await heavy.client.waitForLines(before + 1))[before]).toBe('spun');
    } finally {
      rmSync(flag, { force: true });
      rmSync(`${flag}.spinning`, { force: true });
    }
  });

  it('R3 R5 R6 R10: BOM, CRLF and empty lines, then BYE ends the conversation', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const text = await exchange(port, '\uFEFFfirst\r\n\nthird\r\nBYE\nnever answered\n');
    expect(text).toBe('first\n\nthird\nBYE\n');
  });

  it('R7 R8 R12: an oversized line and invalid UTF-8 get one error reply each and the connection goes on', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER, maxLineLength: 16 });
    const payload = Buffer.concat([
      Buffer.from(`${'x'.repeat(17)}\nfits\n`),
      Buffer.from([0x62, 0x61, 0x64, 0xff, 0x0a]),
      Buffer.from('ERR not an error\nlast\n'),
    ]);
    expect((await exchange(port, payload)).split('\n')).toEqual([
      'ERR COMM_LINE_TOO_LONG line too long: more than 16 bytes',
      'fits',
      'ERR COMM_INVALID_UTF8 invalid utf-8 in line',
      'ERR not an error',
      'last',
      '',
    ]);
  });

  it('R11: after a half-close every line is answered, a last line without LF too', async () => {
    const { port } = await startServer({ mechanism, handler: PROBE_HANDLER });
    expect(await exchange(port, 'one\ntwo\nlater three\nno newline')).toBe('one\ntwo\nthree\nno newline\n');
  });

  it('R12: a handler that throws or returns a non-string answers ERR COMM_HANDLER_FAILED, reported with its cause', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const errors: HandlerFailedError[] = [];
    server.on('handlerError', (error) => errors.push(error));
    expect(await exchange(port, 'throw\nnot-a-string\nfine\n')).toBe(
      'ERR COMM_HANDLER_FAILED handler failed\nERR COMM_HANDLER_FAILED handler failed\nfine\n',
    );
    expect(errors.map((error) => error.code)).toEqual(['COMM_HANDLER_FAILED', 'COMM_HANDLER_FAILED']);
    expect((errors[0]?.cause as Error | undefined)?.message).toBe('handler threw on purpose');
    expect((errors[1]?.cause as Error | undefined)?.message).toMatch(/string/);
  });

  it('R13: a line that does not finish in time gets ERR COMM_LINE_TIMEOUT and the connection closes', async () => {
    const { port } = await startServer({ mechanism, lineTimeout: 200 });
    const client = await connectClient(port);
    await client.write('done\npartial');
    await client.closed;
    expect(client.lines()).toEqual(['done', 'ERR COMM_LINE_TIMEOUT line not finished within 200 ms']);
  });

  it('R14: a connection on which nothing arrives for idleTimeout is closed without a line', async () => {
    const { port } = await startServer({ mechanism, idleTimeout: 200 });
    const client = await connectClient(port);
    await client.write('ping\n');
    expect(await client.waitForLines(1)).toEqual(['ping']);
    expect(await closedCleanly(client)).toBe(true);
    expect(client.text()).toBe('ping\n');
  });

  it('R15: a client that does not read is not read from either, and gets every reply once it reads', async () => {
    const maxPendingReplyBytes = 64 * 1024;
    const { port, server } = await startServer({ mechanism, maxPendingReplyBytes, threads: 1 });
    // A plain socket that collects chunks: the shared TestClient re-joins everything per chunk.
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    socket.pause();
    const lines = range(12 * 1024).map((i) => `${String(i).padStart(8, '0')} ${'r'.repeat(1014)}`);
    const payload = Buffer.from(lines.join('\n') + '\n');
    socket.end(payload);
    // Wait until the server stops taking bytes (two equal readings in a row), bounded in count.
    let bytesIn = -1;
    for (let i = 0; i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = (await server.stats()).bytesIn;
      if (now === bytesIn) break;
      bytesIn = now;
    }
    // Loopback buffers hold about 4 MiB here; the server holds at most 64 KiB of replies.
    expect(bytesIn).toBeGreaterThan(0);
    expect(bytesIn).toBeLessThan(payload.length);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await once(socket, 'close');
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  }, 60_000);

  it('R17: close() under load answers every line the server read, then closes each connection cleanly', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const { clients, sent } = await clientsUnderLoad(port, 20, 2000);
    await server.close();
    const received = await expectAnsweredPrefixes(clients, sent);
    // Nothing lost: the server read and answered as many lines as the clients received.
    expect((await server.stats()).linesIn).toBe(received);
  });
});

describe('threaded server, any mechanism', () => {
  it('R1: listens dual-stack by default and tells IPv4 clients by their plain address', async () => {
    const { port } = await startServer({ host: undefined, handler: PROBE_HANDLER });
    const v4 = await connectClient(port, '127.0.0.1');
    expect(await ask(v4, 'who')).toBe('IPv4 127.0.0.1');
    const v6 = await connectClient(port, '::1').catch(() => undefined);
    if (v6 !== undefined) expect(await ask(v6, 'who')).toBe('IPv6 ::1');
  });

  it('the connection event says which thread serves each client', async () => {
    const { port, server } = await startServer({ handler: PROBE_HANDLER });
    const seen: { thread: number; message: string }[] = [];
    server.on('connection', (info) => seen.push(info));
    const client = await connectClient(port);
    await ask(client, 'hello');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.message).toMatch(/^Connected by 127\.0\.0\.1:\d+$/);
    expect([0, 1]).toContain(seen[0]?.thread);
  });

  it('the stats of a server that never listened are empty', async () => {
    const stats = await createServer({ threads: 1 }).stats();
    expect(stats).toMatchObject({ mechanism: 'none', connectionsOpen: 0, threads: [] });
  });
});
