// parseCidrList's matching (Node's BlockList) against a reference written here: an address is a
// 128-bit number, an IPv4 address is its IPv4-mapped IPv6 one (::ffff:a.b.c.d), an IPv4 /p is
// the IPv6 /(96+p) over that, and an address is in a CIDR when their first p bits are equal.
import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';

/** 200 runs per property locally; CI sets COMM_FC_RUNS=10000. */
const numRuns = Number(process.env.COMM_FC_RUNS ?? 200);

const MAPPED = 0xffffn << 32n;

interface Cidr {
  readonly family: 4 | 6;
  /** The network as an IPv4 (32-bit) or IPv6 (128-bit) number. */
  readonly network: bigint;
  readonly prefix: number;
}

/** The reference: the first `prefix` bits of two 128-bit numbers are equal. */
function samePrefix(a: bigint, b: bigint, prefix: number): boolean {
  const shift = BigInt(128 - prefix);
  return a >> shift === b >> shift;
}

function as128(family: 4 | 6, value: bigint): bigint {
  return family === 4 ? MAPPED | value : value;
}

function referenceMatches(cidrs: readonly Cidr[], family: 4 | 6, address: bigint): boolean {
  return cidrs.some((cidr) =>
    samePrefix(as128(cidr.family, cidr.network), as128(family, address), cidr.prefix + (cidr.family === 4 ? 96 : 0)),
  );
}

function dotted(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function groups(value: bigint): string[] {
  return [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
}

/** The ways an address may be written. */
type Notation = 'plain' | 'full' | 'upper' | 'mapped-dotted' | 'mapped-hex';

function formatAddress(family: 4 | 6, value: bigint, notation: Notation): string {
  if (family === 4) {
    if (notation === 'mapped-dotted') return `::ffff:${dotted(value)}`;
    if (notation === 'mapped-hex') return `::ffff:${groups(value).slice(6).join(':')}`;
    return dotted(value);
  }
  const full = groups(value).join(':');
  if (notation === 'full') return full;
  if (notation === 'upper') return full.toUpperCase();
  return new SocketAddress({ address: full, family: 'ipv6' }).address; // the compressed form
}

function formatCidr(cidr: Cidr, notation: Notation, bare: boolean): string {
  const bits = cidr.family === 4 ? 32 : 128;
  const address = formatAddress(cidr.family, cidr.network, cidr.family === 4 ? 'plain' : notation);
  return bare && cidr.prefix === bits ? address : `${address}/${cidr.prefix}`;
}

const notation = fc.constantFrom<Notation>('plain', 'full', 'upper', 'mapped-dotted', 'mapped-hex');
const ipv4 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
const ipv6 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
  ipv4.map((value) => MAPPED | value), // the mapped space
  fc.bigInt({ min: 0n, max: 2n ** 16n }), // ::, ::1 and their neighbours
);
const ipv4Cidr: fc.Arbitrary<Cidr> = fc.record({
  family: fc.constant(4 as const),
  network: ipv4,
  prefix: fc.integer({ min: 0, max: 32 }),
});
const ipv6Cidr: fc.Arbitrary<Cidr> = fc.oneof(
  fc.record({ family: fc.constant(6 as const), network: ipv6, prefix: fc.integer({ min: 0, max: 128 }) }),
  // around the mapped space's boundary, where IPv4 addresses start or stop matching
  fc.record({ family: fc.constant(6 as const), network: ipv6, prefix: fc.integer({ min: 76, max: 112 }) }),
);

/**
 * An address of `family`, mostly in or next to one of the CIDRs (so that about half match): the
 * CIDR's prefix kept (in the 128-bit space), the rest random, and sometimes one bit of the prefix
 * flipped; an IPv4 address is the last 32 bits of that.
 */
function addressNear(cidrs: readonly Cidr[], family: 4 | 6): fc.Arbitrary<bigint> {
  const any128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
  const near = fc
    .record({ index: fc.nat(), low: any128, flip: fc.option(fc.nat(), { nil: undefined }) })
    .map(({ index, low, flip }) => {
      const cidr = cidrs[index % cidrs.length] as Cidr;
      const prefix = cidr.prefix + (cidr.family === 4 ? 96 : 0);
      const hostMask = (1n << BigInt(128 - prefix)) - 1n;
      let value = (as128(cidr.family, cidr.network) & ~hostMask) | (low & hostMask);
      const first = family === 4 ? Math.min(96, prefix) : 0; // an IPv4 address has no first 96 bits to flip
      if (flip !== undefined && prefix > first) value ^= 1n << BigInt(127 - (first + (flip % (prefix - first))));
      return family === 4 ? value & 0xffffffffn : value;
    });
  return fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: family === 4 ? ipv4 : ipv6 });
}

function agrees(cidrs: readonly Cidr[], family: 4 | 6, address: bigint, how: Notation, bare: boolean): void {
  const list = parseCidrList(
    cidrs.map((cidr) => formatCidr(cidr, how, bare)),
    'allow',
  );
  const text = formatAddress(family, address, how);
  expect(list.matches(text), `${text} in ${list.entries.join(',')}`).toBe(referenceMatches(cidrs, family, address));
}

function scenario(cidr: fc.Arbitrary<Cidr>, family: 4 | 6) {
  return fc
    .array(cidr, { minLength: 1, maxLength: 4 })
    .chain((cidrs) => fc.tuple(fc.constant(cidrs), addressNear(cidrs, family), notation, fc.boolean()));
}

describe('parseCidrList matches as the prefix-bits reference does', () => {
  it('(a) IPv4 CIDRs, IPv4 addresses in plain and mapped notation', () => {
    fc.assert(
      fc.property(scenario(ipv4Cidr, 4), ([cidrs, address, how, bare]) => agrees(cidrs, 4, address, how, bare)),
      { numRuns },
    );
  });

  it('(b) IPv6 CIDRs, IPv6 addresses in full, upper-case and compressed notation', () => {
    fc.assert(
      fc.property(scenario(ipv6Cidr, 6), ([cidrs, address, how, bare]) => agrees(cidrs, 6, address, how, bare)),
      { numRuns },
    );
  });

  it('both families mixed in one list, addresses of either family', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom<4 | 6>(4, 6)
          .chain((family) => fc.tuple(fc.constant(family), scenario(fc.oneof(ipv4Cidr, ipv6Cidr), family))),
        ([family, [cidrs, address, how, bare]]) => agrees(cidrs, family, address, how, bare),
      ),
      { numRuns },
    );
  });
});
