/**
 * Every code a comm package throws, reports or writes in an `ERR` reply, with what it means: one
 * registry for the whole project, so a code is never reused for a second meaning and every
 * package README can table the codes it uses. Codes are stable across versions.
 *
 * @example
 * ```ts
 * import { ERROR_CODES } from '@comm/protocol';
 * ERROR_CODES.COMM_LINE_TOO_LONG; // 'a line is longer than the limit (R7)'
 * ```
 */
export const ERROR_CODES = {
  COMM_ERROR: 'an error with no more precise code',
  // The wire format (@comm/protocol)
  COMM_LINE_TOO_LONG: 'a line is longer than the limit (R7)',
  COMM_INVALID_UTF8: 'a line is not valid UTF-8 (R8)',
  COMM_LINE_HAS_BREAK: 'a string to send as one line contains CR or LF',
  COMM_INVALID_OPTION: 'an option or a command-line flag has a bad value',
  // The servers (@comm/server-core and both servers)
  COMM_HANDLER_FAILED: 'the handler threw, rejected or gave no line (R12)',
  COMM_LINE_TIMEOUT: 'a line did not arrive whole in time (R13)',
  COMM_SERVER_BUSY: 'the sequential server has too many clients waiting (R16)',
  COMM_ADDRESS_IN_USE: 'another process holds the address and port',
  COMM_SERVER_CLOSED: 'the server is closing or closed',
  COMM_HANDLER_LOAD_FAILED: 'the handler module could not be loaded',
  COMM_MECHANISM_UNAVAILABLE: 'the threaded server was asked for a mechanism this runtime lacks',
  COMM_WORKER_FAILED: 'a worker thread of the threaded server died',
  COMM_PROXY_HEADER_INVALID: 'a connection began with an invalid PROXY protocol header (v1 or v2)',
  COMM_PROXY_HEADER_TIMEOUT: 'a PROXY protocol header did not arrive whole in time',
  // The client (@comm/client)
  COMM_CONNECTION_REFUSED: 'nothing listens at the address',
  COMM_HOST_NOT_FOUND: 'the host name does not resolve',
  COMM_CONNECT_FAILED: 'the connect failed for another reason (unreachable, bad scope...)',
  COMM_TIMEOUT: 'the connect or a reply took longer than the timeout',
  COMM_CONNECTION_LOST: 'the connection closed or failed while replies were owed',
  COMM_ABORTED: 'a request was aborted through its signal',
  COMM_FLOWINFO_UNSUPPORTED: 'an IPv6 flow label was asked for, which Node cannot set',
  COMM_CLIENT_CLOSED: 'the client was closed before the call',
  COMM_TLS_CERTIFICATE_INVALID: "the server's TLS certificate failed verification (untrusted, expired, wrong name)",
  COMM_TLS_HANDSHAKE_FAILED: 'the TLS handshake with the server failed for another reason (protocol, cipher, a reset)',
  COMM_INPUT_LINE_INVALID: "a line of the client command's input cannot be sent (too long, not UTF-8)",
  COMM_OUTPUT_CLOSED: "the client command's output went away (EPIPE)",
} as const;

/** Every code of the project: match `err.code` against these. */
export type CommErrorCode = keyof typeof ERROR_CODES;

/**
 * Every error that comm throws or reports is a `CommError` with a stable string `code`.
 * Match on `err.code`, not on `instanceof`: codes keep working when two copies of a
 * package are installed side by side.
 *
 * @example
 * ```ts
 * try { encodeLine('a\nb'); } catch (err) {
 *   if ((err as CommError).code === 'COMM_LINE_HAS_BREAK') { ... }
 * }
 * ```
 */
export class CommError<Code extends string = CommErrorCode> extends Error {
  /** A stable machine-readable code, `COMM_` followed by the case: see {@link ERROR_CODES}. */
  readonly code: Code;

  constructor(message: string, code: Code = 'COMM_ERROR' as Code, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommError';
    this.code = code;
  }
}

/** A line is longer than the byte limit; the decoder dropped it up to its LF and goes on. */
export class LineTooLongError extends CommError<'COMM_LINE_TOO_LONG'> {
  /** The limit that was passed, in bytes (the line ending not counted). */
  readonly maxLineLength: number;

  constructor(maxLineLength: number, message = `line too long: more than ${maxLineLength} bytes`) {
    super(message, 'COMM_LINE_TOO_LONG');
    this.name = 'LineTooLongError';
    this.maxLineLength = maxLineLength;
  }
}

/** A line is not valid UTF-8 and the decoder's policy is `'error'`; the line is dropped. */
export class InvalidUtf8Error extends CommError<'COMM_INVALID_UTF8'> {
  constructor(message = 'invalid utf-8 in line') {
    super(message, 'COMM_INVALID_UTF8');
    this.name = 'InvalidUtf8Error';
  }
}

/** A string given to the encoder contains CR or LF, so it cannot be sent as one line. */
export class LineHasBreakError extends CommError<'COMM_LINE_HAS_BREAK'> {
  constructor(message = 'line contains CR or LF: a line is sent without its line ending') {
    super(message, 'COMM_LINE_HAS_BREAK');
    this.name = 'LineHasBreakError';
  }
}

/** An option has a value outside its range. */
export class InvalidOptionError extends CommError<'COMM_INVALID_OPTION'> {
  constructor(message: string) {
    super(message, 'COMM_INVALID_OPTION');
    this.name = 'InvalidOptionError';
  }
}

/** The errors a line decoder reports in place of a line. */
export type LineError = LineTooLongError | InvalidUtf8Error;

/**
 * True for the errors a decoder reports in place of a line (as opposed to a decoded string).
 * It matches on `code`, so it also recognises errors from another copy of this package.
 *
 * @example
 * ```ts
 * for (const item of decoder.push(chunk)) reply(isLineError(item) ? errorReply(item) : item);
 * ```
 */
export function isLineError(item: unknown): item is LineError {
  if (!(item instanceof Error)) return false;
  const code = (item as { code?: unknown }).code;
  return code === 'COMM_LINE_TOO_LONG' || code === 'COMM_INVALID_UTF8';
}
