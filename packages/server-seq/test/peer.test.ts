import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, destroyClients } from '@comm/test-helpers';
import { createServer, type ConnectedInfo, type SequentialServer } from '../src/index.js';

let server: SequentialServer | undefined;
afterEach(async () => {
  destroyClients();
  server?.destroy();
  server = undefined;
});

describe('the peer of a connection is taken when it is accepted', () => {
  it('R1, R16: a client that resets while it waits is announced with its real address and port, not ":0"', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    const connections: ConnectedInfo[] = [];
    server.on('connection', (info) => connections.push(info));
    let disconnects = 0;
    const bothGone = new Promise<void>((resolve) => server?.on('disconnect', () => ++disconnects === 2 && resolve()));
    const firstTurn = once(server, 'connection');
    const first = await connectClient(port, '127.0.0.1');
    await firstTurn;

    // The second client waits for its turn, then resets before it comes. Nothing may look at
    // its socket before then (a 'waiting' listener would, and Node caches the peer).
    const second = net.connect({ host: '127.0.0.1', port });
    second.on('error', () => {});
    await once(second, 'connect');
    const secondPort = second.localPort;
    while (server.waitingCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    second.resetAndDestroy();
    await once(second, 'close');

    first.socket.write('BYE\n');
    await bothGone;
    expect(connections).toHaveLength(2);
    expect(connections[1]).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: secondPort, remoteFamily: 'IPv4' });
    expect(connections[1]?.message).toBe(`Connected by 127.0.0.1:${secondPort}`);
  });

  it('stats() counts the connections served, the same shape as the threaded server', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    const client = await connectClient(port, '127.0.0.1');
    client.socket.write('one\ntwo\nBYE\n');
    await client.closed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await server.stats()).toEqual({
      connectionsOpen: 0,
      connectionsTotal: 1,
      linesIn: 3,
      bytesIn: 12,
      bytesOut: 12,
      refused: { denied: 0, notAllowed: 0, maxConnections: 0, maxConnectionsPerAddress: 0 },
      proxyRefused: { notFromBalancer: 0, invalid: 0, timeout: 0 },
      tlsFailed: { handshake: 0, timeout: 0 },
    });
  });
});
