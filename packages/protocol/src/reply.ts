import type { CommErrorCode } from './errors.js';

/** R1: the comm port. */
export const DEFAULT_PORT = 2000;

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

/** An `ERR` reply taken apart by {@link parseErrorReply}. */
export interface ErrorReply {
  /** A code of {@link ERROR_CODES} from this version; a newer server may send others. */
  readonly code: CommErrorCode | (string & {});
  readonly message: string;
}

const ERROR_REPLY = /^ERR (COMM_[A-Z0-9_]+)(?: (.*))?$/;

/**
 * Reads an error reply (R12): `{ code, message }` for `ERR <CODE> <message>`, `undefined` for any
 * other line (an echoed `ERR` that is not followed by a code, for one).
 *
 * @example
 * ```ts
 * parseErrorReply('ERR COMM_LINE_TOO_LONG line too long: more than 10 bytes');
 * // { code: 'COMM_LINE_TOO_LONG', message: 'line too long: more than 10 bytes' }
 * parseErrorReply('hello'); // undefined
 * ```
 */
export function parseErrorReply(line: string): ErrorReply | undefined {
  if (!line.startsWith('ERR ')) return undefined;
  const match = ERROR_REPLY.exec(line);
  if (match === null) return undefined;
  return { code: match[1] as string, message: match[2] ?? '' };
}
