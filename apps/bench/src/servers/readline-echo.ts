/**
 * Baseline: the minimal line echo a Node developer would write first, `net` + `node:readline`,
 * one `write` per line.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { announceListening, exitOnSignal } from './announce.js';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  lines.on('line', (line) => socket.write(`${line}\n`));
  lines.on('close', () => socket.end());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => announceListening(server.address()));
exitOnSignal();
