import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '@comm/test-helpers';
import { createServer, type ThreadedConnectedInfo } from '../src/index.js';
import { connectClient, destroyClients, exchange, MECHANISMS, startServer, stopAll } from './helpers.js';

afterEach(async () => {
  destroyClients();
  await stopAll();
});

const MAIN_THREAD_ACCEPT = MECHANISMS.filter((mechanism) => mechanism !== 'reuse-port');

describe('admission on the threaded server (R19)', () => {
  for (const mechanism of MAIN_THREAD_ACCEPT) {
    it(`R19 ${mechanism}: a denied address is closed without a line; others are served`, async () => {
      const { server, port } = await startServer({ mechanism, host: '::', deny: '127.0.0.1' });
      const refused = once(server, 'refused');
      expect(await exchange(port, 'hello\n', '127.0.0.1')).toBe('');
      expect((await refused)[1]).toBe('denied');
      expect(await exchange(port, 'hello\n', '::1')).toBe('hello\n');
      expect((await server.stats()).refused).toMatchObject({ denied: 1 });
    });

    it(`R19 ${mechanism}: past maxConnections a client gets ERR COMM_SERVER_BUSY; when one closes on its thread there is room again`, async () => {
      const { port } = await startServer({ mechanism, host: '127.0.0.1', maxConnections: 1 });
      const held = await connectClient(port, '127.0.0.1');
      held.socket.write('one\n');
      await held.waitForLines(1);
      expect(await exchange(port, 'two\n', '127.0.0.1')).toBe(
        'ERR COMM_SERVER_BUSY server busy: too many connections, try again later\n',
      );
      held.socket.end('BYE\n');
      await held.closed;
      let reply = '';
      for (let attempt = 0; attempt < 50 && reply !== 'three\n'; attempt++) {
        reply = await exchange(port, 'three\n', '127.0.0.1');
        if (reply !== 'three\n') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(reply).toBe('three\n');
    });
  }

  it.skipIf(!MECHANISMS.includes('reuse-port'))(
    'R19 reuse-port: the rules need a main-thread accept, said at listen()',
    async () => {
      const server = createServer({ mechanism: 'reuse-port', port: 0, maxConnections: 5 });
      await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
      await server.close();
    },
  );
});

describe('the PROXY protocol on the threaded server (R18)', () => {
  it("R18 main-thread-io (auto picks it): the client is the header's", async () => {
    const { server, port } = await startServer({ host: '127.0.0.1', proxyProtocol: 'v1', proxyFrom: '127.0.0.1' });
    expect(server.mechanism).toBe('main-thread-io');
    const connected = once(server, 'connection') as Promise<[ThreadedConnectedInfo]>;
    expect(await exchange(port, 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 2000\r\nhello\n', '127.0.0.1')).toBe('hello\n');
    expect((await connected)[0]).toMatchObject({
      remoteAddress: '203.0.113.7',
      remotePort: 51234,
      message: 'Connected by 203.0.113.7:51234',
    });
  });

  it('R18: a handler module on a worker thread sees the client and the balancer (connection.proxy)', async () => {
    const handler = `data:text/javascript,${encodeURIComponent(
      'export function handler(line, c) { return `${line} from ${c.remoteAddress} via ${c.proxy?.remoteAddress} v${c.proxy?.header.version}`; }',
    )}`;
    const { port } = await startServer({ host: '127.0.0.1', handler, proxyProtocol: 'v1', proxyFrom: '127.0.0.1' });
    expect(await exchange(port, 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 2000\r\nhi\n', '127.0.0.1')).toBe(
      'hi from 203.0.113.7 via 127.0.0.1 v1\n',
    );
  });

  it.skipIf(!MECHANISMS.includes('transfer'))('R18 transfer forced: refused at listen(), with the reason', async () => {
    const server = createServer({ mechanism: 'transfer', port: 0, proxyProtocol: 'v2', proxyFrom: '127.0.0.1' });
    await expect(server.listen()).rejects.toThrow(/proxyProtocol needs mechanism main-thread-io/);
    await server.close();
  });
});

describe('TLS on the threaded server', () => {
  it('R20: not supported yet, and said at listen(), not ignored', async () => {
    const { cert, key } = makeTestCertificates();
    const server = createServer({ port: 0, tls: { cert, key } });
    await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
    await server.close();
  });
});
