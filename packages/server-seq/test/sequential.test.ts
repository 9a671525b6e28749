import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SequentialServer, type SequentialServerOptions } from '../src/index.js';
import type { ConnectedInfo, DisconnectInfo, WaitingInfo } from '../src/index.js';
import { connectClient, destroyClients, exchange, gatedHandler, settle } from '@comm/test-helpers';

const servers: SequentialServer[] = [];

async function start(options: SequentialServerOptions = {}): Promise<{ server: SequentialServer; port: number }> {
  const server = createServer({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

/** Resolves once the server has `count` clients waiting. */
async function waitingCount(server: SequentialServer, count: number): Promise<void> {
  while (server.waitingCount < count) await new Promise((resolve) => server.once('waiting', resolve));
}

afterEach(() => {
  destroyClients();
  for (const server of servers.splice(0)) server.destroy();
});

describe('one client at a time (R16)', () => {
  it('R16: a second client gets no reply until the first leaves, then every line it sent is answered', async () => {
    const { server, port } = await start();
    const first = await connectClient(port);
    await first.write('first 1\n');
    expect(await first.waitForLines(1)).toEqual(['first 1']);

    const second = await connectClient(port);
    await waitingCount(server, 1);
    await second.write('second 1\nsecond 2\n');
    await first.write('first 2\n');
    expect(await first.waitForLines(2)).toEqual(['first 1', 'first 2']);
    // The second client's lines sit in the kernel: the first client's reply came after them, and still nothing.
    await settle(20);
    expect(second.text()).toBe('');

    first.socket.end();
    await first.closed;
    expect(await second.waitForLines(2)).toEqual(['second 1', 'second 2']);
    await second.write('second 3\n');
    expect(await second.waitForLines(3)).toEqual(['second 1', 'second 2', 'second 3']);
  });

  it('R16: waiting clients are served in the order they arrived', async () => {
    const order: number[] = [];
    const { server, port } = await start({
      handler: (line) => {
        order.push(Number(line));
        return line;
      },
    });
    const holder = await connectClient(port);
    await holder.write('0\n');
    await holder.waitForLines(1);
    const waiting = [];
    for (let i = 1; i <= 5; i++) {
      const client = await connectClient(port);
      await waitingCount(server, i);
      client.socket.end(`${i}\n`);
      waiting.push(client);
    }
    holder.socket.end();
    await Promise.all(waiting.map((client) => client.closed));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(waiting.map((client) => client.text())).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n']);
  });

  it('R11, R16: a waiting client that sends its lines and half-closes gets every reply when its turn comes', async () => {
    const { server, port } = await start();
    const first = await connectClient(port);
    await first.write('first\n');
    await first.waitForLines(1);
    const patient = await connectClient(port);
    await waitingCount(server, 1);
    patient.socket.end('one\ntwo\nlast without LF');
    await settle(20);
    expect(patient.text()).toBe('');
    first.socket.end();
    await patient.closed;
    expect(patient.text()).toBe('one\ntwo\nlast without LF\n');
  });

  it('R16: past maxWaiting a new client gets ERR COMM_SERVER_BUSY and is closed; the waiting one is still served', async () => {
    const { server, port } = await start({ maxWaiting: 1 });
    const busy: number[] = [];
    server.on('busy', (info) => busy.push(info.connectionId));
    const served = await connectClient(port);
    await served.write('a\n');
    await served.waitForLines(1);
    const waiting = await connectClient(port);
    await waitingCount(server, 1);
    const turnedAway = await connectClient(port);
    await turnedAway.write('please\n');
    const { error } = await turnedAway.closed;
    expect(error).toBeUndefined();
    expect(turnedAway.text()).toBe('ERR COMM_SERVER_BUSY server busy: too many clients waiting, try again later\n');
    expect(busy).toEqual([3]);

    waiting.socket.end('b\n');
    served.socket.end();
    await waiting.closed;
    expect(waiting.text()).toBe('b\n');
  });

  it('R16: with maxWaiting 0 nobody waits', async () => {
    const { port } = await start({ maxWaiting: 0 });
    const served = await connectClient(port);
    await served.write('a\n');
    await served.waitForLines(1);
    expect(await exchange(port, 'x\n')).toMatch(/^ERR COMM_SERVER_BUSY /);
  });

  it('R3, R5, R6, R8: a BOM, CRLF, an empty line and invalid UTF-8 are handled as the spec says', async () => {
    const { port } = await start();
    const payload = Buffer.concat([
      Buffer.from('\uFEFFfirst\r\n\n'),
      Buffer.from([0x62, 0x61, 0x64, 0xff, 0x0a]),
      Buffer.from('last\n'),
    ]);
    expect(await exchange(port, payload)).toBe('first\n\nERR COMM_INVALID_UTF8 invalid utf-8 in line\nlast\n');
  });

  it('R13: a slow sender is cut off by the line deadline, and the waiting client gets its turn', async () => {
    const { server, port } = await start({ lineTimeout: 200 });
    const slow = await connectClient(port);
    await slow.write('half a li');
    const next = await connectClient(port);
    await waitingCount(server, 1);
    await next.write('my turn\n');
    await slow.closed;
    expect(slow.text()).toBe('ERR COMM_LINE_TIMEOUT line not finished within 200 ms\n');
    expect(await next.waitForLines(1)).toEqual(['my turn']);
  });

  it('R14, R16: an idle client is closed without a line and the waiting one gets its turn; its idle clock did not run while it waited', async () => {
    const gate = gatedHandler();
    const { server, port } = await start({ idleTimeout: 150, handler: gate.handler });
    const firstLeft = new Promise<DisconnectInfo>((resolve) => server.once('disconnect', resolve));
    const first = await connectClient(port);
    await first.write('slow\n');
    await gate.started;
    const waiting = await connectClient(port);
    await waitingCount(server, 1);
    await waiting.write('waited\n');
    // Several idle periods pass while the first client's handler works, and the waiting client is quiet.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(waiting.socket.destroyed).toBe(false);
    gate.release();
    expect(await first.waitForLines(1)).toEqual(['SLOW']);

    // Nothing more from the first client: R14 closes it without a line, and the turn passes on.
    const { error } = await first.closed;
    expect(error).toBeUndefined();
    expect(first.text()).toBe('SLOW\n');
    expect((await firstLeft).reason).toBe('idle-timeout');
    expect(await waiting.waitForLines(1)).toEqual(['waited']);
  });

  it('a client that resets in the middle of a line does not stop the server; the next one is served', async () => {
    const { server, port } = await start();
    const disconnects: DisconnectInfo[] = [];
    server.on('disconnect', (info) => disconnects.push(info));
    const rude = await connectClient(port);
    await rude.write('whole\nhalf');
    await rude.waitForLines(1);
    const next = await connectClient(port);
    await waitingCount(server, 1);
    rude.socket.resetAndDestroy();
    await next.write('hello\n');
    expect(await next.waitForLines(1)).toEqual(['hello']);
    expect(disconnects[0]).toMatchObject({ reason: 'error', linesIn: 1 });
    expect((disconnects[0]?.error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
  });

  it('R12: a handler that throws answers with an error, is reported, and the server serves on', async () => {
    const reported: string[] = [];
    const { server, port } = await start({
      handler: (line) => {
        if (line === 'boom') throw new Error('bad handler');
        return line;
      },
    });
    server.on('handlerError', (error) => reported.push((error.cause as Error).message));
    expect(await exchange(port, 'boom\nok\n')).toBe('ERR COMM_HANDLER_FAILED handler failed\nok\n');
    expect(await exchange(port, 'again\n')).toBe('again\n');
    expect(reported).toEqual(['bad handler']);
  });
});

describe('events', () => {
  it('tells connection ("Connected by ..."), waiting (with position) and disconnect (with counts)', async () => {
    const { server, port } = await start();
    const connections: ConnectedInfo[] = [];
    const waits: WaitingInfo[] = [];
    const disconnects: DisconnectInfo[] = [];
    server.on('connection', (info) => connections.push(info));
    server.on('waiting', (info) => waits.push(info));
    server.on('disconnect', (info) => disconnects.push(info));
    const first = await connectClient(port);
    await first.write('x\n');
    await first.waitForLines(1);
    const second = await connectClient(port);
    await waitingCount(server, 1);
    const [firstPort, secondPort] = [first.socket.localPort, second.socket.localPort];
    first.socket.end('BYE\n');
    second.socket.end('hello\n');
    await second.closed;
    await settle();
    expect(connections.map((info) => info.message)).toEqual([
      `Connected by 127.0.0.1:${firstPort}`,
      `Connected by 127.0.0.1:${secondPort}`,
    ]);
    expect(connections.map((info) => info.connectionId)).toEqual([1, 2]);
    expect(waits).toEqual([
      { connectionId: 2, remoteAddress: '127.0.0.1', remotePort: secondPort, remoteFamily: 'IPv4', position: 1 },
    ]);
    expect(
      disconnects.map(({ connectionId, reason, linesIn, bytesIn, bytesOut }) => ({
        connectionId,
        reason,
        linesIn,
        bytesIn,
        bytesOut,
      })),
    ).toEqual([
      { connectionId: 1, reason: 'bye', linesIn: 2, bytesIn: 6, bytesOut: 6 },
      { connectionId: 2, reason: 'end', linesIn: 1, bytesIn: 6, bytesOut: 6 },
    ]);
  });
});

describe('listening', () => {
  it('R1: listens dual-stack by default and shows IPv4 clients without ::ffff:', async () => {
    const server = createServer({ port: 0, handler: (_line, context) => `${context.remoteAddress} ${context.remoteFamily}` });
    servers.push(server);
    const messages: string[] = [];
    server.on('connection', (info) => messages.push(info.message));
    const address = await server.listen();
    expect(address.address).toBe('::');
    expect(await exchange(address.port, 'who\n', '127.0.0.1')).toBe('127.0.0.1 IPv4\n');
    expect(await exchange(address.port, 'who\n', '::1')).toBe('::1 IPv6\n');
    expect(messages[0]).toMatch(/^Connected by 127\.0\.0\.1:\d+$/);
    expect(messages[1]).toMatch(/^Connected by \[::1\]:\d+$/);
  });

  it('rejects with COMM_ADDRESS_IN_USE when the port is taken', async () => {
    const { port } = await start();
    const second = createServer({ port, host: '127.0.0.1' });
    servers.push(second);
    await expect(second.listen()).rejects.toMatchObject({ code: 'COMM_ADDRESS_IN_USE' });
  });

  it('rejects with COMM_SERVER_CLOSED when listening after close()', async () => {
    const { server } = await start();
    await server.close();
    await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_SERVER_CLOSED' });
  });

  it('rejects bad options with COMM_INVALID_OPTION', () => {
    expect(() => createServer({ maxWaiting: -1 })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    expect(() => createServer({ port: 70000 })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });
});

describe('shutdown (R17)', () => {
  it('R17: close() answers every line the served client sent, closes waiting clients without a line, and resolves', async () => {
    const gate = gatedHandler();
    const { server, port } = await start({ handler: gate.handler });
    const served = await connectClient(port);
    await served.write('a\n');
    await served.waitForLines(1);
    const waiting = await connectClient(port);
    await waitingCount(server, 1);
    await waiting.write('never answered\n');
    await served.write('slow\nb\n');
    await gate.started;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await waiting.closed;
    expect(waiting.text()).toBe('');
    expect(closed).toBe(false);
    gate.release();
    await closing;
    await served.closed;
    expect(served.text()).toBe('a\nSLOW\nb\n');
  });

  it('destroy() closes everything at once', async () => {
    const { server, port } = await start();
    const served = await connectClient(port);
    await served.write('a\n');
    await served.waitForLines(1);
    const waiting = await connectClient(port);
    await waitingCount(server, 1);
    server.destroy();
    await Promise.all([served.closed, waiting.closed]);
    expect(waiting.text()).toBe('');
  });
});
