import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, destroyClients } from '@comm/test-helpers';
import type { ConnectionContext } from '@comm/server-core';
import { createServer, type ConnectedInfo, type SequentialServer, type SequentialServerOptions } from '../src/index.js';

let server: SequentialServer | undefined;
const children = new Set<ChildProcess>();
afterEach(async () => {
  destroyClients();
  server?.destroy();
  server = undefined;
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

const seen: ConnectionContext[] = [];
async function start(options: SequentialServerOptions): Promise<number> {
  seen.length = 0;
  server = createServer({
    host: '::',
    port: 0,
    handler: (line, context) => {
      seen.push(context);
      return line;
    },
    ...options,
  });
  return (await server.listen()).port;
}

/** A v2 header for TCP over IPv4, built from the specification's layout. */
function v2Header(source: string, sourcePort: number, destination: string, destinationPort: number): Buffer {
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const fixed = Buffer.from([0x21, 0x11, 0x00, 12]);
  const addresses = Buffer.alloc(12);
  Buffer.from(source.split('.').map(Number)).copy(addresses, 0);
  Buffer.from(destination.split('.').map(Number)).copy(addresses, 4);
  addresses.writeUInt16BE(sourcePort, 8);
  addresses.writeUInt16BE(destinationPort, 10);
  return Buffer.concat([signature, fixed, addresses]);
}

describe('the PROXY protocol (the client behind a balancer)', () => {
  it("v1, split across writes: the client is the header's, the handler sees the balancer too, and the bytes after it are the first line", async () => {
    const port = await start({ proxyProtocol: 'v1', proxyFrom: '127.0.0.1' });
    const connected = once(server as SequentialServer, 'connection') as Promise<[ConnectedInfo]>;
    const client = await connectClient(port, '127.0.0.1');
    client.socket.write('PROXY TCP4 203.0.113.7 192.0');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.socket.write('.2.1 51234 2000\r\nhel');
    client.socket.write('lo\nBYE\n');
    expect(await client.waitForLines(2)).toEqual(['hello', 'BYE']);
    const [info] = await connected;
    expect(info).toMatchObject({ remoteAddress: '203.0.113.7', remotePort: 51234, message: 'Connected by 203.0.113.7:51234' });
    expect(seen[0]?.remoteAddress).toBe('203.0.113.7');
    expect(seen[0]?.proxy).toMatchObject({ remoteAddress: '127.0.0.1', header: { version: 1, command: 'PROXY' } });
  });

  it('R18: v2 with mode any: the same', async () => {
    const port = await start({ proxyProtocol: 'any', proxyFrom: ['127.0.0.1', '::1'] });
    const connected = once(server as SequentialServer, 'connection') as Promise<[ConnectedInfo]>;
    const client = await connectClient(port, '::1');
    client.socket.write(Buffer.concat([v2Header('198.51.100.9', 4000, '192.0.2.1', 2000), Buffer.from('two\n')]));
    expect(await client.waitForLines(1)).toEqual(['two']);
    expect((await connected)[0]).toMatchObject({ remoteAddress: '198.51.100.9', remotePort: 4000 });
  });

  it('R18: a client not in proxyFrom is refused (the specification); with proxyOthers plain it is served without a header', async () => {
    const port = await start({ proxyProtocol: 'v1', proxyFrom: '127.0.0.1' });
    const refused = once(server as SequentialServer, 'refused');
    const outsider = await connectClient(port, '::1');
    outsider.socket.write('hello\n');
    await outsider.closed;
    expect(outsider.text()).toBe('');
    expect((await refused)[1]).toBe('not-from-balancer');
    server?.destroy();
    const plainPort = await start({ proxyProtocol: 'v1', proxyFrom: '127.0.0.1', proxyOthers: 'plain' });
    const plain = await connectClient(plainPort, '::1');
    plain.socket.write('hello\n');
    expect(await plain.waitForLines(1)).toEqual(['hello']);
  });

  it('R18: a malformed header, or none in time, closes that connection only, counted; the next is served', async () => {
    const port = await start({ proxyProtocol: 'v1', proxyFrom: '127.0.0.1', proxyHeaderTimeout: 100 });
    const bad = await connectClient(port, '127.0.0.1');
    bad.socket.write('PROXY TCP4 1.2.3.004 1.2.3.4 1 2\r\nhello\n');
    await bad.closed;
    const slow = await connectClient(port, '127.0.0.1');
    slow.socket.write('PROXY TCP4');
    await slow.closed;
    const good = await connectClient(port, '127.0.0.1');
    good.socket.write('PROXY UNKNOWN\r\nok\n');
    expect(await good.waitForLines(1)).toEqual(['ok']);
    expect((await server?.stats())?.proxyRefused).toEqual({ notFromBalancer: 0, invalid: 1, timeout: 1 });
    expect(bad.text() + slow.text()).toBe('');
  });

  it('proxyProtocol without proxyFrom is COMM_INVALID_OPTION', () => {
    expect(() => createServer({ proxyProtocol: 'v2' })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });

  const haproxy = spawnSyncWorks('haproxy', ['-v']);
  describe.skipIf(!haproxy && process.env.CI === undefined)('behind the real HAProxy (send-proxy, send-proxy-v2)', () => {
    for (const sendProxy of ['send-proxy', 'send-proxy-v2']) {
      it(`R18: ${sendProxy}: Connected by names the client, not HAProxy`, async () => {
        const port = await start({ host: '127.0.0.1', proxyProtocol: 'any', proxyFrom: '127.0.0.1' });
        const front = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'comm-haproxy-'));
        const config = join(dir, 'haproxy.cfg');
        writeFileSync(
          config,
          [
            'global',
            '  maxconn 100',
            'defaults',
            '  mode tcp',
            '  timeout connect 2s',
            '  timeout client 10s',
            '  timeout server 10s',
            'frontend comm',
            `  bind 127.0.0.1:${front}`,
            '  default_backend servers',
            'backend servers',
            `  server s1 127.0.0.1:${port} ${sendProxy}`,
            '',
          ].join('\n'),
        );
        const client = await throughBalancer('haproxy', ['-f', config, '-db'], front);
        expect(seen[0]?.proxy?.remotePort).not.toBe(client.socket.localPort);
      });
    }
  });
  const nginx = spawnSyncWorks('nginx', ['-v']);
  const streamModule = ['/usr/lib/nginx/modules/ngx_stream_module.so'].find((path) => existsSync(path));
  describe.skipIf((!nginx || streamModule === undefined) && process.env.CI === undefined)(
    'behind nginx (stream, proxy_protocol on)',
    () => {
      it('R18: Connected by names the client, not nginx', async () => {
        const port = await start({ host: '127.0.0.1', proxyProtocol: 'v1', proxyFrom: '127.0.0.1' });
        const front = await freePort();
        const dir = mkdtempSync(join(tmpdir(), 'comm-nginx-'));
        const config = join(dir, 'nginx.conf');
        writeFileSync(
          config,
          [
            `load_module ${streamModule};`,
            'daemon off;',
            'worker_processes 1;',
            `pid ${join(dir, 'nginx.pid')};`,
            `error_log ${join(dir, 'error.log')};`,
            'events { worker_connections 64; }',
            'stream {',
            '  server {',
            `    listen 127.0.0.1:${front};`,
            `    proxy_pass 127.0.0.1:${port};`,
            '    proxy_protocol on;',
            '  }',
            '}',
            '',
          ].join('\n'),
        );
        await throughBalancer('nginx', ['-c', config, '-p', dir, '-e', join(dir, 'error.log')], front);
      });
    },
  );
});

function spawnSyncWorks(command: string, args: string[]): boolean {
  try {
    return spawnSync(command, args).status === 0;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Starts a balancer (HAProxy, nginx) in front of the server, connects through it, sends a line
 * and checks that the server answered it and announced the client by its own port, the
 * balancer's address in `connection.proxy`.
 */
async function throughBalancer(
  command: string,
  args: string[],
  front: number,
): Promise<Awaited<ReturnType<typeof connectClient>>> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const connected = once(server as SequentialServer, 'connection') as Promise<[ConnectedInfo]>;
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  for (let attempt = 0; attempt < 50 && client === undefined; attempt++) {
    client = await connectClient(front, '127.0.0.1').catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return undefined;
    });
  }
  if (client === undefined) throw new Error(`${command} did not start`);
  client.socket.write(`through ${command}\n`);
  expect(await client.waitForLines(1)).toEqual([`through ${command}`]);
  const [info] = await connected;
  expect(info.remotePort).toBe(client.socket.localPort);
  expect(seen[0]?.proxy?.remoteAddress).toBe('127.0.0.1');
  return client;
}
