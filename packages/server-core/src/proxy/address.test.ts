import { Buffer } from 'node:buffer';
import { isIPv6, SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIPv6, formatIPv6, ipv6At } from './address.js';

const numRuns = Number(process.env.COMM_FC_RUNS ?? 1000);

/** How Node itself writes an IPv6 address (inet_ntop): the oracle. */
const nodeWrites = (address: string) => new SocketAddress({ address, family: 'ipv6' }).address;

/** Groups that are often 0 or 0xffff, so that runs of zeros and mapped IPv4 addresses come up. */
const groups = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), {
  minLength: 8,
  maxLength: 8,
});

describe('IPv6 addresses as Node writes them', () => {
  it.each([
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    [[0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304], '::ffff:1.2.3.4'],
    [[0, 0, 0, 0, 0, 0, 0x0102, 0x0304], '::1.2.3.4'],
    [[1, 0, 0, 2, 0, 0, 3, 4], '1::2:0:0:3:4'],
    [[1, 0, 2, 0, 3, 0, 4, 0], '1:0:2:0:3:0:4:0'],
  ])('formats %o as %s', (input, text) => {
    expect(formatIPv6(input)).toBe(text);
    expect(nodeWrites(text)).toBe(text);
  });

  it('formats any 16 bytes as Node does', () => {
    fc.assert(
      fc.property(groups, (input) => {
        const bytes = Buffer.alloc(16);
        for (const [i, group] of input.entries()) bytes.writeUInt16BE(group, 2 * i);
        expect(ipv6At(bytes, 0)).toBe(nodeWrites(input.map((group) => group.toString(16)).join(':')));
      }),
      { numRuns },
    );
  });

  it('rewrites any spelling that isIPv6 accepts as Node does', () => {
    const spelling = fc
      .tuple(groups, fc.boolean(), fc.boolean(), fc.boolean(), fc.nat({ max: 8 }), fc.nat({ max: 8 }))
      .map(([input, upper, pad, dotted, from, length]) => {
        let parts = input.map((group) => group.toString(16).padStart(pad ? 4 : 1, '0'));
        if (dotted) {
          const [g6 = 0, g7 = 0] = input.slice(6);
          parts = [...parts.slice(0, 6), `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`];
        }
        // Drop a run of zero groups as '::' where there is one at `from`.
        const end = Math.min(from + length, parts.length);
        const text =
          length >= 1 && end > from && input.slice(from, end).every((group) => group === 0) && !(dotted && end > 6)
            ? `${parts.slice(0, from).join(':')}::${parts.slice(end).join(':')}`
            : parts.join(':');
        return upper ? text.toUpperCase() : text;
      })
      .filter((text) => isIPv6(text));
    fc.assert(
      fc.property(spelling, (text) => {
        expect(canonicalIPv6(text)).toBe(nodeWrites(text));
      }),
      { numRuns },
    );
  });
});
