// How connections reach the worker threads, one driver per mechanism behind one interface. The
// server picks the driver once, in `listen()`, and from then on only talks to the interface.
import type { AddressInfo } from 'node:net';
import {
  HandlerFailedError,
  type ConnectionCounts,
  type ProxyRefusalReason,
  type RefusalReason,
  type ServerConfig,
} from '@comm/server-core';
import { deserializeError, type WorkerFailedError } from '../errors.js';
import type { ThreadedConnectionInfo, ThreadedDisconnectInfo, ThreadedServerEvents } from '../events.js';
import type { Mechanism } from '../mechanism.js';
import type { ClosedInfo, DriverMessage, PeerInfo } from '../messages.js';
import type { WorkerPool, WorkerSlot } from '../pool.js';

/** What a driver needs from its server: the options, the pool, and the events it reports. */
export interface DriverHost {
  readonly config: ServerConfig;
  /** The handler module's URL; `undefined` is echo. */
  readonly handlerUrl: string | undefined;
  /** Started, every worker ready, when the driver's `listen()` is called. */
  readonly pool: WorkerPool;
  /** The connection id counter every thread shares. */
  readonly connectionIds: BigInt64Array;
  /** `close()` has been called. */
  isClosing(): boolean;
  /** Someone listens to `event`: a record built only for it need not be built otherwise. */
  listens(event: keyof ThreadedServerEvents): boolean;
  /** A client was given to thread `thread`: the `connection` event. */
  connected(peer: PeerInfo, thread: number): void;
  /** A served connection has closed: the `disconnect` event. */
  disconnected(info: ThreadedDisconnectInfo): void;
  /** A handler or `setup` failed: the `handlerError` event. */
  handlerFailed(error: HandlerFailedError, connection: ThreadedConnectionInfo): void;
  refused(peer: PeerInfo, reason: RefusalReason | ProxyRefusalReason): void;
  /** Listening failed after `listen()` resolved: the `error` event. */
  listenerFailed(error: Error): void;
}

/**
 * One mechanism: how connections are accepted and given to the workers, who runs their
 * conversations, what happens to them when a worker comes and goes, and who counts them.
 */
export interface Driver {
  readonly mechanism: Mechanism;
  /** Binds the address (every worker is ready) and starts taking connections; resolves with the address. */
  listen(): Promise<AddressInfo>;
  /** A worker's message that is not the pool's own business. */
  message(slot: WorkerSlot, message: DriverMessage): void;
  /** A replacement worker is ready: resolves `true` once it serves, `false` when the server is closing and it will not. */
  workerUp(slot: WorkerSlot): Promise<boolean>;
  /** A running worker died (its slot's `load` is already zero): what its connections need now. */
  workerDown(slot: WorkerSlot, error: WorkerFailedError): void;
  /** The counters of one thread's connections. */
  counts(slot: WorkerSlot): ConnectionCounts | Promise<ConnectionCounts>;
  /** R17, first step: no new connection is taken; resolves once the listening socket has closed. */
  stopAccepting(): Promise<void>;
  /** R17: closes the connections this thread serves, every line received answered; resolves when all have closed. */
  closeConnections(): Promise<void>;
  /** Each slot's final counters, given what each worker reported when it drained. */
  finalCounts(drained: readonly ConnectionCounts[]): readonly ConnectionCounts[];
  /** Closes what this thread holds now, without answering. */
  destroy(): void;
}

/** A worker's `handler-error` message, reported as the `handlerError` event. */
export function reportWorkerHandlerError(
  host: DriverHost,
  slot: WorkerSlot,
  message: Extract<DriverMessage, { type: 'handler-error' }>,
): void {
  const error = new HandlerFailedError(message.message, { cause: deserializeError(message.cause) });
  host.handlerFailed(error, { ...message.connection, thread: slot.index });
}

/** The `disconnect` record of a worker's `closed` message: the error rebuilt, the thread added. */
export function disconnectFromWorker({ error, ...info }: ClosedInfo, thread: number): ThreadedDisconnectInfo {
  return { ...info, thread, error: error === undefined ? undefined : deserializeError(error) };
}
