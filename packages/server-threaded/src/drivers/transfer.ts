import type { AddressInfo, Socket } from 'node:net';
import type { PeerInfo } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import { MainThreadAcceptor } from './accept.js';
import type { DriverHost } from './driver.js';
import { WorkerIoDriver } from './worker-io.js';

/**
 * `transfer`: this thread accepts each connection and posts the socket, unread, to the
 * least-loaded worker, which runs the whole conversation. The chapter's model.
 */
export class TransferDriver extends WorkerIoDriver {
  readonly mechanism = 'transfer';
  private readonly acceptor: MainThreadAcceptor;

  constructor(host: DriverHost) {
    super(host);
    this.acceptor = new MainThreadAcceptor(host, transferSocket);
  }

  listen(): Promise<AddressInfo> {
    return this.acceptor.listen();
  }

  workerUp(_slot: WorkerSlot): Promise<boolean> {
    this.acceptor.assignWaiting();
    return Promise.resolve(true);
  }

  stopAccepting(): Promise<void> {
    return this.acceptor.stop();
  }

  destroy(): void {
    this.acceptor.destroy();
  }
}

function transferSocket(socket: Socket, peer: PeerInfo, slot: WorkerSlot): boolean {
  try {
    slot.post({ type: 'socket', socket, peer }, [socket]);
    return true;
  } catch {
    // A socket that already failed (reset before it moved) cannot be transferred: drop it.
    socket.destroy();
    return false;
  }
}
