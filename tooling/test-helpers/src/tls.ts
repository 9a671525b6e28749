// Throw-away TLS material for the tests, made at run time with openssl: a CA, and certificates it
// signs for localhost and 127.0.0.1. No key material is committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files and their contents. */
export interface TestCertificates {
  readonly dir: string;
  /** File paths. */
  readonly files: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Another certificate and key signed by the same CA (`subject` as asked): for a reload, or a client. */
  issue(subject: string): {
    readonly cert: Buffer;
    readonly key: Buffer;
    readonly files: { readonly cert: string; readonly key: string };
  };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA and a server certificate for `localhost` and `127.0.0.1`, valid for a day. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'comm-tls-'));
  const file = (name: string): string => join(dir, name);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=comm test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  let issued = 0;
  const issue = (subject: string) => {
    issued += 1;
    const name = `cert${issued}`;
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file('ext.cnf'),
      '-out',
      file(`${name}.pem`),
    ]);
    const files = { cert: file(`${name}.pem`), key: file(`${name}.key`) };
    return { cert: readFileSync(files.cert), key: readFileSync(files.key), files };
  };
  const server = issue('/CN=localhost');
  return {
    dir,
    files: { ca: file('ca.pem'), ...server.files },
    ca: readFileSync(file('ca.pem')),
    cert: server.cert,
    key: server.key,
    issue,
  };
}
