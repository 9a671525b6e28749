// For the tests only: a PROXY header encoder written from the spec, apart from the parser, and
// ways to feed a parser.
import { Buffer } from 'node:buffer';
import { crc32c } from './crc32c.js';
import { ProxyHeaderParser, type ProxyHeaderParserOptions, type ProxyParseResult } from './parse.js';

export const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** One TLV: type, 2-byte big-endian length, value. */
export function tlv(type: number, value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** The SSL TLV's value: client flags, verify, sub-TLVs. */
export function sslValue(client: number, verify: number, subTlvs: Buffer[] = []): Buffer {
  const head = Buffer.alloc(5);
  head[0] = client;
  head.writeUInt32BE(verify >>> 0, 1);
  return Buffer.concat([head, ...subTlvs]);
}

export interface V2Parts {
  /** Version and command byte; default 0x21 (v2 PROXY). */
  readonly versionCommand?: number;
  /** Family and transport byte; default 0x11 (TCP over IPv4). */
  readonly family?: number;
  /** The address block as bytes. */
  readonly addresses?: Uint8Array;
  /** TLVs, already encoded, in order. */
  readonly tlvs?: readonly Uint8Array[];
  /** Where among the TLVs to put a CRC32C TLV, computed over the result; none if undefined. */
  readonly crcAt?: number;
  /** Overrides the length field (to lie about it). */
  readonly length?: number;
}

/** A v2 header from its parts. */
export function encodeV2(parts: V2Parts): Buffer {
  const { versionCommand = 0x21, family = 0x11, addresses = new Uint8Array(0), crcAt } = parts;
  const tlvs: Buffer[] = (parts.tlvs ?? []).map((bytes) => Buffer.from(bytes));
  if (crcAt !== undefined) tlvs.splice(crcAt, 0, tlv(0x03, new Uint8Array(4)));
  const body = Buffer.concat([Buffer.from(addresses), ...tlvs]);
  const fixed = Buffer.alloc(4);
  fixed[0] = versionCommand;
  fixed[1] = family;
  fixed.writeUInt16BE(parts.length ?? body.length, 2);
  const header = Buffer.concat([SIGNATURE, fixed, body]);
  if (crcAt !== undefined) {
    const at = 16 + addresses.length + tlvs.slice(0, crcAt).reduce((sum, bytes) => sum + bytes.length, 0) + 3;
    header.writeUInt32BE(crc32c(header), at);
  }
  return header;
}

/** The address block of TCP/UDP over IPv4 or IPv6: both addresses, then both ports. */
export function ipBlock(source: Uint8Array, destination: Uint8Array, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([source, destination, ports]);
}

/** `'1.2.3.4'` → its 4 bytes. */
export function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/**
 * `'2001:db8::1'`, `'::ffff:1.2.3.4'` → the 16 bytes, written apart from the parser's formatting
 * so that a test can check an address by its value and not by one spelling of it.
 */
export function ipv6Bytes(address: string): Buffer {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a, b, c, d] = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const toGroups = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const [left, right] = text.split('::') as [string, string | undefined];
  const groups =
    right === undefined
      ? toGroups(left)
      : [...toGroups(left), ...new Array<number>(8 - toGroups(left).length - toGroups(right).length).fill(0), ...toGroups(right)];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(group, 2 * i);
  return bytes;
}

/** Cuts `bytes` at the given offsets (in any order, out of range clamped): the pieces, empty ones kept. */
export function cutAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = offsets.map((offset) => Math.max(0, Math.min(bytes.length, offset))).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(from, point));
    from = point;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

/** What feeding a parser chunk by chunk gave: the outcome, and the chunks pushed after it. */
export interface Fed {
  /** The first result that is not `need-more`, or the last `need-more`. */
  readonly result: ProxyParseResult;
  /** Every result before `result`. */
  readonly before: readonly ProxyParseResult[];
  /** How many bytes had been pushed when `result` came. */
  readonly pushed: number;
  /** The chunks not pushed because `result` ended the header. */
  readonly unpushed: readonly Buffer[];
}

/** Pushes chunks until the parser is done or fails. */
export function feed(chunks: readonly Uint8Array[], options?: ProxyHeaderParserOptions): Fed {
  const parser = new ProxyHeaderParser(options);
  const before: ProxyParseResult[] = [];
  let pushed = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    pushed += chunk.length;
    const result = parser.push(chunk);
    if (result.state !== 'need-more') return { result, before, pushed, unpushed: chunks.slice(i + 1).map((c) => Buffer.from(c)) };
    before.push(result);
  }
  return { result: before.pop() ?? { state: 'need-more' }, before, pushed, unpushed: [] };
}

/** The result of parsing `bytes` pushed whole; fails the test if it is not `done`. */
export function parseWhole(bytes: Uint8Array | string, options?: ProxyHeaderParserOptions) {
  const result = new ProxyHeaderParser(options).push(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  if (result.state !== 'done') {
    throw new Error(
      `expected a header, got ${result.state === 'error' ? `${result.error.reason}: ${result.error.message}` : result.state}`,
    );
  }
  return result;
}

/** The error of parsing `bytes` pushed whole; fails the test if there is none. */
export function parseError(bytes: Uint8Array | string, options?: ProxyHeaderParserOptions) {
  const result = new ProxyHeaderParser(options).push(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  if (result.state !== 'error') throw new Error(`expected an error, got ${result.state}`);
  return result.error;
}
