import type { AddressInfo, Socket } from 'node:net';
import type { PeerInfo } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import type { WorkerFailedError } from '../errors.js';
import { MainThreadAcceptor, type Admitted } from './accept.js';
import type { DriverHost } from './driver.js';
import { WorkerIoDriver } from './worker-io.js';

/**
 * `transfer`: this thread accepts each connection and posts the socket, unread, to the
 * least-loaded worker, which runs the whole conversation. The chapter's model.
 */
export class TransferDriver extends WorkerIoDriver {
  readonly mechanism = 'transfer';
  private readonly acceptor: MainThreadAcceptor;
  /** The admission releases of the connections the workers serve, freed when each closes. */
  private readonly releases = new Map<number, { readonly slot: WorkerSlot; readonly release: () => void }>();

  constructor(host: DriverHost) {
    super(host);
    this.acceptor = new MainThreadAcceptor(
      host,
      (socket, peer, slot, admitted) => this.transfer(socket, peer, slot, admitted),
      false,
    );
  }

  private transfer(socket: Socket, peer: PeerInfo, slot: WorkerSlot, { release }: Admitted): boolean {
    if (!transferSocket(socket, peer, slot)) return false;
    this.releases.set(peer.connectionId, { slot, release });
    return true;
  }

  protected override connectionClosed(connectionId: number): void {
    this.releases.get(connectionId)?.release();
    this.releases.delete(connectionId);
  }

  /** A dead worker's connections are gone with it, whether or not it said so. */
  override workerDown(slot: WorkerSlot, _error: WorkerFailedError): void {
    for (const [connectionId, record] of this.releases) {
      if (record.slot !== slot) continue;
      record.release();
      this.releases.delete(connectionId);
    }
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
