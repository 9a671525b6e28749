import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren } from '@comm/test-helpers';
import { runCli, startCli } from './cli-process.js';
import { PROBE_HANDLER, clientsUnderLoad, destroyClients, exchange, expectAnsweredPrefixes } from './helpers.js';

afterEach(async () => {
  destroyClients();
  await killChildren();
});

describe('comm-server-threaded', () => {
  it('--help lists its own options and the shared ones, exit 0', async () => {
    const run = runCli(['--help']);
    expect(await run.exited()).toBe(0);
    for (const flag of ['--threads', '--handler', '--mechanism', '--port', '--host', '--max-line-length', '--idle-timeout']) {
      expect(run.stdout()).toContain(flag);
    }
  });

  it('--version prints the package version', async () => {
    const run = runCli(['--version']);
    expect(await run.exited()).toBe(0);
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(run.stdout()).toBe(`${version}\n`);
  });

  it('a bad command line exits 2 and says why', async () => {
    for (const args of [['--threads', 'many'], ['--threads', '0'], ['--mechanism', 'fork'], ['--no-such-flag']]) {
      const run = runCli(args);
      expect(await run.exited()).toBe(2);
      expect(run.stderr()).toMatch(/Try 'comm-server-threaded --help'/);
    }
  });

  it('a handler module that cannot load: exit 1 with the reason, no restart loop', async () => {
    const run = runCli(['--port', '0', '--threads', '2', '--handler', './no/such/module.mjs']);
    expect(await run.exited()).toBe(1);
    expect(run.stderr()).toMatch(/cannot listen: cannot load handler module file:\/\/.*module\.mjs/);
  });

  it('serves with a handler module, says how many threads and which mechanism, prints Connected by', async () => {
    const { run, port } = await startCli(['--threads', '2', '--handler', PROBE_HANDLER]);
    expect(run.stderr()).toMatch(/2 threads, mechanism (transfer|reuse-port|main-thread-io)/);
    expect(await exchange(port, 'hello\ncount\n')).toBe('hello\n2\n');
    await run.waitFor(/^Connected by 127\.0\.0\.1:\d+$/m);
    run.child.kill('SIGINT');
    expect(await run.exited()).toBe(0);
  });

  it('R17: SIGTERM under load loses nothing: every line read is answered, each connection closes cleanly, exit 0', async () => {
    const { run, port } = await startCli(['--threads', '2', '--quiet']);
    const { clients, sent } = await clientsUnderLoad(port, 20, 3000);
    run.child.kill('SIGTERM');
    expect(await run.exited()).toBe(0);
    const received = await expectAnsweredPrefixes(clients, sent);
    // The server's own count of lines read and answered matches what the clients got.
    const [, connections, lines] = /closed after (\d+) connections and (\d+) lines/.exec(run.stderr()) ?? [];
    expect(Number(connections)).toBe(20);
    expect(Number(lines)).toBe(received);
  });

  it('a second signal forces the shutdown when a client that does not read holds it up (exit 1)', async () => {
    const { run, port } = await startCli(['--threads', '1', '--quiet', '--max-pending-reply-bytes', '16KiB']);
    // A plain socket: the forced close resets it, and the shared TestClient's `closed` rejects on a reset.
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    await once(client, 'connect');
    client.pause();
    client.write(`${'x'.repeat(1000)}\n`.repeat(8 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.child.kill('SIGTERM');
    await run.waitFor(/shutting down/, { stream: 'stderr' });
    run.child.kill('SIGTERM');
    expect(await run.exited()).toBe(1);
    expect(run.stderr()).toMatch(/forced shutdown/);
    client.destroy();
  });
});
