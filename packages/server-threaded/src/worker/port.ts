// What every part of a worker thread shares: how it was started and how it talks to the main thread.
import { serializeError } from '../errors.js';
import type { ConnectionInfo } from '@comm/server-core';
import { connectionInfo, type FromWorker, type WorkerInit } from '../messages.js';

/** The main thread as a worker sees it. */
export interface WorkerPort {
  /** What the worker was started with. */
  readonly init: WorkerInit;
  post(message: FromWorker): void;
}

/** Tells the main thread about a handler (or `setup`) failure; the client got `ERR COMM_HANDLER_FAILED ...`. */
export function reportHandlerError(port: WorkerPort, connection: ConnectionInfo, message: string, cause: unknown): void {
  port.post({ type: 'handler-error', connection: connectionInfo(connection), message, cause: serializeError(cause) });
}
