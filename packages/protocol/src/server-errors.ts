import { CommError } from './errors.js';

/**
 * The codes a comm server writes in an error reply (`ERR <CODE> <message>`, R12-R16) or raises.
 * Match on these strings: they are stable across versions.
 */
export type ServerErrorCode =
  | 'COMM_LINE_TOO_LONG'
  | 'COMM_INVALID_UTF8'
  | 'COMM_HANDLER_FAILED'
  | 'COMM_LINE_TIMEOUT'
  | 'COMM_SERVER_BUSY'
  | 'COMM_ADDRESS_IN_USE'
  | 'COMM_SERVER_CLOSED';

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
export class HandlerFailedError extends CommError {
  override readonly code = 'COMM_HANDLER_FAILED' as const;

  constructor(message = 'handler failed', options?: { cause?: unknown }) {
    super(message, 'COMM_HANDLER_FAILED', options);
    this.name = 'HandlerFailedError';
  }
}

/** A line did not arrive whole within `lineTimeout` of its first byte (R13). */
export class LineTimeoutError extends CommError {
  override readonly code = 'COMM_LINE_TIMEOUT' as const;
  /** The deadline that was passed, in milliseconds. */
  readonly lineTimeout: number;

  constructor(lineTimeout: number, message = `line not finished within ${lineTimeout} ms`) {
    super(message, 'COMM_LINE_TIMEOUT');
    this.name = 'LineTimeoutError';
    this.lineTimeout = lineTimeout;
  }
}

/** The sequential server already has `maxWaiting` clients waiting; the new one is turned away (R16). */
export class ServerBusyError extends CommError {
  override readonly code = 'COMM_SERVER_BUSY' as const;

  constructor(message = 'server busy: too many clients waiting, try again later') {
    super(message, 'COMM_SERVER_BUSY');
    this.name = 'ServerBusyError';
  }
}

/** `listen()` failed because another process holds the address and port (EADDRINUSE). */
export class AddressInUseError extends CommError {
  override readonly code = 'COMM_ADDRESS_IN_USE' as const;
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
export class ServerClosedError extends CommError {
  override readonly code = 'COMM_SERVER_CLOSED' as const;

  constructor(message = 'server closed') {
    super(message, 'COMM_SERVER_CLOSED');
    this.name = 'ServerClosedError';
  }
}

/**
 * An endpoint as people write it: `127.0.0.1:2000`, `[::1]:2000`.
 *
 * @example
 * ```ts
 * formatEndpoint('::1', 2000); // '[::1]:2000'
 * ```
 */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The error reply line for an error (R12): `ERR <CODE> <message>`, on one line.
 *
 * @example
 * ```ts
 * errorReply(new LineTooLongError(10)); // 'ERR COMM_LINE_TOO_LONG line too long: more than 10 bytes'
 * ```
 */
export function errorReply(error: { code: string; message: string }): string {
  return `ERR ${error.code} ${error.message.replace(/[\r\n]+/g, ' ')}`;
}
