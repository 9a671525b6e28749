// The events of the threaded server: those every comm server emits (`@comm/server-core`), with
// the thread in each connection record, and its own thread events.
import type { ConnectedInfo, ConnectionInfo, DisconnectInfo, ServerEvents } from '@comm/server-core';
import type { WorkerFailedError } from './errors.js';

/** Who a client is and which thread serves it: the record every connection event carries. */
export type ThreadedConnectionInfo = ConnectionInfo & {
  /** The pool slot (0-based) of the thread that serves it. */
  readonly thread: number;
};

/** A client whose connection has begun: the `connection` event (`message` is `Connected by <address>:<port>`). */
export type ThreadedConnectedInfo = ConnectedInfo<ThreadedConnectionInfo>;

/** How a served connection ended: the `disconnect` event. */
export type ThreadedDisconnectInfo = DisconnectInfo<ThreadedConnectionInfo>;

/** The connection whose handler failed: the second argument of `handlerError`, the whole {@link ThreadedConnectionInfo}. */
export type HandlerErrorInfo = ThreadedConnectionInfo;

/** A worker that died: the second argument of `workerExit`. */
export interface WorkerExitInfo {
  readonly thread: number;
  /** Connections the worker served when it died; they were closed. */
  readonly connectionsClosed: number;
  /** Milliseconds until the replacement starts (the backoff). */
  readonly restartIn: number;
}

/** A replacement worker that is ready: the argument of `workerStart`. */
export interface WorkerStartInfo {
  readonly thread: number;
  readonly threadId: number;
  /** How many times this slot's worker has been replaced so far. */
  readonly restarts: number;
}

/**
 * The events of a {@link ThreadedServer} and their arguments: those of every comm server
 * (`listening`, `connection`, `disconnect`, `handlerError`, `error`, `close`), each connection
 * record with its `thread`, and the pool's (`workerExit`, `workerStart`). `close` comes once no
 * connection and no worker is left.
 */
export interface ThreadedServerEvents extends ServerEvents<ThreadedConnectionInfo> {
  /** A worker thread died; its connections were closed and it is being replaced. */
  workerExit: [error: WorkerFailedError, info: WorkerExitInfo];
  /** A replacement worker has loaded the handler module and serves again. */
  workerStart: [info: WorkerStartInfo];
}
