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

/**
 * Asks the admission rules about an accepted socket, at accept, for both servers: an admitted
 * socket is counted until it closes; a refused one is turned away here (a denied address closed
 * at once without a line, a client over a limit told `ERR COMM_SERVER_BUSY ...` first) and its
 * reason returned.
 *
 * @example
 * ```ts
 * const refused = admitSocket(config.admission, socket, peer.remoteAddress, config.conversation.lingerTimeout);
 * if (refused !== undefined) return server.emit('refused', peer, refused);
 * ```
 */
export function admitSocket(
  admission: AdmissionControl,
  socket: Socket,
  address: string,
  lingerTimeout: number,
): RefusalReason | undefined {
  const answer = admission.admit(address);
  if (answer.admit) {
    socket.once('close', answer.release);
    return undefined;
  }
  if (answer.reason === 'denied' || answer.reason === 'not-allowed') socket.destroy();
  else refuseConnection(socket, BUSY_LINES[answer.reason], lingerTimeout);
  return answer.reason;
}
