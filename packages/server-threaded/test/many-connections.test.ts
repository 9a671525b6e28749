// 10,000 connections open at once, each with a verified echo. The server runs as a child process
// (the CLI) so that its 10,000 sockets and the clients' 10,000 count against two fd limits.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren } from '@comm/test-helpers';
import { startCli } from './cli-process.js';

const CONNECTIONS = 10_000;
/** Connects in waves, so the listen backlog (511) is never the thing being tested. */
const WAVE = 250;

/** The soft limit on open files of this process, from /proc (Linux); `Infinity` where unknown. */
function openFileLimit(): number {
  try {
    const row = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return row === null || row[1] === 'unlimited' ? Infinity : Number(row[1]);
  } catch {
    return Infinity;
  }
}

const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killChildren();
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends one line and resolves with the reply, read whole. */
function echo(socket: net.Socket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('utf8');
      if (!received.endsWith('\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve(received);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`${line}\n`);
  });
}

// Each side holds 10,000 sockets plus what Node and vitest hold: the CI container's limit is 20,000.
const enoughFiles = openFileLimit() >= CONNECTIONS + 500;

describe('10,000 concurrent connections', () => {
  it.runIf(enoughFiles)(
    'every one of 10,000 connections, all open at once, gets its own line back',
    async () => {
      const { run, port } = await startCli(['--threads', '2', '--quiet']);
      const open: net.Socket[] = [];
      for (let start = 0; start < CONNECTIONS; start += WAVE) {
        const wave = Array.from({ length: Math.min(WAVE, CONNECTIONS - start) }, () => connect(port));
        open.push(...(await Promise.all(wave)));
      }
      expect(open).toHaveLength(CONNECTIONS);
      // Every connection is still open while all of them are asked, wave by wave.
      let verified = 0;
      for (let start = 0; start < CONNECTIONS; start += WAVE) {
        const wave = open.slice(start, start + WAVE).map(async (socket, i) => {
          const line = `connection ${start + i} of ${CONNECTIONS}`;
          if ((await echo(socket, line)) === `${line}\n`) verified += 1;
        });
        await Promise.all(wave);
      }
      expect(verified).toBe(CONNECTIONS);
      expect(open.every((socket) => !socket.destroyed)).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited()).toBe(0);
      expect(run.stderr()).toContain(`closed after ${CONNECTIONS} connections and ${CONNECTIONS} lines`);
    },
    120_000,
  );

  it.skipIf(enoughFiles)('is skipped: raise `ulimit -n` to at least 10,500 to run it', () => {
    expect(openFileLimit()).toBeLessThan(CONNECTIONS + 500);
  });
});
