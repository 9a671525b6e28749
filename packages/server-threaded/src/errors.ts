import { CommError } from '@comm/protocol';

/** `mechanism` named one this runtime cannot run (e.g. `'transfer'` on Node 20). */
export class MechanismUnavailableError extends CommError<'COMM_MECHANISM_UNAVAILABLE'> {
  readonly mechanism: string;

  constructor(mechanism: string, available: readonly string[]) {
    super(
      `mechanism ${mechanism} is not available on Node ${process.versions.node} (${process.platform}); available: ${available.join(', ')}`,
      'COMM_MECHANISM_UNAVAILABLE',
    );
    this.name = 'MechanismUnavailableError';
    this.mechanism = mechanism;
  }
}

/**
 * A worker thread died (an uncaught exception in handler code, `process.exit()`, out of memory).
 * Its connections were closed; lines they had sent that were not answered yet got
 * `ERR COMM_HANDLER_FAILED handler failed` where the thread could still send it. The server
 * emits it with the `workerExit` event and starts a new worker.
 */
export class WorkerFailedError extends CommError<'COMM_WORKER_FAILED'> {
  /** The pool slot (0-based) the worker filled. */
  readonly thread: number;

  constructor(thread: number, message: string, options?: { cause?: unknown }) {
    super(`worker thread ${thread} failed: ${message}`, 'COMM_WORKER_FAILED', options);
    this.name = 'WorkerFailedError';
    this.thread = thread;
  }
}

/** An error as it crosses a thread boundary: structured clone keeps neither its class nor `code`. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Flattens any thrown value into something `postMessage` carries intact. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: 'Error', message: `non-error thrown: ${String(error)}` };
}

/** Rebuilds an `Error` from {@link serializeError}'s result, with its `name`, `code` and the worker's stack. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message) as Error & { code?: string };
  error.name = serialized.name;
  if (serialized.code !== undefined) error.code = serialized.code;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
