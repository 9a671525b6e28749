import { CommError } from '@comm/protocol';

/**
 * The codes a client error can carry. Reply lines that break the protocol's rules are
 * reported with the protocol's own classes (`COMM_LINE_TOO_LONG`, `COMM_INVALID_UTF8`),
 * bad options with `COMM_INVALID_OPTION`, a line with CR or LF with `COMM_LINE_HAS_BREAK`.
 * Match on `err.code`; every message names the address that was tried.
 *
 * @example
 * ```ts
 * try {
 *   await connect('localhost', 2000);
 * } catch (err) {
 *   if ((err as CommError).code === 'COMM_CONNECTION_REFUSED') console.error('is the server running?');
 *   else throw err;
 * }
 * ```
 */
export type ClientErrorCode =
  | 'COMM_CONNECTION_REFUSED'
  | 'COMM_HOST_NOT_FOUND'
  | 'COMM_CONNECT_FAILED'
  | 'COMM_TIMEOUT'
  | 'COMM_CONNECTION_LOST'
  | 'COMM_ABORTED'
  | 'COMM_FLOWINFO_UNSUPPORTED'
  | 'COMM_CLIENT_CLOSED'
  | 'COMM_TLS_CERTIFICATE_INVALID'
  | 'COMM_TLS_HANDSHAKE_FAILED';

/** Nothing listens at the address (the peer answered the connect with RST). */
export class ConnectionRefusedError extends CommError<'COMM_CONNECTION_REFUSED'> {
  constructor(address: string, options?: { cause?: unknown }) {
    super(`connection refused: ${address}`, 'COMM_CONNECTION_REFUSED', options);
    this.name = 'ConnectionRefusedError';
  }
}

/** The host name does not resolve (to an address of the asked family). */
export class HostNotFoundError extends CommError<'COMM_HOST_NOT_FOUND'> {
  constructor(address: string, detail: string, options?: { cause?: unknown }) {
    super(`host not found: ${address} (${detail})`, 'COMM_HOST_NOT_FOUND', options);
    this.name = 'HostNotFoundError';
  }
}

/**
 * The connection could not be made for another reason the system gave
 * (network unreachable, no such interface for a scope, ...); `errno` keeps the system's code.
 */
export class ConnectFailedError extends CommError<'COMM_CONNECT_FAILED'> {
  /** The system's error code, such as `ENETUNREACH` or `EINVAL`. */
  readonly errno: string | undefined;

  constructor(address: string, errno: string | undefined, options?: { cause?: unknown }) {
    super(`cannot connect: ${address} (${errno ?? 'unknown error'})`, 'COMM_CONNECT_FAILED', options);
    this.name = 'ConnectFailedError';
    this.errno = errno;
  }
}

/** What was being waited for when a {@link CommTimeoutError} struck. */
export type TimeoutPhase = 'connect' | 'reply' | 'close';

/**
 * A connect, a reply, or the `BYE` reply of `close()` did not come within its time limit.
 *
 * @example
 * ```ts
 * await client.request('hi', { timeout: 1000 }).catch((err) => {
 *   if (err.code === 'COMM_TIMEOUT' && err.phase === 'reply') return 'no answer';
 *   throw err;
 * });
 * ```
 */
export class CommTimeoutError extends CommError<'COMM_TIMEOUT'> {
  /** What was being waited for. */
  readonly phase: TimeoutPhase;
  /** The limit that passed, in milliseconds. */
  readonly timeout: number;

  constructor(phase: TimeoutPhase, address: string, timeout: number) {
    const what = phase === 'connect' ? 'connect' : phase === 'reply' ? 'no reply' : 'no BYE reply';
    super(`timed out: ${what} within ${timeout} ms from ${address}`, 'COMM_TIMEOUT');
    this.name = 'CommTimeoutError';
    this.phase = phase;
    this.timeout = timeout;
  }
}

/**
 * The connection closed or failed while replies were still owed; every pending request
 * rejects with it, and so does every later one.
 *
 * @example
 * ```ts
 * const results = await Promise.allSettled(lines.map((line) => client.request(line)));
 * const lost = results.filter((r) => r.status === 'rejected' && r.reason.code === 'COMM_CONNECTION_LOST');
 * ```
 */
export class ConnectionLostError extends CommError<'COMM_CONNECTION_LOST'> {
  constructor(address: string, detail: string, options?: { cause?: unknown }) {
    super(`connection lost: ${address} (${detail})`, 'COMM_CONNECTION_LOST', options);
    this.name = 'ConnectionLostError';
  }
}

/** The caller's `AbortSignal` fired; the reply, if it comes, is dropped. */
export class AbortedError extends CommError<'COMM_ABORTED'> {
  constructor(address: string, options?: { cause?: unknown }) {
    super(`aborted: request to ${address}`, 'COMM_ABORTED', options);
    this.name = 'AbortedError';
  }
}

/** A non-zero IPv6 flow label was asked for; Node's `net` cannot set one. */
export class FlowinfoUnsupportedError extends CommError<'COMM_FLOWINFO_UNSUPPORTED'> {
  constructor(flowinfo: number) {
    super(
      `flowinfo ${flowinfo} is not supported: Node's net module cannot set the IPv6 flow label, only 0 is accepted`,
      'COMM_FLOWINFO_UNSUPPORTED',
    );
    this.name = 'FlowinfoUnsupportedError';
  }
}

/** The client was closed (by `close()`, `destroy()` or a `BYE` line) before this request. */
export class ClientClosedError extends CommError<'COMM_CLIENT_CLOSED'> {
  constructor(address: string) {
    super(`client closed: ${address}`, 'COMM_CLIENT_CLOSED');
    this.name = 'ClientClosedError';
  }
}

/**
 * The server's TLS certificate failed verification: not signed by a trusted CA, expired, or not
 * for the name asked (`servername`, else the host). `reason` is OpenSSL's code, e.g.
 * `DEPTH_ZERO_SELF_SIGNED_CERT` or `ERR_TLS_CERT_ALTNAME_INVALID`.
 *
 * @example
 * ```ts
 * await connect('localhost', 2000, { tls: true }).catch((err) => err.code); // 'COMM_TLS_CERTIFICATE_INVALID'
 * ```
 */
export class TlsCertificateError extends CommError<'COMM_TLS_CERTIFICATE_INVALID'> {
  readonly reason: string;

  constructor(address: string, reason: string, detail: string, options?: { cause?: unknown }) {
    super(`TLS certificate of ${address} not accepted: ${detail} (${reason})`, 'COMM_TLS_CERTIFICATE_INVALID', options);
    this.name = 'TlsCertificateError';
    this.reason = reason;
  }
}

/** The TLS handshake failed for a reason other than the certificate (no common protocol, a reset...). */
export class TlsHandshakeError extends CommError<'COMM_TLS_HANDSHAKE_FAILED'> {
  constructor(address: string, detail: string, options?: { cause?: unknown }) {
    super(`TLS handshake with ${address} failed: ${detail}`, 'COMM_TLS_HANDSHAKE_FAILED', options);
    this.name = 'TlsHandshakeError';
  }
}
