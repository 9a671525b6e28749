// Version 2: a 16-byte binary prefix (signature, version and command, family and transport,
// length), then `length` bytes: the address block of the family, then TLVs.
import { Buffer, isUtf8 } from 'node:buffer';
import { ipv4At, ipv6At } from './address.js';
import { crc32c } from './crc32c.js';
import { ProxyHeaderError } from './errors.js';
import {
  PROXY_TLV_TYPES as T,
  type ProxyFamily,
  type ProxyHeader,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvs,
  type ProxyTransport,
} from './header.js';

/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Signature, version and command, family and transport, length. */
export const V2_FIXED_LENGTH = 16;
/** The most a PP2_TYPE_UNIQUE_ID may hold. */
const MAX_UNIQUE_ID = 128;

/** What the 16 fixed bytes say. */
export interface V2Prefix {
  readonly command: 'PROXY' | 'LOCAL';
  readonly family: ProxyFamily;
  readonly transport: ProxyTransport;
  /** The size of the family's address block: 12, 36, 216, or 0 for UNSPEC. */
  readonly addressLength: number;
  /** The length field: how many bytes follow the fixed 16. */
  readonly length: number;
}

/** The family/transport bytes the spec lists, each with what it means and its address block size. */
const FAMILIES = new Map<number, readonly [ProxyFamily, ProxyTransport, number]>([
  [0x00, ['unspec', 'unspec', 0]],
  [0x11, ['IPv4', 'stream', 12]],
  [0x12, ['IPv4', 'dgram', 12]],
  [0x21, ['IPv6', 'stream', 36]],
  [0x22, ['IPv6', 'dgram', 36]],
  [0x31, ['unix', 'stream', 216]],
  [0x32, ['unix', 'dgram', 216]],
]);

const hex = (byte: number): string => '0x' + byte.toString(16).padStart(2, '0');

/** Reads the 16 fixed bytes (the signature already checked) and bounds the length by `maxLength`. */
export function parseV2Prefix(fixed: Buffer, maxLength: number): V2Prefix | ProxyHeaderError {
  const versionCommand = fixed[12]!;
  if (versionCommand >> 4 !== 2) {
    return new ProxyHeaderError('v2-bad-version', `the v2 version is ${versionCommand >> 4}, not 2`);
  }
  const commandBits = versionCommand & 0x0f;
  if (commandBits > 1) {
    return new ProxyHeaderError('v2-bad-command', `the v2 command is ${commandBits}, neither LOCAL (0) nor PROXY (1)`);
  }
  const familyByte = fixed[13]!;
  const known = FAMILIES.get(familyByte);
  if (known === undefined) {
    return new ProxyHeaderError('v2-bad-family', `the v2 family and transport byte ${hex(familyByte)} is not one the spec lists`);
  }
  const length = fixed.readUInt16BE(14);
  if (length > maxLength) {
    return new ProxyHeaderError('v2-too-long', `the v2 length ${length} is above the limit of ${maxLength} bytes`);
  }
  const [family, transport, addressLength] = known;
  return { command: commandBits === 1 ? 'PROXY' : 'LOCAL', family, transport, addressLength, length };
}

/** The header in a whole v2 block: the 16 fixed bytes and exactly `prefix.length` more. */
export function parseV2Block(block: Buffer, prefix: V2Prefix): ProxyHeader | ProxyHeaderError {
  const { command, family, transport, addressLength, length } = prefix;
  const byteLength = block.length;
  if (length < addressLength) {
    if (command === 'PROXY') {
      return new ProxyHeaderError(
        'v2-short-address',
        `the v2 length ${length} is shorter than the ${addressLength}-byte address block of ${family}`,
      );
    }
    // LOCAL: the block is discarded whole; what it holds cannot be told apart, so it is skipped.
    return { version: 2, command, family, transport, tlvs: { raw: [] }, byteLength };
  }
  const tlvs = parseTlvs(block, V2_FIXED_LENGTH + addressLength);
  if (tlvs instanceof ProxyHeaderError) return tlvs;
  // Only PROXY over IP gives endpoints to use; LOCAL, UNIX and UNSPEC keep the real ones.
  // Object literals, not spreads, which are slow on this path on Node 20.
  if (command === 'LOCAL' || (family !== 'IPv4' && family !== 'IPv6')) {
    return { version: 2, command, family, transport, tlvs, byteLength };
  }
  const size = family === 'IPv4' ? 4 : 16;
  const addressAt = family === 'IPv4' ? ipv4At : ipv6At;
  const portsAt = V2_FIXED_LENGTH + 2 * size;
  return {
    version: 2,
    command,
    family,
    transport,
    source: { address: addressAt(block, V2_FIXED_LENGTH), port: block.readUInt16BE(portsAt) },
    destination: { address: addressAt(block, V2_FIXED_LENGTH + size), port: block.readUInt16BE(portsAt + 2) },
    tlvs,
    byteLength,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const badValue = (detail: string) => new ProxyHeaderError('v2-bad-tlv-value', detail);

type TextEncoding = 'latin1' | 'ascii' | 'utf8';

/** The value as text, or an error naming `what` when its bytes are not of `encoding` (latin1 takes any). */
function decodeText(value: Buffer, encoding: TextEncoding, what: string): string | ProxyHeaderError {
  if (encoding === 'utf8') return isUtf8(value) ? value.toString('utf8') : badValue(`${what} is not UTF-8`);
  if (encoding === 'ascii' && value.some((byte) => byte > 0x7f)) return badValue(`${what} is not US-ASCII`);
  return value.toString('latin1');
}

/**
 * The TLVs in `bytes` from `start` to its end, checked to fit exactly: each needs its 3-byte type
 * and length, and its value must end by the end of the block.
 */
function splitTlvs(bytes: Buffer, start: number, what: string): ProxyTlv[] | ProxyHeaderError {
  const tlvs: ProxyTlv[] = [];
  const end = bytes.length;
  for (let at = start; at < end; ) {
    if (end - at < 3) {
      return new ProxyHeaderError(
        'v2-bad-tlv',
        `a ${what} at offset ${at} is cut short: only ${end - at} of its 3 type and length bytes are left`,
      );
    }
    const type = bytes[at]!;
    const valueLength = bytes.readUInt16BE(at + 1);
    const valueEnd = at + 3 + valueLength;
    if (valueEnd > end) {
      return new ProxyHeaderError(
        'v2-bad-tlv',
        `the ${what} ${hex(type)} at offset ${at} has ${valueLength} bytes, past the end of its block`,
      );
    }
    tlvs.push({ type, value: bytes.subarray(at + 3, valueEnd) });
    at = valueEnd;
  }
  return tlvs;
}

/** Checks the CRC32C TLV if there is one: the header's CRC32C with the TLV's value taken as 4 zeros. */
function checkCrc32c(block: Buffer, raw: readonly ProxyTlv[]): ProxyTlvs['crc32c'] | ProxyHeaderError {
  const found = raw.filter((tlv) => tlv.type === T.CRC32C);
  if (found.length === 0) return undefined;
  if (found.length > 1) return badValue('the CRC32C TLV appears more than once');
  const { value } = found[0]!;
  if (value.length !== 4) return badValue(`the CRC32C TLV has ${value.length} bytes, not 4`);
  const at = value.byteOffset - block.byteOffset;
  const checksum = value.readUInt32BE(0);
  const computed = crc32c(block.subarray(at + 4), crc32c(ZEROS, crc32c(block.subarray(0, at))));
  if (computed !== checksum) {
    return new ProxyHeaderError(
      'v2-bad-checksum',
      `the CRC32C TLV says ${checksum.toString(16)}, the header's is ${computed.toString(16)}`,
    );
  }
  return { checksum, verified: true };
}

const ZEROS = new Uint8Array(4);

/** The registered top-level types that may appear only once (NOOP may repeat). */
const SINGLE = new Set<number>([T.ALPN, T.AUTHORITY, T.CRC32C, T.UNIQUE_ID, T.SSL, T.NETNS]);

/** The text TLVs: the field each fills, and its encoding. */
const TEXT_TLVS = new Map<number, readonly ['alpn' | 'authority' | 'netns', TextEncoding]>([
  [T.ALPN, ['alpn', 'latin1']],
  [T.AUTHORITY, ['authority', 'utf8']],
  [T.NETNS, ['netns', 'ascii']],
]);

function parseTlvs(block: Buffer, start: number): ProxyTlvs | ProxyHeaderError {
  const raw = splitTlvs(block, start, 'TLV');
  if (raw instanceof ProxyHeaderError) return raw;
  const tlvs: Mutable<ProxyTlvs> = { raw };
  if (raw.length === 0) return tlvs;
  // The checksum first: a damaged header should say so, not report what the damage made of a value.
  const crc = checkCrc32c(block, raw);
  if (crc instanceof ProxyHeaderError) return crc;
  if (crc !== undefined) tlvs.crc32c = crc;
  const seen = new Set<number>();
  for (const { type, value } of raw) {
    if (!SINGLE.has(type)) continue;
    if (seen.has(type)) return badValue(`the TLV ${hex(type)} appears more than once`);
    seen.add(type);
    const text = TEXT_TLVS.get(type);
    if (text !== undefined) {
      const decoded = decodeText(value, text[1], `the ${text[0]} TLV`);
      if (decoded instanceof ProxyHeaderError) return decoded;
      tlvs[text[0]] = decoded;
    } else if (type === T.UNIQUE_ID) {
      if (value.length > MAX_UNIQUE_ID)
        return badValue(`the UNIQUE_ID TLV has ${value.length} bytes, more than ${MAX_UNIQUE_ID}`);
      tlvs.uniqueId = value;
    } else if (type === T.SSL) {
      const ssl = parseSsl(value);
      if (ssl instanceof ProxyHeaderError) return ssl;
      tlvs.ssl = ssl;
    }
  }
  return tlvs;
}

/** The SSL sub-TLVs: the field each fills, and its encoding (UTF-8 for the CN, US-ASCII for the rest). */
const SSL_FIELDS = new Map<number, readonly ['version' | 'cn' | 'cipher' | 'sigAlg' | 'keyAlg', TextEncoding]>([
  [T.SSL_VERSION, ['version', 'ascii']],
  [T.SSL_CN, ['cn', 'utf8']],
  [T.SSL_CIPHER, ['cipher', 'ascii']],
  [T.SSL_SIG_ALG, ['sigAlg', 'ascii']],
  [T.SSL_KEY_ALG, ['keyAlg', 'ascii']],
]);

/** `struct pp2_tlv_ssl { uint8_t client; uint32_t verify; struct pp2_tlv sub_tlv[0]; }`. */
function parseSsl(value: Buffer): ProxySslInfo | ProxyHeaderError {
  if (value.length < 5) return badValue(`the SSL TLV has ${value.length} bytes, fewer than its 5 of client and verify`);
  const raw = splitTlvs(value, 5, 'SSL sub-TLV');
  if (raw instanceof ProxyHeaderError) return raw;
  const clientFlags = value[0]!;
  const ssl: Mutable<ProxySslInfo> = {
    clientFlags,
    connectedWithSsl: (clientFlags & 0x01) !== 0,
    certificateInConnection: (clientFlags & 0x02) !== 0,
    certificateInSession: (clientFlags & 0x04) !== 0,
    verify: value.readUInt32BE(1),
    raw,
  };
  for (const sub of raw) {
    const field = SSL_FIELDS.get(sub.type);
    if (field === undefined) continue;
    const [name, encoding] = field;
    if (ssl[name] !== undefined) return badValue(`the SSL sub-TLV ${hex(sub.type)} appears more than once`);
    const decoded = decodeText(sub.value, encoding, `the SSL sub-TLV ${hex(sub.type)}`);
    if (decoded instanceof ProxyHeaderError) return decoded;
    ssl[name] = decoded;
  }
  return ssl;
}
