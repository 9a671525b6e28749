// Slow clients at scale (R13): a thousand connections that each send a line start and nothing
// more are all closed on time by the one shared sweep, while a normal client is answered.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, exchange, MECHANISMS, startServer, stopAll } from './helpers.js';

afterEach(stopAll);

const SLOW_CLIENTS = 1000;
const LINE_TIMEOUT = 500;

describe('slowloris', () => {
  it(`R13: ${SLOW_CLIENTS} connections that never finish a line are closed on time; a normal client is answered meanwhile`, async () => {
    const { port } = await startServer({ mechanism: MECHANISMS[0], lineTimeout: LINE_TIMEOUT });
    const sockets: net.Socket[] = [];
    const answers: string[] = [];
    const closed: Promise<unknown>[] = [];
    for (let batch = 0; batch < SLOW_CLIENTS; batch += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.on('error', () => {});
          socket.setEncoding('utf8');
          let text = '';
          socket.on('data', (chunk: string) => (text += chunk));
          closed.push(once(socket, 'close').then(() => answers.push(text)));
          await once(socket, 'connect');
          socket.write('never finished');
          sockets.push(socket);
        }),
      );
    }
    // A normal client, while every slow one is held open.
    const normal = await connectClient(port, '127.0.0.1');
    normal.socket.write('hello\n');
    expect(await normal.waitForLines(1)).toEqual(['hello']);
    expect(await exchange(port, 'another\n')).toBe('another\n');

    const allClosed = Promise.all(closed);
    const bounded = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('slow clients not closed within 15 s')), 15_000),
    );
    await Promise.race([allClosed, bounded]);
    expect(answers).toHaveLength(SLOW_CLIENTS);
    expect(new Set(answers)).toEqual(new Set([`ERR COMM_LINE_TIMEOUT line not finished within ${LINE_TIMEOUT} ms\n`]));
  }, 60_000);
});
