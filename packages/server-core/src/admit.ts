import type { Socket } from 'node:net';
import { errorReply } from '@comm/protocol';
import type { AdmissionControl, RefusalReason } from './admission/index.js';
import { ServerBusyError } from './errors.js';
import { refuseConnection } from './refuse.js';

const BUSY_LINES: Record<'max-connections' | 'max-connections-per-address', string> = {
  'max-connections': errorReply(new ServerBusyError('server busy: too many connections, try again later')),
  'max-connections-per-address': errorReply(
    new ServerBusyError('server busy: too many connections from your address, try again later'),
  ),
};

/** What {@link admitSocket} decided: refused (the socket is already being closed), or admitted. */
export type SocketAdmission = { readonly refused: RefusalReason } | { readonly refused: undefined; readonly release: () => void };

/**
 * Asks the admission rules about an accepted socket, at accept, for both servers: an admitted
 * socket is counted until it closes (`releaseOnClose`, the default) or until its owner calls
 * `release` (a socket that moves to another thread closes here at once); a refused one is turned
 * away here (a denied address closed at once without a line, a client over a limit told
 * `ERR COMM_SERVER_BUSY ...` first).
 *
 * @example
 * ```ts
 * const { refused } = admitSocket(config.admission, socket, peer.remoteAddress, config.conversation.lingerTimeout);
 * if (refused !== undefined) return server.emit('refused', peer, refused);
 * ```
 */
export function admitSocket(
  admission: AdmissionControl,
  socket: Socket,
  address: string,
  lingerTimeout: number,
  { releaseOnClose = true }: { releaseOnClose?: boolean } = {},
): SocketAdmission {
  const answer = admission.admit(address);
  if (answer.admit) {
    if (releaseOnClose) socket.once('close', answer.release);
    return { refused: undefined, release: answer.release };
  }
  if (answer.reason === 'denied' || answer.reason === 'not-allowed') socket.destroy();
  else refuseConnection(socket, BUSY_LINES[answer.reason], lingerTimeout);
  return { refused: answer.reason };
}
