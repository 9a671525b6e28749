// readLines and encodeLines over a real TCP connection on loopback (port 0), so the chunking
// is whatever the kernel and Node's socket make of our writes.
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine, encodeLines, readLines } from '../src/index.js';

const openSockets = new Set<Socket>();
const servers: Server[] = [];

afterEach(async () => {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback server that runs `handle` on each connection; resolves with a connected client. */
async function connectTo(handle: (socket: Socket) => void | Promise<void>): Promise<Socket> {
  const server = createServer((socket) => {
    openSockets.add(socket);
    void handle(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = createConnection({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  openSockets.add(client);
  await once(client, 'connect');
  return client;
}

/** Writes `bytes` in pieces of `size`, letting each go out before the next. */
async function writeInPieces(socket: Socket, bytes: Buffer, size: number): Promise<void> {
  for (let start = 0; start < bytes.length; start += size) {
    if (!socket.write(bytes.subarray(start, start + size))) await once(socket, 'drain');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('readLines over a loopback socket', () => {
  it('R2 R3 R11: reads the lines a client writes in odd pieces, the unterminated last one after FIN', async () => {
    let received: Promise<string[]> | undefined;
    const client = await connectTo((socket) => {
      received = (async () => {
        const lines: string[] = [];
        for await (const line of readLines(socket)) lines.push(line);
        return lines;
      })();
    });
    // 3-byte pieces cut CRLFs and multi-byte characters.
    await writeInPieces(client, Buffer.from('\uFEFFhéllo\r\nwörld 😀\n\nlast', 'utf8'), 3);
    client.end();
    await once(client, 'finish');
    await expect.poll(() => received).toBeDefined();
    expect(await received).toEqual(['héllo', 'wörld 😀', '', 'last']);
  });

  it('R9: an echo server on readLines answers every pipelined line, in order', async () => {
    const client = await connectTo(async (socket) => {
      for await (const line of readLines(socket)) socket.write(encodeLine(line));
      socket.end();
    });
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}😀`);
    const replies = (async () => {
      const got: string[] = [];
      for await (const line of readLines(client)) got.push(line);
      return got;
    })();
    await writeInPieces(client, encodeLines(lines), 4096);
    client.end();
    expect(await replies).toEqual(lines);
  });

  it('R7 R8: bad lines are reported through onLineError and the socket is read on', async () => {
    const errors: string[] = [];
    let received: Promise<string[]> | undefined;
    const client = await connectTo((socket) => {
      received = (async () => {
        const lines: string[] = [];
        const options = { maxLineLength: 1024, onLineError: (error: { code: string }) => errors.push(error.code) };
        for await (const line of readLines(socket, options)) lines.push(line);
        return lines;
      })();
    });
    const input = Buffer.concat([
      Buffer.from(`before\n${'x'.repeat(200_000)}\nmiddle\n`),
      Buffer.from([0x61, 0xff, 0x0a]),
      Buffer.from('after\n'),
    ]);
    await writeInPieces(client, input, 7000);
    client.end();
    await expect.poll(() => received).toBeDefined();
    expect(await received).toEqual(['before', 'middle', 'after']);
    expect(errors).toEqual(['COMM_LINE_TOO_LONG', 'COMM_INVALID_UTF8']);
  });
});
