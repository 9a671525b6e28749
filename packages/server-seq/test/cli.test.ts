import net from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, destroyClients, exchange, killChildren } from '@comm/test-helpers';
import { runCli } from './cli-process.js';

afterEach(async () => {
  destroyClients();
  await killChildren();
});

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('comm-server-seq', () => {
  it('--help prints the usage with every option and exits 0', async () => {
    const cli = runCli(['--help']);
    expect(await cli.ended()).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toContain('Usage: comm-server-seq [options]');
    for (const flag of [
      '--port',
      '--host',
      '--max-line-length',
      '--line-timeout',
      '--idle-timeout',
      '--max-waiting',
      '--allow',
      '--deny',
      '--max-connections',
      '--max-connections-per-address',
      '--handler',
      '--version',
    ]) {
      expect(cli.stdout()).toContain(flag);
    }
  });

  it('--version prints the package version', async () => {
    const cli = runCli(['--version']);
    expect(await cli.ended()).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toBe(`${version}\n`);
  });

  it('a bad option says what is wrong and exits 2', async () => {
    const cli = runCli(['--max-line-length', 'lots']);
    expect((await cli.ended()).code).toBe(2);
    expect(cli.stderr()).toContain('--max-line-length expects a size');
    expect(cli.stderr()).toContain("Try 'comm-server-seq --help'");
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const holder = net.createServer().listen(0, '::');
    await new Promise((resolve) => holder.once('listening', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const cli = runCli(['--port', String(port)]);
      expect((await cli.ended()).code).toBe(1);
      expect(cli.stderr()).toContain(`comm-server-seq: cannot listen: address in use: [::]:${port} is taken by another process`);
    } finally {
      holder.close();
    }
  });

  it('prints "Connected by <address>" for each client, like the chapter, and echoes (R1: IPv4 and IPv6)', async () => {
    const cli = runCli(['--port', '0']);
    const port = await cli.listening();
    expect(await exchange(port, 'hello\n', '127.0.0.1')).toBe('hello\n');
    expect(await exchange(port, 'hello\n', '::1')).toBe('hello\n');
    const lines = await cli.printed(/^Connected by /, 2);
    expect(lines[0]).toMatch(/^Connected by 127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/^Connected by \[::1\]:\d+$/);
  });

  it('passes the limits on: --max-line-length', async () => {
    const cli = runCli(['--port', '0', '--max-line-length', '4']);
    const port = await cli.listening();
    expect(await exchange(port, 'abcd\nabcde\n')).toBe('abcd\nERR COMM_LINE_TOO_LONG line too long: more than 4 bytes\n');
  });

  it('R17: SIGTERM on an idle server exits 0', async () => {
    const cli = runCli(['--port', '0']);
    await cli.listening();
    cli.child.kill('SIGTERM');
    expect(await cli.ended()).toEqual({ code: 0, signal: null });
    expect(cli.stderr()).toContain('shutting down');
  });

  it('R17: SIGTERM under load: every line the server received is answered before it exits', async () => {
    const cli = runCli(['--port', '0', '--verbose']);
    const port = await cli.listening();
    const client = await connectClient(port);
    const waiting = await connectClient(port);
    await waiting.write('waits\n');
    let sent = 0;
    let serverEnded = false;
    client.socket.once('end', () => (serverEnded = true));
    // Pipeline lines until the server has shut down (bounded: 2 million lines or 30 s).
    const started = Date.now();
    const pump = (async () => {
      while (!serverEnded && !client.socket.destroyed && sent < 2_000_000 && Date.now() - started < 30_000) {
        let batch = '';
        for (let i = 0; i < 500; i++) batch += `line ${sent++}\n`;
        if (!client.socket.write(batch))
          await new Promise((resolve) => client.socket.once('drain', resolve).once('close', resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await client.waitForLines(1000);
    cli.child.kill('SIGTERM');
    await pump;
    const { error } = await client.closed;
    expect(await cli.ended()).toEqual({ code: 0, signal: null });
    expect(error).toBeUndefined();

    const text = client.text();
    expect(text.endsWith('\n')).toBe(true);
    const replies = client.lines();
    // Every reply answers the line at its place (R9), and the server answered as many lines as it received.
    expect(replies.every((reply, i) => reply === `line ${i}`)).toBe(true);
    const [summary] = await cli.printed(/^Disconnected .*\(shutdown\)$/);
    expect(summary).toContain(`: ${replies.length} lines (shutdown)`);
    expect(replies.length).toBeLessThanOrEqual(sent);
    // R17: the waiting client was closed without a line.
    await waiting.closed;
    expect(waiting.text()).toBe('');
  });

  it('a second signal forces the exit when a client holds the graceful shutdown up', async () => {
    const cli = runCli(['--port', '0', '--max-pending-reply-bytes', '1KiB', '--idle-timeout', '0']);
    const port = await cli.listening();
    // A client that sends and never reads holds its replies in the server.
    const hog = await connectClient(port, '127.0.0.1', { read: false });
    const chunk = `${'h'.repeat(1023)}\n`.repeat(1024);
    for (let i = 0; i < 64 && hog.socket.write(chunk); i++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    cli.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    cli.child.kill('SIGTERM');
    expect(await cli.ended()).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toContain('forced shutdown');
  });
});
