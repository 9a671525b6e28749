import type { AddressInfo } from 'node:net';
import type { HandlerFailedError } from '@comm/server-core';
import type { WorkerFailedError } from './errors.js';
import type { PeerInfo } from './messages.js';

/** A client whose connection has begun: the `connection` event. */
export interface ThreadedConnectionInfo extends PeerInfo {
  /** The pool slot (0-based) of the thread that serves it. */
  readonly thread: number;
  /** `Connected by <address>:<port>`, the chapter's line. */
  readonly message: string;
}

/** Where a handler failure happened: the second argument of `handlerError`. */
export interface HandlerErrorInfo {
  readonly connectionId: number;
  readonly thread: number;
}

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

/** The events of a {@link ThreadedServer}. */
export interface ThreadedServerEvents {
  listening: [address: AddressInfo];
  /** A client connected and was given to a thread. */
  connection: [info: ThreadedConnectionInfo];
  /** A handler threw, rejected or gave no line (or `setup` failed); the client got `ERR COMM_HANDLER_FAILED ...`. */
  handlerError: [error: HandlerFailedError, info: HandlerErrorInfo];
  /** A worker thread died; its connections were closed and it is being replaced. */
  workerExit: [error: WorkerFailedError, info: WorkerExitInfo];
  /** A replacement worker has loaded the handler module and serves again. */
  workerStart: [info: WorkerStartInfo];
  /** The listening socket failed after `listen()` resolved (e.g. EMFILE). Only emitted when listened to. */
  error: [error: Error];
  /** `close()` or `destroy()` has finished: no connection and no worker is left. */
  close: [];
}
