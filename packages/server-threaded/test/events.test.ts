// The events every comm server shares, as this one tells them on each mechanism: the same
// arguments as @comm/server-seq's, each connection record with the thread that serves it.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerFailedError } from '@comm/server-core';
import type { ThreadedConnectedInfo, ThreadedConnectionInfo, ThreadedDisconnectInfo } from '../dist/index.js';
import { MECHANISMS, PROBE_HANDLER, ask, connectClient, eventWithin, startServer, stopAll } from './helpers.js';

afterEach(stopAll);

/** A handler module whose `setup` always throws. */
const FAILING_SETUP = `data:text/javascript,${encodeURIComponent(
  'export function setup() { throw new Error("setup refuses"); }\nexport function handler(line) { return line; }',
)}`;

/** What every event tells of the client on `localPort`, served by the thread of `connection`. */
function recordOf(connection: ThreadedConnectedInfo, localPort: number | undefined): ThreadedConnectionInfo {
  return {
    connectionId: connection.connectionId,
    remoteAddress: '127.0.0.1',
    remotePort: localPort as number,
    remoteFamily: 'IPv4',
    thread: connection.thread,
  };
}

/**
 * Connects to `port` from a child process that resets the connection as soon as it is made, and
 * waits for it, blocking this thread meanwhile; resolves with the client's port.
 */
function connectAndReset(port: number): number {
  const script = `const s = require('node:net').connect(${port}, '127.0.0.1', () => { console.log(s.localPort); s.resetAndDestroy(); });
s.on('error', () => {});
s.on('close', () => process.exit(0));`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim());
}

describe.each(MECHANISMS)('the shared server events, mechanism %s', (mechanism) => {
  it('disconnect: a client that said BYE, with its lines and bytes, the same record as its connection event', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const connected = eventWithin<[ThreadedConnectedInfo]>(server, 'connection');
    const disconnected = eventWithin<[ThreadedDisconnectInfo]>(server, 'disconnect');
    const client = await connectClient(port);
    const localPort = client.socket.localPort;
    await client.write('one\ntwo\nBYE\n');
    await client.closed;
    const [connection] = await connected;
    const [info] = await disconnected;
    expect(connection.message).toBe(`Connected by 127.0.0.1:${localPort}`);
    expect(info).toEqual({
      ...recordOf(connection, localPort),
      reason: 'bye',
      linesIn: 3,
      bytesIn: 12,
      bytesOut: 12,
      error: undefined,
    });
  });

  it('disconnect: a client that reset says error, with the socket error', async () => {
    const { port, server } = await startServer({ mechanism });
    const disconnected = eventWithin<[ThreadedDisconnectInfo]>(server, 'disconnect');
    const client = await connectClient(port);
    // The unfinished line is read with the whole one, so the reset finds nothing unread.
    await client.write('whole\nhalf');
    expect(await client.waitForLines(1)).toEqual(['whole']);
    client.socket.resetAndDestroy();
    const [info] = await disconnected;
    expect(info).toMatchObject({ reason: 'error', linesIn: 1 });
    expect(info.error).toBeInstanceOf(Error);
    expect((info.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('handlerError: the handler error and the whole record of its connection, thread included', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER });
    const connected = eventWithin<[ThreadedConnectedInfo]>(server, 'connection');
    const failed = eventWithin<[HandlerFailedError, ThreadedConnectionInfo]>(server, 'handlerError');
    const client = await connectClient(port);
    expect(await ask(client, 'throw')).toBe('ERR COMM_HANDLER_FAILED handler failed');
    const [connection] = await connected;
    const [error, info] = await failed;
    expect((error.cause as Error).message).toBe('handler threw on purpose');
    expect(info).toEqual(recordOf(connection, client.socket.localPort));
  });

  it('a setup that throws: handlerError with the record, then disconnect with reason setup-failed', async () => {
    const { port, server } = await startServer({ mechanism, handler: FAILING_SETUP });
    const connected = eventWithin<[ThreadedConnectedInfo]>(server, 'connection');
    const failed = eventWithin<[HandlerFailedError, ThreadedConnectionInfo]>(server, 'handlerError');
    const disconnected = eventWithin<[ThreadedDisconnectInfo]>(server, 'disconnect');
    const client = await connectClient(port);
    const [connection] = await connected;
    const [error, info] = await failed;
    expect((error.cause as Error).message).toBe('setup refuses');
    expect(info).toEqual(recordOf(connection, client.socket.localPort));
    expect(await disconnected).toMatchObject([{ ...info, reason: 'setup-failed', linesIn: 0 }]);
  });

  it('a worker that dies of an uncaught exception: the disconnect of each of its clients is told', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 1 });
    const disconnected = eventWithin<[ThreadedDisconnectInfo]>(server, 'disconnect');
    const victim = await connectClient(port);
    const localPort = victim.socket.localPort;
    await victim.write('crash\n');
    const [info] = await disconnected;
    expect(info).toMatchObject({ remotePort: localPort, thread: 0, reason: 'shutdown', linesIn: 1 });
  });

  it('a client already gone when it is accepted is neither served nor announced', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 1 });
    const announced: number[] = [];
    server.on('connection', ({ remotePort }) => announced.push(remotePort));
    let gonePort: number;
    if (mechanism === 'reuse-port') {
      // The worker accepts: hold it in a handler call while the client comes and goes.
      const holder = await connectClient(port);
      const flag = join(tmpdir(), `comm-gone-${process.pid}-${Date.now()}`);
      try {
        await holder.write(`spin-until ${flag}\n`);
        while (!existsSync(`${flag}.spinning`)) await new Promise((resolve) => setTimeout(resolve, 5));
        gonePort = connectAndReset(port);
        writeFileSync(flag, '');
        expect(await holder.waitForLines(1)).toEqual(['spun']);
      } finally {
        rmSync(flag, { force: true });
        rmSync(`${flag}.spinning`, { force: true });
      }
    } else {
      // This thread accepts, and cannot while the child process runs.
      gonePort = connectAndReset(port);
    }
    const next = await connectClient(port);
    const nextPort = next.socket.localPort as number;
    expect(await ask(next, 'after')).toBe('after');
    // With reuse-port the worker's word may come after the reply; it comes after the gone client's, had there been one.
    while (!announced.includes(nextPort)) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(announced).not.toContain(gonePort);
    expect(announced).not.toContain(0);
    expect((await server.stats()).connectionsTotal).toBe(announced.length);
  });
});
