import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLine, encodeLines, type LineDecoderOptions } from './codec.js';
import { cutAt, decodeChunks, referenceDecode } from './decode-test-helpers.js';

/** 1,000 runs per property locally; CI sets COMM_FC_RUNS=10000. */
const numRuns = Number(process.env.COMM_FC_RUNS ?? 1000);

/** Characters of every UTF-8 length, plus the ones the line rules single out (R4, R6, R8). */
const character = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', ' ', '~') },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', '\u0085') }, // 2 bytes
  { weight: 2, arbitrary: fc.constantFrom('日', '€', '\u2028', '\u2029', '\uFEFF', '\uFFFD') }, // 3 bytes
  { weight: 2, arbitrary: fc.constantFrom('😀', '𝄞') }, // 4 bytes
  { weight: 1, arbitrary: fc.constant('\r') }, // a lone CR is data
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) }, // any code point
);
/** Text without LF; it may contain lone CRs. */
const lineText = fc.array(character, { maxLength: 24 }).map((characters) => characters.join(''));
/** Text a sender can send as one line: no CR, no LF. */
const sendableText = lineText.map((text) => text.replace(/[\r\n]/g, ''));

/** A stream of lines, each ended by LF or CRLF, the last maybe by nothing. */
const lineStream = fc
  .record({
    lines: fc.array(fc.tuple(lineText, fc.constantFrom('\n', '\r\n')), { maxLength: 12 }),
    tail: fc.option(lineText, { nil: undefined }),
    bom: fc.boolean(),
  })
  .map(({ lines, tail, bom }) =>
    Buffer.from((bom ? '\uFEFF' : '') + lines.map(([text, ending]) => text + ending).join('') + (tail ?? ''), 'utf8'),
  );

/** Bytes that are often not UTF-8: line ends, CRs, and the bytes that start or continue sequences. */
const messyBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(0x0a, 0x0d, 0x61, 0xef, 0xbb, 0xbf),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.integer({ min: 0, max: 0xff }),
      fc.constantFrom([0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xc3, 0xa9], [0xed, 0xa0, 0x80]),
    ),
    { maxLength: 80 },
  )
  .map((parts) => Buffer.from(parts.flat()));

/** Where to cut, as millionths of the input's length, so cuts land anywhere in inputs of any size. */
const cuts = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 12 });
/** Sometimes plain Uint8Array chunks rather than Buffers. */
const asPlain = fc.boolean();
const decoderOptions: fc.Arbitrary<LineDecoderOptions> = fc.record({
  maxLineLength: fc.integer({ min: 1, max: 40 }),
  invalidUtf8: fc.constantFrom('error' as const, 'replace' as const),
  stripBom: fc.boolean(),
});

function chunked(bytes: Buffer, at: number[], plain = false): Uint8Array[] {
  const chunks = cutAt(
    bytes,
    at.map((millionths) => Math.floor((millionths * bytes.length) / 1_000_000)),
  );
  return plain ? chunks.map((chunk) => new Uint8Array(chunk)) : chunks;
}

/** Decoding the whole input gives what the rules say, and decoding it cut anywhere gives the same. */
function decodesLikeTheWhole(bytes: Buffer, at: number[], plain: boolean, options?: LineDecoderOptions): void {
  const whole = decodeChunks([bytes], options);
  expect(whole).toEqual(referenceDecode(bytes, options));
  expect(decodeChunks(chunked(bytes, at, plain), options)).toEqual(whole);
}

describe('LineDecoder properties', () => {
  it('R2 R3 R4 R6: lines cut anywhere (inside characters, inside CRLF) decode as the whole does, and as the rules say', () => {
    fc.assert(
      fc.property(lineStream, cuts, asPlain, (bytes, at, plain) => decodesLikeTheWhole(bytes, at, plain)),
      { numRuns },
    );
  });

  it('R7: the limit triggers at the same lines whatever the chunking', () => {
    fc.assert(
      fc.property(lineStream, cuts, asPlain, fc.integer({ min: 1, max: 40 }), (bytes, at, plain, maxLineLength) =>
        decodesLikeTheWhole(bytes, at, plain, { maxLineLength }),
      ),
      { numRuns },
    );
  });

  it('R7 R8: random bytes, valid UTF-8 or not, give the same lines and errors whatever the chunking, under both policies', () => {
    fc.assert(fc.property(messyBytes, cuts, asPlain, decoderOptions, decodesLikeTheWhole), { numRuns });
  });

  it('R2: encoding lines then decoding them, cut anywhere, gives the lines back', () => {
    fc.assert(
      fc.property(fc.array(sendableText, { maxLength: 12 }), cuts, fc.boolean(), (lines, at, oneByOne) => {
        // A leading BOM is the one thing the receiver drops (R6); a sender does not send one.
        fc.pre(!lines[0]?.startsWith('\uFEFF'));
        const bytes = oneByOne ? Buffer.concat(lines.map((line) => encodeLine(line))) : encodeLines(lines);
        expect(decodeChunks(chunked(bytes, at))).toEqual({ items: lines, unterminated: false });
      }),
      { numRuns },
    );
  });
});
