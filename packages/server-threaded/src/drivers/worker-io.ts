import type { AddressInfo } from 'node:net';
import type { ConnectionCounts } from '@comm/server-core';
import type { WorkerFailedError } from '../errors.js';
import { assertNever } from '../exhaustive.js';
import type { Mechanism } from '../mechanism.js';
import type { DriverMessage } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import { disconnectFromWorker, reportWorkerHandlerError, type Driver, type DriverHost } from './driver.js';

/**
 * `transfer` and `reuse-port`: the workers own the sockets and run the conversations; this
 * thread hears of each connection's start and end and asks the workers for their counters.
 */
export abstract class WorkerIoDriver implements Driver {
  abstract readonly mechanism: Mechanism;

  constructor(protected readonly host: DriverHost) {}

  abstract listen(): Promise<AddressInfo>;
  abstract workerUp(slot: WorkerSlot): Promise<boolean>;
  abstract stopAccepting(): Promise<void>;
  abstract destroy(): void;

  message(slot: WorkerSlot, message: DriverMessage): void {
    switch (message.type) {
      case 'connection':
        // `reuse-port`: a worker accepted.
        slot.load += 1;
        this.host.connected(message.peer, slot.index);
        return;
      case 'closed':
        // A failing worker closes its connections before it exits: they count as closed by the failure.
        if (slot.state !== 'failing') slot.load = Math.max(0, slot.load - 1);
        this.connectionClosed(message.info.connectionId);
        if (this.host.listens('disconnect')) this.host.disconnected(disconnectFromWorker(message.info, slot.index));
        return;
      case 'handler-error':
        reportWorkerHandlerError(this.host, slot, message);
        return;
      case 'listening':
      case 'listen-failed':
      case 'drained':
        // Answers to a request (`listen`, `shutdown`), taken by whoever made it.
        return;
      case 'opened':
      case 'replies':
        // `main-thread-io` only: these workers never send them.
        return;
      default:
        assertNever(message, 'worker message');
    }
  }

  /** A connection a worker served has closed; a driver that keeps something per connection frees it. */
  protected connectionClosed(_connectionId: number): void {}

  /** The workers run their conversations in their own time: nothing to do here. */
  workerDown(_slot: WorkerSlot, _error: WorkerFailedError): void {}

  counts(slot: WorkerSlot): Promise<ConnectionCounts> {
    return this.host.pool.counts(slot);
  }

  /** No conversation runs on this thread: the workers close theirs when the pool drains them. */
  closeConnections(): Promise<void> {
    return Promise.resolve();
  }

  finalCounts(drained: readonly ConnectionCounts[]): readonly ConnectionCounts[] {
    return drained;
  }
}
