import { CommError } from '@comm/protocol';

/**
 * Why a PROXY header was refused, as a stable key (the message says more, never echoing the bytes):
 *
 * - `not-proxy-protocol`: the first bytes are not `PROXY ` (v1) nor the v2 signature, or not the one the mode allows
 * - `v1-too-long`: no CRLF in the first 107 bytes
 * - `v1-bad-line-end`: an LF without a CR before it
 * - `v1-bad-protocol`: not `TCP4`, `TCP6` nor `UNKNOWN`
 * - `v1-bad-syntax`: not exactly two addresses and two ports after the protocol, each after one space
 * - `v1-bad-address`: an address not valid for its family (IPv4 with leading zeros, an IPv6 zone...)
 * - `v1-bad-port`: a port outside 0-65535 or with a leading zero
 * - `v2-bad-version`: the version nibble is not 2
 * - `v2-bad-command`: the command is neither LOCAL (0) nor PROXY (1)
 * - `v2-bad-family`: the family/transport byte is not one the spec lists
 * - `v2-too-long`: the declared length is above the parser's `maxV2Length`
 * - `v2-short-address`: a PROXY header shorter than its family's address block
 * - `v2-bad-tlv`: a TLV (or SSL sub-TLV) cut short or running past the end of its block
 * - `v2-bad-tlv-value`: a registered TLV with a value the spec forbids (a UNIQUE_ID over 128 bytes, an
 *   SSL TLV under 5 bytes, a CRC32C not 4 bytes, text not US-ASCII or UTF-8 as required, a repeat)
 * - `v2-bad-checksum`: the CRC32C TLV does not match the header
 * - `truncated`: the stream ended before the header was whole
 * - `finished`: bytes pushed after the header was done (they belong to the line decoder)
 * - `internal`: a bug in the parser, caught so that `push` does not throw
 */
export type ProxyHeaderErrorReason =
  | 'not-proxy-protocol'
  | 'v1-too-long'
  | 'v1-bad-line-end'
  | 'v1-bad-protocol'
  | 'v1-bad-syntax'
  | 'v1-bad-address'
  | 'v1-bad-port'
  | 'v2-bad-version'
  | 'v2-bad-command'
  | 'v2-bad-family'
  | 'v2-too-long'
  | 'v2-short-address'
  | 'v2-bad-tlv'
  | 'v2-bad-tlv-value'
  | 'v2-bad-checksum'
  | 'truncated'
  | 'finished'
  | 'internal';

/**
 * A connection's PROXY protocol header is invalid: the spec asks the receiver to drop the
 * connection, and to do it soon so that the sender notices and logs it.
 *
 * @example
 * ```ts
 * const result = parser.push(chunk);
 * if (result.state === 'error') { log(result.error.code, result.error.reason, result.error.message); socket.destroy(); }
 * ```
 */
export class ProxyHeaderError extends CommError<'COMM_PROXY_HEADER_INVALID'> {
  /** Which rule the header broke. */
  readonly reason: ProxyHeaderErrorReason;

  constructor(reason: ProxyHeaderErrorReason, detail: string, options?: { cause?: unknown }) {
    super(`invalid PROXY header: ${detail}`, 'COMM_PROXY_HEADER_INVALID', options);
    this.name = 'ProxyHeaderError';
    this.reason = reason;
  }
}

/**
 * A PROXY protocol header did not arrive whole within the caller's deadline. The parser has no
 * clock: the code that owns the socket starts the timer at accept and raises this on expiry (the
 * spec suggests a few seconds, at least 3 to cover a TCP retransmit).
 *
 * @example
 * ```ts
 * const timer = setTimeout(() => socket.destroy(new ProxyHeaderTimeoutError(3000)), 3000);
 * ```
 */
export class ProxyHeaderTimeoutError extends CommError<'COMM_PROXY_HEADER_TIMEOUT'> {
  /** The deadline that was passed, in milliseconds. */
  readonly headerTimeout: number;

  constructor(headerTimeout: number, message = `PROXY header not received within ${headerTimeout} ms`) {
    super(message, 'COMM_PROXY_HEADER_TIMEOUT');
    this.name = 'ProxyHeaderTimeoutError';
    this.headerTimeout = headerTimeout;
  }
}
