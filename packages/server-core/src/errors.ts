import { CommError, formatEndpoint } from '@comm/protocol';

/**
 * A handler threw, rejected, or returned something that is not one line of text. The client gets
 * `ERR COMM_HANDLER_FAILED handler failed` in that line's place (R12); the original error is the
 * `cause`, reported to the server, never to the client.
 *
 * @example
 * ```ts
 * server.on('handlerError', (err) => console.error(err.code, err.cause));
 * ```
 */
export class HandlerFailedError extends CommError<'COMM_HANDLER_FAILED'> {
  constructor(message = 'handler failed', options?: { cause?: unknown }) {
    super(message, 'COMM_HANDLER_FAILED', options);
    this.name = 'HandlerFailedError';
  }
}

/** A line did not arrive whole within `lineTimeout` of its first byte (R13). */
export class LineTimeoutError extends CommError<'COMM_LINE_TIMEOUT'> {
  /** The deadline that was passed, in milliseconds. */
  readonly lineTimeout: number;

  constructor(lineTimeout: number, message = `line not finished within ${lineTimeout} ms`) {
    super(message, 'COMM_LINE_TIMEOUT');
    this.name = 'LineTimeoutError';
    this.lineTimeout = lineTimeout;
  }
}

/** The sequential server already has `maxWaiting` clients waiting; the new one is turned away (R16). */
export class ServerBusyError extends CommError<'COMM_SERVER_BUSY'> {
  constructor(message = 'server busy: too many clients waiting, try again later') {
    super(message, 'COMM_SERVER_BUSY');
    this.name = 'ServerBusyError';
  }
}

/** `listen()` failed because another process holds the address and port (EADDRINUSE). */
export class AddressInUseError extends CommError<'COMM_ADDRESS_IN_USE'> {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, options?: { cause?: unknown }) {
    super(`address in use: ${formatEndpoint(host, port)} is taken by another process`, 'COMM_ADDRESS_IN_USE', options);
    this.name = 'AddressInUseError';
    this.host = host;
    this.port = port;
  }
}

/** The server is closing or closed: `listen()` after `close()`, or a call that needs a running server. */
export class ServerClosedError extends CommError<'COMM_SERVER_CLOSED'> {
  constructor(message = 'server closed') {
    super(message, 'COMM_SERVER_CLOSED');
    this.name = 'ServerClosedError';
  }
}

/**
 * The handler module could not be loaded in a worker: not found, a syntax error, a throw while
 * it ran, or no `handler` function among its exports. `listen()` rejects with it; the module's
 * own error is the `cause` (its `code`, e.g. `ERR_MODULE_NOT_FOUND`, kept).
 *
 * @example
 * ```ts
 * await server.listen().catch((err) => { if (err.code === 'COMM_HANDLER_LOAD_FAILED') console.error(err.cause); });
 * ```
 */
export class HandlerLoadError extends CommError<'COMM_HANDLER_LOAD_FAILED'> {
  /** The module as the worker imported it (a `file:` URL, or the URL given). */
  readonly module: string;
  /** What went wrong, without the module's name. */
  readonly reason: string;

  constructor(module: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot load handler module ${module}: ${reason}`, 'COMM_HANDLER_LOAD_FAILED', options);
    this.name = 'HandlerLoadError';
    this.module = module;
    this.reason = reason;
  }
}
