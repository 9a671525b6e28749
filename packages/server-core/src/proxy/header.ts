// What a PROXY protocol header says, once parsed: the same shape for version 1 (text) and
// version 2 (binary). The wire format is haproxy's doc/proxy-protocol.txt.
import type { Buffer } from 'node:buffer';

/**
 * The original address family, named as Node names `socket.remoteFamily`.
 * v1 `TCP4` → `'IPv4'`, `TCP6` → `'IPv6'`, `UNKNOWN` → `'unspec'`; v2 `AF_INET` → `'IPv4'`,
 * `AF_INET6` → `'IPv6'`, `AF_UNIX` → `'unix'`, `AF_UNSPEC` → `'unspec'`.
 *
 * @example
 * ```ts
 * if (header.family === 'IPv6') console.log('the client came over IPv6');
 * ```
 */
export type ProxyFamily = 'IPv4' | 'IPv6' | 'unix' | 'unspec';

/**
 * The original transport: v2's low nibble of the 14th byte (`STREAM` → `'stream'`, `DGRAM` →
 * `'dgram'`, `UNSPEC` → `'unspec'`); v1 `TCP4`/`TCP6` → `'stream'`, `UNKNOWN` → `'unspec'`.
 *
 * @example
 * ```ts
 * header.transport; // 'stream' for TCP
 * ```
 */
export type ProxyTransport = 'stream' | 'dgram' | 'unspec';

/**
 * An IP address and port as the proxy saw them. The address is in the form Node gives
 * `socket.remoteAddress`: IPv4 dotted quad, IPv6 lower case and compressed (`2001:db8::1`), an
 * IPv4-mapped IPv6 address as `::ffff:1.2.3.4` (`normalizeAddress` turns that into `1.2.3.4`).
 *
 * @example
 * ```ts
 * header.source; // { address: '192.168.0.1', port: 56324 }
 * ```
 */
export interface ProxyEndpoint {
  readonly address: string;
  /** 0 to 65535. */
  readonly port: number;
}

/**
 * One TLV of a v2 header (or one sub-TLV of the SSL TLV) as it was on the wire.
 *
 * @example
 * ```ts
 * header.tlvs.raw.find((tlv) => tlv.type === 0xea)?.value; // a vendor TLV, e.g. AWS's VPC endpoint id
 * ```
 */
export interface ProxyTlv {
  /** The type byte: see {@link PROXY_TLV_TYPES}; 0xE0-0xEF are for applications. */
  readonly type: number;
  /** The value bytes (a view into the parser's own copy of the header, not into the caller's chunks). */
  readonly value: Buffer;
}

/**
 * The `PP2_TYPE_SSL` TLV (0x20): how the client reached the proxy over TLS.
 *
 * @example
 * ```ts
 * const ssl = header.tlvs.ssl;
 * if (ssl?.connectedWithSsl && ssl.certificateInConnection && ssl.verify === 0) console.log('client cert ok:', ssl.cn);
 * ```
 */
export interface ProxySslInfo {
  /** The `client` bit field as sent (`PP2_CLIENT_SSL` 0x01, `PP2_CLIENT_CERT_CONN` 0x02, `PP2_CLIENT_CERT_SESS` 0x04). */
  readonly clientFlags: number;
  /** `PP2_CLIENT_SSL`: the client connected over SSL/TLS. */
  readonly connectedWithSsl: boolean;
  /** `PP2_CLIENT_CERT_CONN`: the client presented a certificate on this connection. */
  readonly certificateInConnection: boolean;
  /** `PP2_CLIENT_CERT_SESS`: the client presented a certificate at least once in this TLS session. */
  readonly certificateInSession: boolean;
  /** The `verify` field: 0 when the client presented a certificate and it was verified, non-zero otherwise. */
  readonly verify: number;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21), US-ASCII, e.g. `'TLSv1.3'`. */
  readonly version?: string;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name, UTF-8. */
  readonly cn?: string;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23), US-ASCII, e.g. `'ECDHE-RSA-AES128-GCM-SHA256'`. */
  readonly cipher?: string;
  /** `PP2_SUBTYPE_SSL_SIG_ALG` (0x24), US-ASCII, e.g. `'RSA-SHA256'`. */
  readonly sigAlg?: string;
  /** `PP2_SUBTYPE_SSL_KEY_ALG` (0x25), US-ASCII, e.g. `'RSA2048'`. */
  readonly keyAlg?: string;
  /** Every sub-TLV in wire order, the ones above and any other. */
  readonly raw: readonly ProxyTlv[];
}

/**
 * The TLVs of a v2 header, the registered ones decoded. A v1 header has none (`{ raw: [] }`).
 * Each registered type may appear once (a second one is an error), except NOOP.
 *
 * @example
 * ```ts
 * const { alpn, authority, uniqueId, crc32c } = header.tlvs; // e.g. 'h2', 'example.com', <Buffer ...>, { checksum: 0xe8d6892d, verified: true }
 * ```
 */
export interface ProxyTlvs {
  /** `PP2_TYPE_ALPN` (0x01): the negotiated protocol, one character a byte (latin1), e.g. `'h2'`. */
  readonly alpn?: string;
  /** `PP2_TYPE_AUTHORITY` (0x02): the host name the client asked for (TLS SNI), UTF-8. */
  readonly authority?: string;
  /** `PP2_TYPE_CRC32C` (0x03): present only when sent, and then it matched (a mismatch is an error). */
  readonly crc32c?: { readonly checksum: number; readonly verified: true };
  /** `PP2_TYPE_UNIQUE_ID` (0x05): an opaque connection id of at most 128 bytes. */
  readonly uniqueId?: Buffer;
  /** `PP2_TYPE_SSL` (0x20) with its sub-TLVs. */
  readonly ssl?: ProxySslInfo;
  /** `PP2_TYPE_NETNS` (0x30): the network namespace's name, US-ASCII. */
  readonly netns?: string;
  /** Every TLV in wire order: the ones above, NOOPs (0x04) and any other type (custom 0xE0-0xEF...). */
  readonly raw: readonly ProxyTlv[];
}

/**
 * A parsed PROXY protocol header (v1 or v2).
 *
 * Whose addresses to use: `source` and `destination` are present exactly when the header asks the
 * receiver to use them in place of the socket's, that is for command `PROXY` over IPv4 or IPv6
 * (v1 `TCP4`/`TCP6`; v2 families `AF_INET`/`AF_INET6`). For v2 `LOCAL`, for `AF_UNIX` and
 * `AF_UNSPEC`, and for v1 `UNKNOWN` they are absent: use the real endpoints of the connection, as
 * the spec asks (UNIX and UNSPEC are taken as LOCAL).
 *
 * @example
 * ```ts
 * // from 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n':
 * ({
 *   version: 1, command: 'PROXY', family: 'IPv4', transport: 'stream',
 *   source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 },
 *   tlvs: { raw: [] }, byteLength: 47,
 * });
 * const peer = header.source ?? { address: socket.remoteAddress, port: socket.remotePort };
 * ```
 */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /** v2's command as sent; a v1 line always reads `PROXY` (even `UNKNOWN`: then no endpoints are given). */
  readonly command: 'PROXY' | 'LOCAL';
  readonly family: ProxyFamily;
  readonly transport: ProxyTransport;
  /** The client as the proxy saw it; see above for when it is absent. */
  readonly source?: ProxyEndpoint;
  /** The address the client connected to at the proxy; present exactly when `source` is. */
  readonly destination?: ProxyEndpoint;
  readonly tlvs: ProxyTlvs;
  /** How many bytes of the stream the header took: v1, the line with its CRLF; v2, 16 + its length field. */
  readonly byteLength: number;
}

/**
 * The TLV types the spec registers (and the SSL sub-types), for reading `tlvs.raw`.
 *
 * @example
 * ```ts
 * header.tlvs.raw.filter((tlv) => tlv.type === PROXY_TLV_TYPES.NOOP).length;
 * ```
 */
export const PROXY_TLV_TYPES = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
} as const;
