import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '@comm/protocol';
import { listenDualStack, resolveServerOptions } from './listen.js';
import { DEFAULT_HOST } from './options.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function newServer(): net.Server {
  const server = net.createServer((socket) => socket.end('hi\n'));
  servers.push(server);
  return server;
}

describe('resolveServerOptions', () => {
  it('R1: defaults to port 2000 on ::, dual-stack, no-delay on, keep-alive off', () => {
    const { listen, conversation } = resolveServerOptions();
    expect(listen).toEqual({
      host: DEFAULT_HOST,
      hostIsDefault: true,
      port: DEFAULT_PORT,
      ipv6Only: false,
      backlog: undefined,
      noDelay: true,
      keepAlive: false,
      keepAliveInitialDelay: 0,
    });
    expect(DEFAULT_PORT).toBe(2000);
    expect(conversation.maxLineLength).toBe(65_536);
  });

  it("gives the server's hooks precedence over the user's", () => {
    const mine = (): void => {};
    const { conversation } = resolveServerOptions({ onClose: () => {} }, { onClose: mine });
    expect(conversation.onClose).toBe(mine);
  });

  it.each([
    [{ port: 65536 }],
    [{ port: -1 }],
    [{ port: 1.5 }],
    [{ host: '' }],
    [{ backlog: 0 }],
    [{ noDelay: 'yes' as unknown as boolean }],
    [{ keepAliveInitialDelay: -5 }],
    [{ maxLineLength: 0 }],
  ])('rejects %o with COMM_INVALID_OPTION', (options) => {
    expect(() => resolveServerOptions(options)).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });
});

async function greeting(port: number, host: string): Promise<string> {
  const socket = net.connect({ port, host });
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  await once(socket, 'close');
  return text;
}

describe('listenDualStack', () => {
  it('R1: by default one listener on :: serves IPv4 and IPv6 clients', async () => {
    const server = newServer();
    const address = await listenDualStack(server, resolveServerOptions({ port: 0 }).listen);
    expect(address.address).toBe('::');
    expect(await greeting(address.port, '127.0.0.1')).toBe('hi\n');
    expect(await greeting(address.port, '::1')).toBe('hi\n');
  });

  it('R1: ipv6Only refuses IPv4 clients', async () => {
    const server = newServer();
    const address = await listenDualStack(server, resolveServerOptions({ port: 0, ipv6Only: true }).listen);
    const socket = net.connect({ port: address.port, host: '127.0.0.1' });
    const [error] = (await once(socket, 'error').catch((caught: unknown) => [caught])) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('a taken port fails with COMM_ADDRESS_IN_USE naming the address', async () => {
    const first = newServer();
    const { port } = await listenDualStack(first, resolveServerOptions({ port: 0, host: '127.0.0.1' }).listen);
    const second = newServer();
    await expect(listenDualStack(second, resolveServerOptions({ port, host: '127.0.0.1' }).listen)).rejects.toMatchObject({
      code: 'COMM_ADDRESS_IN_USE',
      message: `address in use: 127.0.0.1:${port} is taken by another process`,
    });
  });

  // A kernel without IPv6 cannot be made inside a test (a network namespace with IPv6 disabled
  // still binds ::), so this server answers a listen on :: as such a kernel does.
  class ServerWithoutIpv6 extends net.Server {
    override listen(...args: unknown[]): this {
      const options = args[0] as net.ListenOptions;
      if (options.host === '::') {
        const error = Object.assign(new Error('listen EAFNOSUPPORT: address family not supported ::'), { code: 'EAFNOSUPPORT' });
        process.nextTick(() => this.emit('error', error));
        return this;
      }
      return super.listen(options);
    }
  }

  it('R1: falls back to 0.0.0.0 when the host has no IPv6 and the host was left to the default', async () => {
    const server = new ServerWithoutIpv6((socket) => socket.end('hi\n'));
    servers.push(server);
    const address = await listenDualStack(server, resolveServerOptions({ port: 0 }).listen);
    expect(address.address).toBe('0.0.0.0');
    expect(await greeting(address.port, '127.0.0.1')).toBe('hi\n');
  });

  it('does not fall back when :: was asked for by name', async () => {
    const server = new ServerWithoutIpv6();
    servers.push(server);
    await expect(listenDualStack(server, resolveServerOptions({ port: 0, host: '::' }).listen)).rejects.toMatchObject({
      code: 'EAFNOSUPPORT',
    });
  });
});
