// Addresses in the form Node gives `socket.remoteAddress`, from v2's bytes and v1's text alike:
// plain string work, with no native object per address.
import type { Buffer } from 'node:buffer';

/** The IPv4 address in the 4 bytes at `at`. */
export function ipv4At(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** The IPv6 address in the 16 bytes at `at`, as {@link formatIPv6} writes it. */
export function ipv6At(bytes: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(at + i));
  return formatIPv6(groups);
}

/** `'2001:DB8:0:0::1'` → `'2001:db8::1'`, for text that `net.isIPv6` accepts and that has no zone. */
export function canonicalIPv6(address: string): string {
  let text = address;
  let tail = -1;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An IPv4 tail (`::ffff:1.2.3.4`) is the last two groups: hold their place, fill them after.
    const [a = 0, b = 0, c = 0, d = 0] = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const gap = text.indexOf('::');
  const head = groupsOf(gap === -1 ? text : text.slice(0, gap));
  const end = gap === -1 ? [] : groupsOf(text.slice(gap + 2));
  while (head.length + end.length < 8) head.push(0);
  const groups = head.concat(end);
  if (tail !== -1) {
    groups[6] = tail >>> 16;
    groups[7] = tail & 0xffff;
  }
  return formatIPv6(groups);
}

/** `'db8:0:1'` → `[0xdb8, 0, 1]`; `''` → `[]`. */
function groupsOf(part: string): number[] {
  const groups: number[] = [];
  if (part === '') return groups;
  let value = 0;
  for (let i = 0; i < part.length; i++) {
    const code = part.charCodeAt(i);
    if (code === 0x3a) {
      groups.push(value);
      value = 0;
    } else {
      value = value * 16 + Number.parseInt(part[i]!, 16);
    }
  }
  groups.push(value);
  return groups;
}

/**
 * Eight 16-bit groups as `inet_ntop` writes them, which is what Node gives as `remoteAddress`:
 * lower-case hex without leading zeros, the first longest run of two or more zero groups as `::`,
 * and the last 32 bits as a dotted quad for `::ffff:a.b.c.d` and `::a.b.c.d`.
 *
 * @example
 * ```ts
 * formatIPv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]); // '2001:db8::1'
 * ```
 */
export function formatIPv6(groups: readonly number[]): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let at = 0; at < 8; ) {
    if (groups[at] !== 0) {
      at++;
      continue;
    }
    let length = 1;
    while (at + length < 8 && groups[at + length] === 0) length++;
    if (length > bestLength) {
      bestAt = at;
      bestLength = length;
    }
    at += length;
  }
  if (bestAt === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    const g6 = groups[6]!;
    const g7 = groups[7]!;
    return `${bestLength === 5 ? '::ffff:' : '::'}${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (i > 0 && i !== bestAt + bestLength) text += ':';
    text += groups[i]!.toString(16);
  }
  return text;
}
