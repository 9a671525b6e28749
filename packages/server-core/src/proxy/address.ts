// Addresses in the form Node gives `socket.remoteAddress`, from v2's bytes and v1's text alike.
import type { Buffer } from 'node:buffer';
import { SocketAddress } from 'node:net';

/** `'2001:DB8:0:0::1'` → `'2001:db8::1'`: Node's own formatting (inet_ntop), so it matches `remoteAddress`. */
export function canonicalIPv6(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** The IPv4 address in the 4 bytes at `at`. */
export function ipv4At(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** The IPv6 address in the 16 bytes at `at`. */
export function ipv6At(bytes: Buffer, at: number): string {
  let groups = bytes.readUInt16BE(at).toString(16);
  for (let i = 2; i < 16; i += 2) groups += ':' + bytes.readUInt16BE(at + i).toString(16);
  return canonicalIPv6(groups);
}
