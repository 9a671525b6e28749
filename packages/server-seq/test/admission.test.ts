import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, destroyClients, exchange } from '@comm/test-helpers';
import { createServer, type SequentialServer, type SequentialServerOptions } from '../src/index.js';

let server: SequentialServer | undefined;
afterEach(async () => {
  destroyClients();
  server?.destroy();
  server = undefined;
});

async function start(options: SequentialServerOptions): Promise<number> {
  server = createServer({ host: '::', port: 0, ...options });
  return (await server.listen()).port;
}

describe('admission: who may connect, and how many at once', () => {
  it('R19: a denied address is closed at once without a line; others are served', async () => {
    const port = await start({ deny: '127.0.0.0/8' });
    const refused = once(server as SequentialServer, 'refused');
    expect(await exchange(port, 'hello\n', '127.0.0.1')).toBe('');
    expect((await refused)[1]).toBe('denied');
    expect(await exchange(port, 'hello\n', '::1')).toBe('hello\n');
  });

  it('R19: with an allow list only those may connect; deny wins over allow', async () => {
    const port = await start({ allow: ['::1', '127.0.0.1'], deny: '127.0.0.1' });
    expect(await exchange(port, 'hello\n', '::1')).toBe('hello\n');
    expect(await exchange(port, 'hello\n', '127.0.0.1')).toBe('');
    const port2 = await (async () => {
      server?.destroy();
      return start({ allow: '::1' });
    })();
    expect(await exchange(port2, 'hello\n', '127.0.0.1')).toBe('');
    expect((await server?.stats())?.refused).toMatchObject({ notAllowed: 1 });
  });

  it('R16, R19: one connection past maxConnections gets ERR COMM_SERVER_BUSY and is closed; after a close there is room again', async () => {
    const port = await start({ maxConnections: 2 });
    const first = await connectClient(port, '127.0.0.1');
    const second = await connectClient(port, '127.0.0.1'); // waits its turn: it counts
    expect(await exchange(port, 'hello\n', '127.0.0.1')).toBe(
      'ERR COMM_SERVER_BUSY server busy: too many connections, try again later\n',
    );
    first.socket.end('BYE\n');
    await first.closed;
    second.socket.write('served\n');
    expect(await second.waitForLines(1)).toEqual(['served']);
    second.socket.end('BYE\n');
    await second.closed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await exchange(port, 'again\n', '127.0.0.1')).toBe('again\n');
    expect((await server?.stats())?.refused).toEqual({
      denied: 0,
      notAllowed: 0,
      maxConnections: 1,
      maxConnectionsPerAddress: 0,
    });
  });

  it('R19: maxConnectionsPerAddress counts each client address on its own (after IPv4 mapping)', async () => {
    const port = await start({ maxConnectionsPerAddress: 1 });
    const held = await connectClient(port, '127.0.0.1');
    expect(await exchange(port, 'x\n', '127.0.0.1')).toMatch(
      /^ERR COMM_SERVER_BUSY server busy: too many connections from your address/,
    );
    held.socket.end('BYE\n');
    await held.closed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await exchange(port, 'x\n', '::1')).toBe('x\n');
  });

  it('a bad CIDR is COMM_INVALID_OPTION naming the entry', () => {
    expect(() => createServer({ allow: '10.0.0.0/33' })).toThrow(
      expect.objectContaining({ code: 'COMM_INVALID_OPTION', message: expect.stringContaining('10.0.0.0/33') }),
    );
  });
});
