import net, { type AddressInfo, type Socket } from 'node:net';
import { closeNetServer, ignoreError, listenDualStack, refuseConnection } from '@comm/server-core';
import { acceptedPeer, type PeerInfo } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import type { DriverHost } from './driver.js';

/** A connection accepted here and waiting for a worker, with who it was when it was accepted. */
interface Waiting {
  readonly socket: Socket;
  readonly peer: PeerInfo;
}

/**
 * Gives a connection to a worker: `true` once it is that worker's, `false` when it could not be
 * (the socket is then destroyed).
 */
export type Hand = (socket: Socket, peer: PeerInfo, slot: WorkerSlot) => boolean;

/**
 * `transfer` and `main-thread-io`: this thread accepts, takes who the client is, and gives each
 * connection to the least-loaded ready worker; while none is ready, the clients wait, unread.
 */
export class MainThreadAcceptor {
  private server: net.Server | undefined = undefined;
  /** Accepted while no worker was ready (all restarting); given out when one is. */
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly host: DriverHost,
    private readonly hand: Hand,
  ) {}

  listen(): Promise<AddressInfo> {
    // pauseOnConnect: a socket must not have started reading to be transferable, and with
    // main-thread-io the conversation resumes it once its worker is known.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    server.on('error', (error) => this.host.listenerFailed(error));
    this.server = server;
    return listenDualStack(server, this.host.config.listen);
  }

  /** A worker is ready again: the clients waiting for one are given out. */
  assignWaiting(): void {
    const pool = this.host.pool;
    while (this.waiting.length > 0 && !this.host.isClosing()) {
      const slot = pool.leastLoaded();
      if (slot === undefined) return;
      this.assign(this.waiting.shift() as Waiting, slot);
    }
  }

  /** Stops accepting and closes the waiting clients without a line; resolves once the listener has closed. */
  stop(): Promise<void> {
    const stopped = closeNetServer(this.server);
    const lingerTimeout = this.host.config.conversation.lingerTimeout;
    for (const { socket } of this.waiting.splice(0)) refuseConnection(socket, undefined, lingerTimeout);
    return stopped;
  }

  /** Destroys the waiting clients. */
  destroy(): void {
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
  }

  private accept(socket: Socket): void {
    const peer = acceptedPeer(socket, this.host.connectionIds);
    if (peer === undefined) {
      socket.destroy();
      return;
    }
    if (this.host.isClosing()) {
      refuseConnection(socket, undefined, this.host.config.conversation.lingerTimeout);
      return;
    }
    const slot = this.host.pool.leastLoaded();
    if (slot === undefined) {
      // Every worker is being replaced: the client waits, unread, like a waiting client of R16.
      socket.on('error', ignoreError);
      this.waiting.push({ socket, peer });
      return;
    }
    this.assign({ socket, peer }, slot);
  }

  private assign({ socket, peer }: Waiting, slot: WorkerSlot): void {
    socket.off('error', ignoreError);
    if (socket.destroyed) return;
    if (!this.hand(socket, peer, slot)) return;
    slot.load += 1;
    this.host.connected(peer, slot.index);
  }
}
