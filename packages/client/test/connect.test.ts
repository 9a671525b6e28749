import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type CommClient } from '../src/index.js';
import { track } from '@comm/test-helpers';
import { cleanUp, startNodeEcho, startPeer } from './helpers.js';

afterEach(cleanUp);

/** A port nothing listens on: one the kernel just handed out and took back. */
async function closedPort(host: string): Promise<number> {
  const server = await startNodeEcho(host);
  await server.stop();
  return server.port;
}

describe('connect', () => {
  it('connects to IPv4 127.0.0.1', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    expect(client.address).toBe(`127.0.0.1:${peer.port}`);
    expect(client.remoteFamily).toBe('IPv4');
    expect(await client.request('four')).toBe('four');
  });

  it('connects to IPv6 ::1, with or without brackets', async () => {
    const peer = await startPeer('echo', '::1');
    const plain = track(await connect('::1', peer.port));
    const bracketed = track(await connect({ host: '[::1]', port: peer.port }));
    expect(plain.address).toBe(`[::1]:${peer.port}`);
    expect(bracketed.remoteAddress).toBe('::1');
    expect(plain.remoteFamily).toBe('IPv6');
    expect(await plain.request('six')).toBe('six');
    expect(await bracketed.request('six too')).toBe('six too');
  });

  it('connects to a host name and names the address it reached', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('localhost', peer.port));
    expect(client.address).toBe(`localhost:${peer.port} (127.0.0.1:${peer.port})`);
    expect(await client.request('by name')).toBe('by name');
  });

  it('family 6 forces IPv6: a name with only an IPv4 address is not found', async () => {
    // /etc/hosts here maps localhost to 127.0.0.1 only; where it also maps ::1, family 6 must reach ::1.
    const peer = await startNodeEcho('::1');
    const hasIpv6 = (await lookup('localhost', { all: true })).some((address) => address.family === 6);
    const result = await connect('localhost', peer.port, { family: 6 }).then(
      (client) => track(client).remoteFamily,
      (error: { code: string; message: string }) => error,
    );
    if (hasIpv6) expect(result).toBe('IPv6');
    else
      expect(result).toMatchObject({
        code: 'COMM_HOST_NOT_FOUND',
        message: `host not found: localhost:${peer.port} (no IPv6 address)`,
      });
  });

  it('family 4 forces IPv4 for a host name', async () => {
    const peer = await startNodeEcho('127.0.0.1');
    const client = track(await connect('localhost', peer.port, { family: 4 }));
    expect(client.remoteFamily).toBe('IPv4');
  });

  it('refused port: COMM_CONNECTION_REFUSED names the address, IPv4 and IPv6', async () => {
    const port4 = await closedPort('127.0.0.1');
    await expect(connect('127.0.0.1', port4)).rejects.toMatchObject({
      code: 'COMM_CONNECTION_REFUSED',
      name: 'ConnectionRefusedError',
      message: `connection refused: 127.0.0.1:${port4}`,
    });
    const port6 = await closedPort('::1');
    await expect(connect('::1', port6)).rejects.toMatchObject({
      code: 'COMM_CONNECTION_REFUSED',
      message: `connection refused: [::1]:${port6}`,
    });
    await expect(connect('localhost', port4, { family: 4 })).rejects.toMatchObject({
      message: `connection refused: localhost:${port4} (127.0.0.1:${port4})`,
    });
  });

  it('unknown host: COMM_HOST_NOT_FOUND names the host (a name under .invalid never resolves)', async () => {
    await expect(connect('no-such-host.invalid', 2000)).rejects.toMatchObject({
      code: 'COMM_HOST_NOT_FOUND',
      message: expect.stringMatching(/^host not found: no-such-host\.invalid:2000 \((ENOTFOUND|EAI_\w+)\)$/),
    });
  });

  it('connect timeout: COMM_TIMEOUT when the handshake never completes', async () => {
    const peer = await startPeer('full', '127.0.0.1');
    await expect(connect('127.0.0.1', peer.port, { connectTimeout: 300 })).rejects.toMatchObject({
      code: 'COMM_TIMEOUT',
      phase: 'connect',
      message: `timed out: connect within 300 ms from 127.0.0.1:${peer.port}`,
    });
  });

  it('an AbortSignal stops the connect with COMM_ABORTED', async () => {
    const peer = await startPeer('full', '127.0.0.1');
    const controller = new AbortController();
    const pending = connect('127.0.0.1', peer.port, { signal: controller.signal, connectTimeout: 0 });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'COMM_ABORTED' });
    await expect(connect('127.0.0.1', peer.port, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'COMM_ABORTED',
    });
  });

  it('a non-zero flowinfo is refused before connecting: COMM_FLOWINFO_UNSUPPORTED', async () => {
    await expect(connect({ host: '::1', port: 1, flowinfo: 1 })).rejects.toMatchObject({
      code: 'COMM_FLOWINFO_UNSUPPORTED',
      name: 'FlowinfoUnsupportedError',
    });
    const peer = await startPeer('echo', '::1');
    const client = track(await connect({ host: '::1', port: peer.port, flowinfo: 0, scopeId: 0 }));
    expect(await client.request('flow 0')).toBe('flow 0');
  });

  it('a link-local address without a scope, or with an unknown interface, is refused before any packet leaves', async () => {
    // Newer Node versions would pick an interface themselves; we refuse instead, on every version.
    await expect(connect('fe80::1', 9)).rejects.toMatchObject({
      code: 'COMM_INVALID_OPTION',
      message: expect.stringMatching(/link-local/),
    });
    await expect(connect('fe80::1%no-such-if0', 9)).rejects.toMatchObject({
      code: 'COMM_INVALID_OPTION',
      message: "no network interface named 'no-such-if0' for fe80::1",
    });
  });

  it('bad options are COMM_INVALID_OPTION, as a rejection', async () => {
    await expect(connect('::1', 1, { family: 4 })).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
    await expect(connect('::1', 1, { connectTimeout: -1 })).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
    await expect(connect('::1', 1, { maxLineLength: 0 })).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
  });

  it('keep-alive: on request the socket runs a keep-alive timer, and not by default (seen with ss)', async (context) => {
    const probe = spawnSync('ss', ['-V']);
    if (probe.status !== 0) context.skip('ss (iproute2) is not installed, so socket timers cannot be seen');
    const peer = await startNodeEcho('127.0.0.1');
    const timerOf = (client: CommClient): string =>
      spawnSync('ss', ['-tnoH', 'state', 'established', `( sport = :${client.localPort} )`], { encoding: 'utf8' }).stdout;
    const withKeepAlive = track(await connect('127.0.0.1', peer.port, { keepAlive: true, keepAliveInitialDelay: 60_000 }));
    const without = track(await connect('127.0.0.1', peer.port));
    expect(await withKeepAlive.request('ka')).toBe('ka');
    expect(timerOf(withKeepAlive)).toMatch(/timer:\(keepalive,/);
    expect(timerOf(without)).not.toMatch(/keepalive/);
  });
});
