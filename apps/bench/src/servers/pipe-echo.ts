/**
 * Baseline: a raw `socket.pipe(socket)` echo. No framing at all, so it is the most a Node server
 * on this machine can move; a line server is measured against it as "Node's ceiling".
 */
import net from 'node:net';
import { announceListening, exitOnSignal } from './announce.js';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => announceListening(server.address()));
exitOnSignal();
