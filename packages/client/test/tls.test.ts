// Implicit TLS on the client (RFC 8314), against a TLS echo we did not write (socat OPENSSL-LISTEN),
// with a throw-away CA and certificate made here with openssl: no key material is committed.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChildren, makeTestCertificates, start, track, type TestCertificates } from '@comm/test-helpers';
import { connect } from '../src/index.js';
import { runCli } from './helpers.js';

let certificates: TestCertificates = undefined as never;
const file = (name: 'ca.pem' | 'server.pem' | 'server.key'): string =>
  name === 'ca.pem' ? certificates.files.ca : name === 'server.pem' ? certificates.files.cert : certificates.files.key;
let port = 0;

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port: free } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return free;
}

beforeAll(async () => {
  certificates = makeTestCertificates();
  port = await freePort();
  start('socat', [
    `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${file('server.pem')},key=${file('server.key')},verify=0`,
    'PIPE',
  ]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(port, '127.0.0.1', () => resolve(true));
      probe.on('error', () => resolve(false));
      probe.on('connect', () => probe.destroy());
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('socat did not start');
}, 60_000);

afterAll(killChildren);

describe('TLS (implicit, from the first byte)', () => {
  it('with the CA trusted, lines go both ways over TLS', async () => {
    const client = track(await connect('localhost', port, { tls: { ca: readFileSync(file('ca.pem')) } }));
    expect(await client.request('hello over tls')).toBe('hello over tls');
    await client.close();
  });

  it("an IP address is verified against the certificate's IP entry", async () => {
    const client = track(await connect('127.0.0.1', port, { tls: { ca: readFileSync(file('ca.pem')) } }));
    expect(await client.request('by address')).toBe('by address');
    client.destroy();
  });

  it('an untrusted certificate is COMM_TLS_CERTIFICATE_INVALID, naming the host and the reason', async () => {
    const failure = await connect('localhost', port, { tls: true }).then(
      () => undefined,
      (error: unknown) => error as Error & { code: string; reason: string },
    );
    expect(failure).toMatchObject({
      code: 'COMM_TLS_CERTIFICATE_INVALID',
      reason: expect.stringMatching(/CERT|SIGNED|ISSUER|VERIFY/),
    });
    expect(failure?.message).toContain(`localhost:${port}`);
  });

  it('a certificate for another name is COMM_TLS_CERTIFICATE_INVALID', async () => {
    await expect(
      connect('localhost', port, { tls: { ca: readFileSync(file('ca.pem')), servername: 'other.example' } }),
    ).rejects.toMatchObject({ code: 'COMM_TLS_CERTIFICATE_INVALID', reason: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('a plain-TCP peer is a handshake failure, not a hang', async () => {
    const plain = net.createServer((socket) => socket.end('not tls\n')).listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const { port: plainPort } = plain.address() as net.AddressInfo;
    await expect(connect('127.0.0.1', plainPort, { tls: true, connectTimeout: 5000 })).rejects.toMatchObject({
      code: 'COMM_TLS_HANDSHAKE_FAILED',
    });
    plain.close();
  });

  it('comm --tls --tls-ca: the filter over TLS; an untrusted server is exit 1 with one clear line', async () => {
    const good = await runCli(['--tls', '--tls-ca', file('ca.pem'), 'localhost', String(port)], 'one\ntwo\n');
    expect(good).toMatchObject({ code: 0, stdout: 'one\ntwo\n' });
    const bad = await runCli(['--tls', 'localhost', String(port)], 'one\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^comm: TLS certificate of localhost:\d+ not accepted: .*\n$/);
    const usage = await runCli(['--tls-ca', file('ca.pem'), 'localhost', String(port)], '');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--tls-ca needs --tls');
  });
});
