import net, { type AddressInfo } from 'node:net';
import { AddressInUseError, closeNetServer, listenDualStack } from '@comm/server-core';
import { deserializeError } from '../errors.js';
import type { FromWorker } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import { WorkerIoDriver } from './worker-io.js';

/**
 * `reuse-port`: every worker listens on the same port with `reusePort` and the kernel spreads
 * the connections among them; this thread only checks the address first.
 */
export class ReusePortDriver extends WorkerIoDriver {
  readonly mechanism = 'reuse-port';
  private address: AddressInfo | null = null;

  /**
   * Binds the address here once without `reusePort`, which gives the usual EADDRINUSE when
   * anyone holds the port (even with `reusePort`) and resolves `0` and the dual-stack fallback,
   * then lets it go; every worker then binds that concrete address with `reusePort`.
   */
  async listen(): Promise<AddressInfo> {
    const probe = net.createServer();
    const address = await listenDualStack(probe, this.host.config.listen);
    await closeNetServer(probe);
    this.address = address;
    await Promise.all(this.host.pool.slots.map((slot) => this.listenOnWorker(slot, address)));
    return address;
  }

  /** A replacement listens beside the others. */
  async workerUp(slot: WorkerSlot): Promise<boolean> {
    if (this.address === null || this.host.isClosing()) return false;
    await this.listenOnWorker(slot, this.address);
    return true;
  }

  /** The workers close their listeners when the pool drains them. */
  stopAccepting(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing is held here: the workers hold every socket. */
  destroy(): void {}

  private listenOnWorker(slot: WorkerSlot, address: AddressInfo): Promise<void> {
    const worker = slot.worker;
    if (worker === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type !== 'listening' && message.type !== 'listen-failed') return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (message.type === 'listening') {
          resolve();
          return;
        }
        const error = deserializeError(message.error) as NodeJS.ErrnoException;
        reject(error.code === 'EADDRINUSE' ? new AddressInUseError(address.address, address.port, { cause: error }) : error);
      };
      const onExit = (): void => {
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      slot.post({ type: 'listen', host: address.address, port: address.port });
    });
  }
}
