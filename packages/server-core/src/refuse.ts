import type { Socket } from 'node:net';
import { DEFAULT_LINGER_TIMEOUT } from './options.js';
import { ignoreError } from './util.js';

const dropBytes = (): void => {};

/**
 * Turns a connection away without serving it: writes `line` (if any), sends FIN, drops what the
 * peer sends, and destroys the socket once the peer closes or after `lingerTimeout` ms. Used for
 * a busy server (R16) and for waiting clients at shutdown (R17).
 *
 * @example
 * ```ts
 * refuseConnection(socket, errorReply(new ServerBusyError()));
 * ```
 */
export function refuseConnection(socket: Socket, line?: string, lingerTimeout = DEFAULT_LINGER_TIMEOUT): void {
  socket.on('error', ignoreError);
  if (socket.destroyed) return;
  socket.allowHalfOpen = true;
  socket.on('data', dropBytes);
  if (line !== undefined) socket.write(line + '\n');
  socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), lingerTimeout);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
