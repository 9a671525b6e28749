// TLS on the server, implicit from the first byte: our client, and peers we did not write
// (openssl s_client, socat OPENSSL:, ncat --ssl), with certificates made at run time.
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { connect } from '@comm/client';
import type { ConnectionContext } from '@comm/server-core';
import { killChildren, makeTestCertificates, runToEnd, type TestCertificates } from '@comm/test-helpers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type SequentialServer, type SequentialServerOptions } from '../src/index.js';
import { runCli } from './cli-process.js';

let certificates: TestCertificates = undefined as never;
let server: SequentialServer | undefined;
const seen: ConnectionContext[] = [];

beforeAll(() => {
  certificates = makeTestCertificates();
});
afterEach(() => {
  server?.destroy();
  server = undefined;
  seen.length = 0;
});
afterAll(killChildren);

async function start(options: Partial<SequentialServerOptions> = {}): Promise<number> {
  server = createServer({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: certificates.cert, key: certificates.key },
    handler: (line, context) => {
      seen.push(context);
      return line;
    },
    ...options,
  });
  return (await server.listen()).port;
}

describe('TLS on the sequential server', () => {
  it('R20: our client over TLS: lines both ways; the handler sees connection.tls', async () => {
    const port = await start();
    const client = await connect('localhost', port, { tls: { ca: certificates.ca } });
    expect(await client.request('hello over tls')).toBe('hello over tls');
    await client.close();
    expect(seen[0]?.tls).toMatchObject({
      protocol: expect.stringMatching(/^TLSv1\.[23]$/),
      cipher: expect.any(String),
      clientCertificate: undefined,
    });
  });

  it.each([
    [
      'openssl s_client',
      'openssl',
      (port: number) => [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-quiet',
        '-CAfile',
        certificates.files.ca,
        '-verify_return_error',
      ],
    ],
    [
      'socat OPENSSL:',
      'socat',
      (port: number) => ['-', `OPENSSL:127.0.0.1:${port},cafile=${certificates.files.ca},commonname=localhost`],
    ],
    [
      'ncat --ssl',
      'ncat',
      (port: number) => ['--ssl', '--ssl-trustfile', certificates.files.ca, '--ssl-verify', 'localhost', String(port)],
    ],
  ])('R20 interop: %s talks to it, BYE ends it (R10)', async (_, command, args) => {
    const port = await start();
    const result = await runToEnd(command, args(port), { input: 'one\ntwo\nBYE\n', limitMs: 20_000 });
    expect(result.stdout).toBe('one\ntwo\nBYE\n');
  });

  it('R20: a client that does not finish its handshake in time is closed and counted', async () => {
    const port = await start({ tls: { cert: certificates.cert, key: certificates.key, handshakeTimeout: 200 } });
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'close');
    expect((await server?.stats())?.tlsFailed).toEqual({ handshake: 0, timeout: 1 });
    // The next client is served.
    const client = await connect('localhost', port, { tls: { ca: certificates.ca } });
    expect(await client.request('next')).toBe('next');
    client.destroy();
  });

  it('R20: clientAuth require: a client without a certificate is refused; one with a certificate is seen by the handler', async () => {
    const port = await start({
      tls: { cert: certificates.cert, key: certificates.key, ca: certificates.ca, clientAuth: 'require' },
    });
    await expect(
      connect('localhost', port, { tls: { ca: certificates.ca } }).then(async (client) => client.request('x')),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^COMM_(TLS_HANDSHAKE_FAILED|CONNECTION_LOST)$/) });
    const user = certificates.issue('/CN=alice');
    const client = await connect('localhost', port, { tls: { ca: certificates.ca, cert: user.cert, key: user.key } });
    expect(await client.request('as alice')).toBe('as alice');
    client.destroy();
    expect(seen[0]?.tls?.clientCertificate?.subject).toContain('CN=alice');
  });

  it('R20: reloadTls: new connections get the new certificate, an open one goes on', async () => {
    const port = await start();
    const before = await connect('localhost', port, { tls: { ca: certificates.ca } });
    expect(await before.request('before')).toBe('before');
    const next = certificates.issue('/CN=localhost reloaded');
    server?.reloadTls({ cert: next.cert, key: next.key });
    const subject = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certificates.ca }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(subject).toBe('localhost reloaded');
    // The sequential server answers the open one when its turn is done; it still talks.
    expect(await before.request('still here')).toBe('still here');
    before.destroy();
  });

  it('tls and proxyProtocol together are refused clearly (not yet supported)', () => {
    expect(() =>
      createServer({ tls: { cert: certificates.cert, key: certificates.key }, proxyProtocol: 'v1', proxyFrom: '127.0.0.1' }),
    ).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });

  it('R20: comm-server-seq --tls-cert --tls-key: TLS on the command line; SIGHUP reloads the certificate', async () => {
    const cli = runCli([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--tls-cert',
      certificates.files.cert,
      '--tls-key',
      certificates.files.key,
    ]);
    const port = await cli.listening();
    const client = await connect('localhost', port, { tls: { ca: certificates.ca } });
    expect(await client.request('over the command')).toBe('over the command');
    client.destroy();
    cli.child.kill('SIGHUP');
    await cli.waitFor(/TLS certificate reloaded/, { stream: 'stderr' });
    const missing = runCli(['--port', '0', '--tls-cert', '/nonexistent.pem', '--tls-key', certificates.files.key]);
    expect((await missing.ended()).code).toBe(2);
    expect(missing.stderr()).toContain('--tls-cert /nonexistent.pem: ENOENT');
  });
});
