// Version 1: one US-ASCII line, `PROXY <TCP4|TCP6|UNKNOWN> <src> <dst> <sport> <dport>\r\n`.
import { Buffer } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIPv6 } from './address.js';
import { ProxyHeaderError } from './errors.js';
import type { ProxyEndpoint, ProxyHeader } from './header.js';

/** What every v1 line starts with. */
export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included: `PROXY UNKNOWN` with two full IPv6 addresses and two 5-digit ports. */
export const V1_MAX_LENGTH = 107;

const CR = 0x0d;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/**
 * The header in one whole v1 line: `line` starts with `PROXY ` (the caller checked it as the bytes
 * came) and ends with the first LF, at most {@link V1_MAX_LENGTH} bytes in all.
 */
export function parseV1Line(line: Buffer): ProxyHeader | ProxyHeaderError {
  const byteLength = line.length;
  if (line[byteLength - 2] !== CR) return new ProxyHeaderError('v1-bad-line-end', 'the v1 line ends in LF without CR');
  const text = line.toString('latin1', V1_PREFIX.length, byteLength - 2);
  // UNKNOWN: the receiver must ignore whatever comes before the CRLF.
  if (text === 'UNKNOWN' || text.startsWith('UNKNOWN ')) {
    return { version: 1, command: 'PROXY', family: 'unspec', transport: 'unspec', tlvs: { raw: [] }, byteLength };
  }
  const fields = text.split(' ');
  const protocol = fields[0];
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    return new ProxyHeaderError('v1-bad-protocol', 'the v1 protocol is not TCP4, TCP6 nor UNKNOWN');
  }
  if (fields.length !== 5) {
    return new ProxyHeaderError(
      'v1-bad-syntax',
      `the v1 ${protocol} line has ${fields.length - 1} fields after the protocol, not 4 separated by single spaces`,
    );
  }
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  const source = endpoint(family, fields[1]!, fields[3]!, 'source');
  if (source instanceof ProxyHeaderError) return source;
  const destination = endpoint(family, fields[2]!, fields[4]!, 'destination');
  if (destination instanceof ProxyHeaderError) return destination;
  return { version: 1, command: 'PROXY', family, transport: 'stream', source, destination, tlvs: { raw: [] }, byteLength };
}

function endpoint(family: 'IPv4' | 'IPv6', address: string, port: string, which: string): ProxyEndpoint | ProxyHeaderError {
  if (family === 'IPv4' ? !isIPv4(address) : !isIPv6(address) || address.includes('%')) {
    return new ProxyHeaderError('v1-bad-address', `the v1 ${which} address is not a valid ${family} address`);
  }
  const number = Number(port);
  if (!PORT.test(port) || number > 65535) {
    return new ProxyHeaderError('v1-bad-port', `the v1 ${which} port is not a number in 0-65535 without leading zeros`);
  }
  return { address: family === 'IPv4' ? address : canonicalIPv6(address), port: number };
}
