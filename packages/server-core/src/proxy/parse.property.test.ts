import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProxyHeader } from './header.js';
import { ProxyHeaderParser, type ProxyHeaderParserOptions, type ProxyParseResult } from './parse.js';
import { cutAt, encodeV2, feed, ipBlock, ipv4Bytes, ipv6Bytes, SIGNATURE, sslValue, tlv } from './proxy-test-helpers.js';

/** 300 runs per property locally; CI may set COMM_FC_RUNS (10000 there). */
const numRuns = Number(process.env.COMM_FC_RUNS ?? 300);

/** A header as bytes, with what parsing it must give (addresses as the hex of their bytes). */
interface Case {
  readonly bytes: Buffer;
  readonly expected: unknown;
}

/** The header with each address replaced by the hex of its bytes: checks the value, not one spelling. */
function byValue(header: ProxyHeader): unknown {
  const bytesOf = (address: string) => (address.includes(':') ? ipv6Bytes(address) : ipv4Bytes(address)).toString('hex');
  const { source, destination, ...rest } = header;
  if (source === undefined || destination === undefined) return rest;
  return {
    ...rest,
    source: { ...source, address: bytesOf(source.address) },
    destination: { ...destination, address: bytesOf(destination.address) },
  };
}

const port = fc.integer({ min: 0, max: 65535 });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => Buffer.from(bytes));
/** IPv6 addresses, often with runs of zero groups so that `::` and `::ffff:` forms come up. */
const ipv6 = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => {
    const bytes = Buffer.alloc(16);
    for (const [i, group] of groups.entries()) bytes.writeUInt16BE(group, 2 * i);
    return bytes;
  });

/** An IPv6 address as a sender may write it: upper or lower case, leading zeros of groups or not, `::` or not. */
function ipv6Text(bytes: Buffer, upper: boolean, pad: boolean, compress: boolean): string {
  const groups = Array.from({ length: 8 }, (_, i) =>
    bytes
      .readUInt16BE(2 * i)
      .toString(16)
      .padStart(pad ? 4 : 1, '0'),
  );
  let text = groups.join(':');
  if (compress) {
    let best = { at: -1, length: 1 };
    for (let at = 0; at < 8; at++) {
      let length = 0;
      while (at + length < 8 && bytes.readUInt16BE(2 * (at + length)) === 0) length++;
      if (length > best.length) best = { at, length };
    }
    if (best.at >= 0) text = `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
  }
  return upper ? text.toUpperCase() : text;
}

const tcpV1: fc.Arbitrary<Case> = fc
  .record({
    v6: fc.boolean(),
    src4: ipv4,
    dst4: ipv4,
    src6: ipv6,
    dst6: ipv6,
    sp: port,
    dp: port,
    style: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  })
  .map(({ v6, src4, dst4, src6, dst6, sp, dp, style }) => {
    const [src, dst] = v6 ? [src6, dst6] : [src4, dst4];
    const text = (bytes: Buffer) => (v6 ? ipv6Text(bytes, ...style) : [...bytes].join('.'));
    const bytes = Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${text(src)} ${text(dst)} ${sp} ${dp}\r\n`, 'latin1');
    const expected = {
      version: 1,
      command: 'PROXY',
      family: v6 ? 'IPv6' : 'IPv4',
      transport: 'stream',
      source: { address: src.toString('hex'), port: sp },
      destination: { address: dst.toString('hex'), port: dp },
      tlvs: { raw: [] },
      byteLength: bytes.length,
    };
    return { bytes, expected };
  });

/** UNKNOWN, alone or with anything up to the 107-byte bound that is not LF (lone CRs included). */
const unknownV1: fc.Arbitrary<Case> = fc
  .option(fc.uint8Array({ maxLength: 92 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 0x0a))))
  .map((tail) => {
    const bytes = Buffer.concat([
      Buffer.from('PROXY UNKNOWN'),
      tail === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from(' '), tail]),
      Buffer.from('\r\n'),
    ]);
    return {
      bytes,
      expected: {
        version: 1,
        command: 'PROXY',
        family: 'unspec',
        transport: 'unspec',
        tlvs: { raw: [] },
        byteLength: bytes.length,
      },
    };
  });

const asciiText = fc.stringMatching(/^[\x20-\x7e]{0,24}$/);
const unicodeText = fc.string({ unit: 'grapheme', maxLength: 16 });

/** The registered TLVs that may come once, each maybe; NOOPs and custom ones any number of times. */
const tlvPlan = fc.record({
  alpn: fc.option(fc.stringMatching(/^[a-z0-9./-]{1,16}$/), { nil: undefined }),
  authority: fc.option(unicodeText, { nil: undefined }),
  uniqueId: fc.option(fc.uint8Array({ maxLength: 128 }), { nil: undefined }),
  netns: fc.option(asciiText, { nil: undefined }),
  ssl: fc.option(
    fc.record({
      client: fc.integer({ min: 0, max: 255 }),
      verify: fc.integer({ min: 0, max: 0xffffffff }),
      version: fc.option(asciiText, { nil: undefined }),
      cn: fc.option(unicodeText, { nil: undefined }),
      cipher: fc.option(asciiText, { nil: undefined }),
      sigAlg: fc.option(asciiText, { nil: undefined }),
      keyAlg: fc.option(asciiText, { nil: undefined }),
    }),
    { nil: undefined },
  ),
  others: fc.array(
    fc.record({
      type: fc.oneof(fc.constant(0x04), fc.integer({ min: 0xe0, max: 0xff })),
      value: fc.uint8Array({ maxLength: 24 }),
    }),
    { maxLength: 3 },
  ),
  order: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
  crcAt: fc.option(fc.nat({ max: 10 }), { nil: undefined }),
});

type Plan = typeof tlvPlan extends fc.Arbitrary<infer P> ? P : never;

/** The TLVs of a plan, encoded in a shuffled order, with the `tlvs` a parser must make of them. */
function planTlvs(plan: Plan): { encoded: Buffer[]; expected: Record<string, unknown>; raw: { type: number; value: Buffer }[] } {
  const items: { type: number; value: Buffer }[] = [];
  const expected: Record<string, unknown> = {};
  const add = (type: number, value: Buffer) => items.push({ type, value });
  if (plan.alpn !== undefined) add(0x01, Buffer.from((expected.alpn = plan.alpn), 'latin1'));
  if (plan.authority !== undefined) add(0x02, Buffer.from((expected.authority = plan.authority), 'utf8'));
  if (plan.uniqueId !== undefined) add(0x05, (expected.uniqueId = Buffer.from(plan.uniqueId)));
  if (plan.netns !== undefined) add(0x30, Buffer.from((expected.netns = plan.netns), 'latin1'));
  if (plan.ssl !== undefined) {
    const { client, verify, ...texts } = plan.ssl;
    const subTypes = { version: 0x21, cn: 0x22, cipher: 0x23, sigAlg: 0x24, keyAlg: 0x25 } as const;
    const subs = Object.entries(texts)
      .filter(([, text]) => text !== undefined)
      .map(([name, text]) => tlv(subTypes[name as keyof typeof subTypes], text as string));
    add(0x20, sslValue(client, verify, subs));
    expected.ssl = {
      clientFlags: client,
      connectedWithSsl: (client & 1) !== 0,
      certificateInConnection: (client & 2) !== 0,
      certificateInSession: (client & 4) !== 0,
      verify,
      ...Object.fromEntries(Object.entries(texts).filter(([, text]) => text !== undefined)),
      raw: subs.map((sub) => ({ type: sub[0], value: sub.subarray(3) })),
    };
  }
  for (const { type, value } of plan.others) add(type, Buffer.from(value));
  const shuffled = items
    .map((item, i) => ({ item, key: plan.order[i % plan.order.length]! * 16 + i }))
    .sort((a, b) => a.key - b.key);
  const raw = shuffled.map(({ item }) => item);
  return { encoded: raw.map(({ type, value }) => tlv(type, value)), expected, raw };
}

const FAMILIES = new Map<number, readonly [string, string, number]>([
  [0x00, ['unspec', 'unspec', 0]],
  [0x11, ['IPv4', 'stream', 12]],
  [0x12, ['IPv4', 'dgram', 12]],
  [0x21, ['IPv6', 'stream', 36]],
  [0x22, ['IPv6', 'dgram', 36]],
  [0x31, ['unix', 'stream', 216]],
  [0x32, ['unix', 'dgram', 216]],
]);

const anyV2: fc.Arbitrary<Case> = fc
  .record({
    local: fc.boolean(),
    family: fc.constantFrom(...FAMILIES.keys()),
    src4: ipv4,
    dst4: ipv4,
    src6: ipv6,
    dst6: ipv6,
    unix: fc.uint8Array({ minLength: 216, maxLength: 216 }),
    sp: port,
    dp: port,
    plan: tlvPlan,
  })
  .map(({ local, family, src4, dst4, src6, dst6, unix, sp, dp, plan }) => {
    const [familyName, transport] = FAMILIES.get(family)!;
    const [src, dst] = familyName === 'IPv4' ? [src4, dst4] : [src6, dst6];
    const addresses =
      familyName === 'unix' ? Buffer.from(unix) : familyName === 'unspec' ? Buffer.alloc(0) : ipBlock(src, dst, sp, dp);
    const { encoded, expected: tlvs, raw } = planTlvs(plan);
    const crcAt = plan.crcAt === undefined ? undefined : Math.min(plan.crcAt, encoded.length);
    const bytes = encodeV2({ versionCommand: local ? 0x20 : 0x21, family, addresses, tlvs: encoded, crcAt });
    if (crcAt !== undefined) {
      const at = 16 + addresses.length + encoded.slice(0, crcAt).reduce((sum, t) => sum + t.length, 0) + 3;
      raw.splice(crcAt, 0, { type: 0x03, value: bytes.subarray(at, at + 4) });
      tlvs.crc32c = { checksum: bytes.readUInt32BE(at), verified: true };
    }
    const endpoints =
      !local && (familyName === 'IPv4' || familyName === 'IPv6')
        ? { source: { address: src.toString('hex'), port: sp }, destination: { address: dst.toString('hex'), port: dp } }
        : {};
    const expected = {
      version: 2,
      command: local ? 'LOCAL' : 'PROXY',
      family: familyName,
      transport,
      ...endpoints,
      tlvs: { ...tlvs, raw },
      byteLength: bytes.length,
    };
    return { bytes, expected };
  });

const anyHeader = fc.oneof({ weight: 2, arbitrary: tcpV1 }, { weight: 1, arbitrary: unknownV1 }, { weight: 3, arbitrary: anyV2 });
/** What follows a header: often nothing, often bytes that look like another header. */
const following = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  anyHeader.map((other) => other.bytes),
  fc.constant(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nHELLO\n')),
);
/** Where to cut, as millionths of the input's length, so cuts land anywhere in inputs of any size. */
const cuts = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 16 });
const scaled = (length: number, at: readonly number[]) => at.map((point) => Math.floor((point * length) / 1_000_000));

describe('ProxyHeaderParser: properties', () => {
  it('(1) a valid header parses to what it encodes, and to the same header and rest however it is split', () => {
    fc.assert(
      fc.property(anyHeader, following, cuts, fc.boolean(), ({ bytes, expected }, after, at, asPlain) => {
        const input = Buffer.concat([bytes, after]);
        const whole = new ProxyHeaderParser().push(input);
        if (whole.state !== 'done') throw new Error(`not done: ${whole.state === 'error' ? whole.error.message : whole.state}`);
        expect(byValue(whole.header)).toEqual(expected);
        expect(whole.rest).toEqual(after);

        const chunks = cutAt(input, scaled(input.length, at)).map((chunk) => (asPlain ? new Uint8Array(chunk) : chunk));
        const fed = feed(chunks);
        expect(fed.before.every((result) => result.state === 'need-more')).toBe(true);
        if (fed.result.state !== 'done') throw new Error(`split: not done: ${fed.result.state}`);
        expect(fed.result.header).toEqual(whole.header);
        expect(Buffer.concat([fed.result.rest, ...fed.unpushed])).toEqual(after);
        expect(fed.pushed - fed.result.rest.length).toBe(bytes.length);
      }),
      { numRuns },
    );
  });

  const options: fc.Arbitrary<ProxyHeaderParserOptions> = fc.record({
    mode: fc.constantFrom('v1' as const, 'v2' as const, 'any' as const),
    maxV2Length: fc.oneof(fc.constant(4096), fc.integer({ min: 0, max: 0xffff })),
  });
  /** Bytes that get past the first checks often: random, or after a v1 prefix, or after the v2 signature. */
  const hostile = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.concat([Buffer.from('PROXY '), bytes])),
    fc
      .tuple(fc.constantFrom('TCP4 ', 'TCP6 ', 'UNKNOWN'), fc.stringMatching(/^[0-9a-fA-F.: \r\n]{0,110}$/))
      .map(([protocol, text]) => Buffer.from(`PROXY ${protocol}${text}`, 'latin1')),
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }))
      .map(([versionCommand, family, body]) => {
        const fixed = Buffer.from([versionCommand, family, (body.length >> 8) & 0xff, body.length & 0xff]);
        return Buffer.concat([SIGNATURE, fixed, body]);
      }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.concat([SIGNATURE, Buffer.from([0x21]), bytes])),
  );
  /** A valid header with one byte changed, or cut short. */
  const damaged = fc.oneof(
    fc.tuple(anyHeader, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([{ bytes }, at, byte]) => {
      const copy = Buffer.from(bytes);
      copy[at % copy.length] = byte;
      return copy;
    }),
    fc.tuple(anyHeader, fc.nat()).map(([{ bytes }, at]) => bytes.subarray(0, at % bytes.length)),
  );

  it('(2) random, damaged and truncated bytes never make push or end throw, nor claim more bytes than given', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, damaged), cuts, options, (input, at, opts) => {
        const parser = new ProxyHeaderParser(opts);
        const limit = opts.mode === 'v1' ? 107 : Math.max(107, 16 + (opts.maxV2Length ?? 4096));
        let pushed = 0;
        let outcome: ProxyParseResult | undefined;
        for (const chunk of cutAt(input, scaled(input.length, at))) {
          pushed += chunk.length;
          const result = parser.push(chunk);
          expect(['need-more', 'done', 'error']).toContain(result.state);
          if (outcome !== undefined) {
            if (outcome.state === 'error') expect(result).toBe(outcome);
            else expect(result.state === 'error' && result.error.reason).toBe('finished');
            continue;
          }
          if (result.state === 'need-more') {
            expect(parser.buffered).toBe(pushed);
            expect(parser.buffered).toBeLessThan(limit);
            continue;
          }
          outcome = result;
          if (result.state === 'error') expect(result.error.reason).not.toBe('internal');
          else {
            expect(result.header.byteLength).toBeGreaterThan(0);
            expect(result.header.byteLength + result.rest.length).toBe(pushed);
            expect(result.header.byteLength).toBeLessThanOrEqual(limit);
          }
        }
        const end = parser.end();
        if (outcome !== undefined) expect(end).toBe(outcome);
        else expect(end.state === 'error' && end.error.reason).toBe('truncated');
      }),
      { numRuns },
    );
  });

  it('(2) a valid header cut short anywhere is need-more, then truncated at the end', () => {
    fc.assert(
      fc.property(anyHeader, fc.nat(), cuts, ({ bytes }, length, at) => {
        const cut = bytes.subarray(0, length % bytes.length);
        const parser = new ProxyHeaderParser();
        for (const chunk of cutAt(cut, scaled(cut.length, at))) expect(parser.push(chunk).state).toBe('need-more');
        const end = parser.end();
        expect(end.state === 'error' && end.error.reason).toBe('truncated');
      }),
      { numRuns },
    );
  });

  it('(3) header + following bytes: rest is exactly the following bytes, in the chunk that ends the header', () => {
    fc.assert(
      fc.property(anyHeader, following, cuts, ({ bytes }, after, at) => {
        // The header in pieces; its last piece and the following bytes in one chunk.
        const pieces = cutAt(bytes.subarray(0, -1), scaled(bytes.length - 1, at));
        const parser = new ProxyHeaderParser();
        for (const piece of pieces) expect(parser.push(piece).state).toBe('need-more');
        const result = parser.push(Buffer.concat([bytes.subarray(-1), after]));
        if (result.state !== 'done') throw new Error(`not done: ${result.state}`);
        expect(result.rest).toEqual(after);
        expect(result.header.byteLength).toBe(bytes.length);
      }),
      { numRuns },
    );
  });
});
