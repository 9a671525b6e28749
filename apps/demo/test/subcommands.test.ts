import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren, start } from '@comm/test-helpers';
import { CLI } from './processes.js';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const UNICODE = 'héllo wörld — 你好 🌍';

/** ::1 where the host has IPv6 loopback; else the test says so in its name and uses IPv4. */
const HAS_IPV6 = Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === '::1'));
const LOOPBACK_6 = HAS_IPV6 ? '::1' : '127.0.0.1';

afterEach(killChildren);

/** Starts `serve` on a free port and resolves with the process and the port. */
async function serve(kind: '--seq' | '--threaded') {
  const server = start(process.execPath, [CLI, 'serve', kind, '--port', '0']);
  const [, port] = await server.waitFor(/Try: nc localhost (\d+)/);
  return { server, port: port as string };
}

describe('comm-demo serve', () => {
  it.skipIf(!has('nc')).each(['--seq', '--threaded'] as const)(
    'R10 R17: serve %s answers an nc client line by line, and ends on SIGTERM with exit 0',
    async (kind) => {
      const { server, port } = await serve(kind);
      const nc = start('nc', ['localhost', port]);
      nc.child.stdin.end(`hello\n${UNICODE}\nBYE\n`);
      expect(await nc.exited(30_000)).toBe(0);
      expect(nc.stdout()).toBe(`hello\n${UNICODE}\nBYE\n`);
      await server.waitFor(/Connected by (127\.0\.0\.1|\[::1\]):\d+/);
      server.child.kill('SIGTERM');
      expect(await server.exited(30_000)).toBe(0);
      expect(server.stdout()).toMatch(/SIGTERM: closing[\s\S]*\nclosed\n$/);
      expect(server.stderr()).toBe('');
    },
  );

  it('R1: refuses a port that is taken, with exit 1 and the error code', async () => {
    const { port } = await serve('--seq');
    const second = start(process.execPath, [CLI, 'serve', '--seq', '--port', port]);
    expect(await second.exited(30_000)).toBe(1);
    expect(second.stderr()).toMatch(/COMM_ADDRESS_IN_USE/);
  });
});

describe('comm-demo client', () => {
  it(`R2 R10: talks to a served demo over ${HAS_IPV6 ? 'IPv6' : 'IPv4 (no IPv6 here)'} and stops at BYE without printing it`, async () => {
    const { port } = await serve('--threaded');
    const client = start(process.execPath, [CLI, 'client', LOOPBACK_6, port]);
    client.child.stdin.end(`one\n${UNICODE}\nBYE\nnever sent\n`);
    expect(await client.exited(30_000)).toBe(0);
    expect(client.stdout()).toBe(`one\n${UNICODE}\n`);
    expect(client.stderr()).toBe('');
  });

  it('R11: ends at the end of its input after every reply, exit 0', async () => {
    const { port } = await serve('--seq');
    const client = start(process.execPath, [CLI, 'client', 'localhost', port]);
    client.child.stdin.end('a\n\nb\n');
    expect(await client.exited(30_000)).toBe(0);
    expect(client.stdout()).toBe('a\n\nb\n');
  });

  it('exits 1 with a message naming the address when nothing listens', async () => {
    // Port 1 (tcpmux) is privileged and unused: a freed ephemeral port could be taken again at once.
    const client = start(process.execPath, [CLI, 'client', '127.0.0.1', '1']);
    client.child.stdin.end();
    expect(await client.exited(30_000)).toBe(1);
    expect(client.stderr()).toMatch(/127\.0\.0\.1:1\b.*COMM_CONNECTION_REFUSED/);
  });
});

describe('comm-demo usage', () => {
  it('prints the usage with --help, exit 0', async () => {
    const help = start(process.execPath, [CLI, '--help']);
    expect(await help.exited()).toBe(0);
    expect(help.stdout()).toMatch(/serve --seq\|--threaded/);
  });

  it('refuses an unknown subcommand with exit 2 and the usage', async () => {
    const wrong = start(process.execPath, [CLI, 'dance']);
    expect(await wrong.exited()).toBe(2);
    expect(wrong.stderr()).toMatch(/unknown subcommand dance[\s\S]*Usage:/);
  });
});
