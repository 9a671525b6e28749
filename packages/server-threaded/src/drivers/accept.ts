import net, { type AddressInfo, type Socket } from 'node:net';
import { admitSocket, closeNetServer, ignoreError, listenDualStack, refuseConnection, type ProxyInfo } from '@comm/server-core';
import { acceptedPeer, type PeerInfo } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import type { DriverHost } from './driver.js';

/** A connection accepted here and waiting for a worker, with who it was when it was accepted. */
interface Waiting {
  readonly socket: Socket;
  readonly peer: PeerInfo;
  readonly admitted: Admitted;
}

/** What came with an accepted connection: its balancer (PROXY protocol), and its admission's release. */
export interface Admitted {
  readonly proxy: ProxyInfo | undefined;
  /** Frees the connection's place in the admission counts; called once when it closes. */
  readonly release: () => void;
}

/**
 * Gives a connection to a worker: `true` once it is that worker's, `false` when it could not be
 * (the socket is then destroyed).
 */
export type Hand = (socket: Socket, peer: PeerInfo, slot: WorkerSlot, admitted: Admitted) => boolean;

/**
 * `transfer` and `main-thread-io`: this thread accepts, takes who the client is, and gives each
 * connection to the least-loaded ready worker; while none is ready, the clients wait, unread.
 */
export class MainThreadAcceptor {
  private server: net.Server | undefined = undefined;
  /** Accepted while no worker was ready (all restarting); given out when one is. */
  private readonly waiting: Waiting[] = [];

  /**
   * @param releaseOnClose the admission count is freed when the socket closes here (main-thread-io);
   *   `false` when the socket moves to a worker and its owner frees it (transfer).
   */
  constructor(
    private readonly host: DriverHost,
    private readonly hand: Hand,
    private readonly releaseOnClose: boolean,
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
    for (const { socket, admitted } of this.waiting.splice(0)) {
      admitted.release();
      refuseConnection(socket, undefined, lingerTimeout);
    }
    return stopped;
  }

  /** Destroys the waiting clients. */
  destroy(): void {
    for (const { socket, admitted } of this.waiting.splice(0)) {
      admitted.release();
      socket.destroy();
    }
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
    const gate = this.host.config.proxy;
    if (gate === undefined) {
      this.admit(socket, peer, undefined);
      return;
    }
    // Behind a balancer (main-thread-io only: a socket that has been read cannot move).
    void gate.pass(socket, peer).then((passed) => {
      if ('refused' in passed) this.host.refused(peer, passed.refused);
      else if (this.host.isClosing()) refuseConnection(socket, undefined, this.host.config.conversation.lingerTimeout);
      else this.admit(socket, { connectionId: peer.connectionId, ...passed.peer }, passed.proxy);
    });
  }

  private admit(socket: Socket, peer: PeerInfo, proxy: ProxyInfo | undefined): void {
    const { config } = this.host;
    const admission = admitSocket(config.admission, socket, peer.remoteAddress, config.conversation.lingerTimeout, {
      releaseOnClose: this.releaseOnClose,
    });
    if (admission.refused !== undefined) {
      this.host.refused(peer, admission.refused);
      return;
    }
    const waiting: Waiting = { socket, peer, admitted: { proxy, release: admission.release } };
    const slot = this.host.pool.leastLoaded();
    if (slot === undefined) {
      // Every worker is being replaced: the client waits, unread, like a waiting client of R16.
      socket.on('error', ignoreError);
      this.waiting.push(waiting);
      return;
    }
    this.assign(waiting, slot);
  }

  private assign({ socket, peer, admitted }: Waiting, slot: WorkerSlot): void {
    socket.off('error', ignoreError);
    if (socket.destroyed) {
      admitted.release();
      return;
    }
    if (!this.hand(socket, peer, slot, admitted)) {
      admitted.release();
      return;
    }
    slot.load += 1;
    this.host.connected(peer, slot.index);
  }
}
