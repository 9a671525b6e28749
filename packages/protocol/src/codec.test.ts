import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_LENGTH, LineDecoder, checkMaxLineLength, encodeLine, encodeLines } from './codec.js';
import { cutAt, decodeChunks, describeItem, piecesOf, type Decoded } from './decode-test-helpers.js';
import { InvalidUtf8Error, LineTooLongError } from './errors.js';

const TOO_LONG = { error: 'COMM_LINE_TOO_LONG' };
const INVALID = { error: 'COMM_INVALID_UTF8' };

const bytes = (...parts: Array<string | number[] | Uint8Array>): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));

/** Decodes the input whole, and cut at every single position, and cut into single bytes; all must agree. */
function decodeEveryWay(input: Buffer, options?: ConstructorParameters<typeof LineDecoder>[0]): Decoded[] {
  const whole = decodeChunks([input], options);
  for (let cut = 1; cut < input.length; cut++) {
    expect(decodeChunks(cutAt(input, [cut]), options), `cut at ${cut}`).toEqual(whole);
  }
  expect(decodeChunks(piecesOf(input, 1), options), 'single bytes').toEqual(whole);
  return whole.items;
}

describe('LineDecoder: line ends', () => {
  it('R2: lines end at LF, and the LF is not part of the line', () => {
    expect(decodeEveryWay(bytes('one\ntwo\nthree\n'))).toEqual(['one', 'two', 'three']);
  });

  it('R2: a line waits for its LF across chunks, and the lines of one chunk come in order', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(bytes('ab'))).toEqual([]);
    expect(decoder.push(bytes('c\nd\ne'))).toEqual(['abc', 'd']);
    expect(decoder.pendingBytes).toBe(1);
    expect(decoder.push(bytes('\n'))).toEqual(['e']);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('R2: multi-byte characters split across chunks at any byte decode whole (2-, 3- and 4-byte)', () => {
    expect(decodeEveryWay(bytes('é日😀\nß€𝄞x\n'))).toEqual(['é日😀', 'ß€𝄞x']);
  });

  it('R3: CRLF ends a line and the CR is dropped', () => {
    expect(decodeEveryWay(bytes('a\r\nb\nc\r\n'))).toEqual(['a', 'b', 'c']);
  });

  it('R3: a CRLF split across chunks, CR last in one chunk and LF first in the next, ends the line', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(bytes('x\nhello\r'))).toEqual(['x']);
    expect(decoder.push(bytes('\nworld\r'))).toEqual(['hello']);
    expect(decoder.push(bytes('\n'))).toEqual(['world']);
    // The CR alone in its chunk, with nothing before it in the line.
    expect(decoder.push(bytes('\r'))).toEqual([]);
    expect(decoder.push(bytes('\n'))).toEqual(['']);
  });

  it('R3: only the one CR just before the LF is dropped', () => {
    expect(decodeEveryWay(bytes('a\r\r\n'))).toEqual(['a\r']);
  });

  it('R4: a lone CR is data, inside a line and at its start', () => {
    expect(decodeEveryWay(bytes('a\rb\n\rc\n'))).toEqual(['a\rb', '\rc']);
  });

  it('R4: U+2028, U+2029 and U+0085 are data, not line ends', () => {
    expect(decodeEveryWay(bytes('a\u2028b\u2029c\u0085d\n'))).toEqual(['a\u2028b\u2029c\u0085d']);
  });

  it('R4: a CR at the end of input is data of the unterminated last line', () => {
    expect(decodeChunks([bytes('a\r')])).toEqual({ items: ['a\r'], unterminated: true });
    expect(decodeChunks([bytes('a'), bytes('\r')])).toEqual({ items: ['a\r'], unterminated: true });
  });

  it('R5: an empty line is a line (LF alone and CRLF alone)', () => {
    expect(decodeEveryWay(bytes('\n\r\n\nx\n\n'))).toEqual(['', '', '', 'x', '']);
  });
});

describe('LineDecoder: byte-order mark', () => {
  it('R6: a BOM at the very start of the stream is dropped', () => {
    expect(decodeEveryWay(bytes('\uFEFFhello\nworld\n'))).toEqual(['hello', 'world']);
  });

  it('R6: a BOM split across chunks at the start is dropped', () => {
    // decodeEveryWay cuts inside EF BB BF at both places.
    expect(decodeEveryWay(bytes('\uFEFFa\n'))).toEqual(['a']);
    expect(decodeEveryWay(bytes('\uFEFF\n'))).toEqual(['']);
  });

  it('R6: a BOM anywhere else is data', () => {
    expect(decodeEveryWay(bytes('a\n\uFEFFb\nc\uFEFF\n'))).toEqual(['a', '\uFEFFb', 'c\uFEFF']);
    expect(decodeEveryWay(bytes('\n\uFEFFb\n'))).toEqual(['', '\uFEFFb']);
    // Only one BOM is a BOM.
    expect(decodeEveryWay(bytes('\uFEFF\uFEFFa\n'))).toEqual(['\uFEFFa']);
  });

  it('R6: a BOM on an unterminated only line is dropped at the end', () => {
    expect(decodeChunks([bytes('\uFEFFhi')])).toEqual({ items: ['hi'], unterminated: true });
  });

  it("R6: the BOM's bytes count toward the first line's limit", () => {
    expect(decodeEveryWay(bytes('\uFEFFab\n'), { maxLineLength: 5 })).toEqual(['ab']);
    expect(decodeEveryWay(bytes('\uFEFFabc\nabcde\n'), { maxLineLength: 5 })).toEqual([TOO_LONG, 'abcde']);
  });

  it('R6: stripBom: false keeps it', () => {
    expect(decodeEveryWay(bytes('\uFEFFa\n'), { stripBom: false })).toEqual(['\uFEFFa']);
  });

  it('R6: after end() or reset() a new stream may start with a BOM again', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(bytes('\uFEFFa\n'))).toEqual(['a']);
    expect(decoder.push(bytes('\uFEFFb\n'))).toEqual(['\uFEFFb']);
    decoder.end();
    expect(decoder.push(bytes('\uFEFFc\n'))).toEqual(['c']);
    decoder.reset();
    expect(decoder.push(bytes('\uFEFFd\n'))).toEqual(['d']);
  });
});

describe('LineDecoder: length limit', () => {
  it('R7: the default limit is 64 KiB', () => {
    expect(DEFAULT_MAX_LINE_LENGTH).toBe(65_536);
    expect(new LineDecoder().maxLineLength).toBe(65_536);
    const atLimit = 'x'.repeat(65_536);
    expect(decodeChunks([bytes(`${atLimit}\n${atLimit}x\nok\n`)]).items).toEqual([atLimit, TOO_LONG, 'ok']);
  });

  it('R7: a line of exactly the limit is delivered, one byte more is an error', () => {
    expect(decodeEveryWay(bytes('abcd\nabcde\nabc\n'), { maxLineLength: 4 })).toEqual(['abcd', TOO_LONG, 'abc']);
  });

  it('R7: the limit counts bytes, not characters', () => {
    // 'é' is 2 bytes, '😀' is 4 bytes (2 UTF-16 units).
    expect(decodeEveryWay(bytes('éé\néééx\n😀😀\n'), { maxLineLength: 6 })).toEqual(['éé', TOO_LONG, TOO_LONG]);
    expect(decodeEveryWay(bytes('😀\n😀x\n'), { maxLineLength: 4 })).toEqual(['😀', TOO_LONG]);
  });

  it('R7: a line of exactly the limit ended by CRLF is delivered (the CR does not count)', () => {
    expect(decodeEveryWay(bytes('abcd\r\nabcd\r\r\n'), { maxLineLength: 4 })).toEqual(['abcd', TOO_LONG]);
  });

  it('R7: a too-long line is reported once, dropped up to its LF, and decoding goes on', () => {
    const decoder = new LineDecoder({ maxLineLength: 8 });
    const seen: Decoded[] = [];
    seen.push(...decoder.push(bytes('before\n0123456')).map(describeItem));
    for (let i = 0; i < 100; i++) seen.push(...decoder.push(bytes('0123456789')).map(describeItem));
    seen.push(...decoder.push(bytes('\nafter\n')).map(describeItem));
    expect(seen).toEqual(['before', TOO_LONG, 'after']);
  });

  it('R7: several too-long lines in one chunk are each reported in their place', () => {
    expect(decodeEveryWay(bytes('aaaaa\nb\ncccccc\r\n\nddddd'), { maxLineLength: 4 })).toEqual([
      TOO_LONG,
      'b',
      TOO_LONG,
      '',
      TOO_LONG,
    ]);
  });

  it('R7: a too-long unterminated last line is reported at the end', () => {
    expect(decodeChunks([bytes('abcde')], { maxLineLength: 4 })).toEqual({ items: [TOO_LONG], unterminated: true });
    // Already reported while arriving: not reported again at the end, but still flagged.
    expect(decodeChunks([bytes('abcdefgh')], { maxLineLength: 4 })).toEqual({ items: [TOO_LONG], unterminated: true });
    expect(decodeChunks([bytes('abcdefgh\n')], { maxLineLength: 4 })).toEqual({ items: [TOO_LONG], unterminated: false });
  });

  it('R7: the error carries the limit and its code', () => {
    const [error] = new LineDecoder({ maxLineLength: 3 }).push(bytes('abcd\n'));
    expect(error).toBeInstanceOf(LineTooLongError);
    expect(error).toMatchObject({ code: 'COMM_LINE_TOO_LONG', maxLineLength: 3, name: 'LineTooLongError' });
  });

  it('R7: a 100 MiB line fed in 64 KiB chunks never holds more than limit + 1 bytes, and is reported once', () => {
    const maxLineLength = 1000;
    const decoder = new LineDecoder({ maxLineLength });
    const piece = Buffer.alloc(64 * 1024, 'x');
    const seen: Decoded[] = [];
    let mostPending = 0;
    for (let sent = 0; sent < 100 * 1024 * 1024; sent += piece.length) {
      seen.push(...decoder.push(piece).map(describeItem));
      mostPending = Math.max(mostPending, decoder.pendingBytes);
    }
    seen.push(...decoder.push(bytes('\nnext\n')).map(describeItem));
    expect(seen).toEqual([TOO_LONG, 'next']);
    expect(mostPending).toBeLessThanOrEqual(maxLineLength + 1);
  });

  it('R7: fed one byte at a time, the held bytes reach limit + 1 at most (room for a CR)', () => {
    const maxLineLength = 50;
    const decoder = new LineDecoder({ maxLineLength });
    const pending: number[] = [];
    const seen: Decoded[] = [];
    for (const piece of piecesOf(bytes('y'.repeat(50), '\r', 'z'.repeat(200), '\n', 'y'.repeat(50), '\r\n'), 1)) {
      seen.push(...decoder.push(piece).map(describeItem));
      pending.push(decoder.pendingBytes);
    }
    expect(Math.max(...pending)).toBe(maxLineLength + 1);
    expect(seen).toEqual([TOO_LONG, 'y'.repeat(50)]);
  });

  it('R7: the limit must be a whole number of bytes >= 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => new LineDecoder({ maxLineLength: bad }), String(bad)).toThrow(
        expect.objectContaining({ code: 'COMM_INVALID_OPTION' }),
      );
    }
    expect(new LineDecoder({ maxLineLength: 1 }).push(bytes('a\nab\n')).map(describeItem)).toEqual(['a', TOO_LONG]);
    expect(checkMaxLineLength(undefined)).toBe(DEFAULT_MAX_LINE_LENGTH);
    expect(() => checkMaxLineLength(0, 'maxReplyLength')).toThrow(/maxReplyLength/);
  });
});

describe('LineDecoder: invalid UTF-8', () => {
  const invalidSequences: Array<[string, number[]]> = [
    ['a stray continuation byte', [0x80]],
    ['a byte that never occurs (0xFF)', [0xff]],
    ['an overlong two-byte "/"', [0xc0, 0xaf]],
    ['an overlong three-byte "/"', [0xe0, 0x80, 0xaf]],
    ['a UTF-16 surrogate encoded in UTF-8 (U+D800)', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated three-byte sequence', [0xe2, 0x82]],
    ['a truncated four-byte sequence', [0xf0, 0x9f, 0x98]],
  ];

  for (const [what, sequence] of invalidSequences) {
    it(`R8: ${what} makes its line an error by default, in its place, and decoding goes on`, () => {
      expect(decodeEveryWay(bytes('ok\n', 'a', sequence, 'b\n', 'also ok\n'))).toEqual(['ok', INVALID, 'also ok']);
    });

    it(`R8: ${what} becomes U+FFFD with invalidUtf8: 'replace'`, () => {
      const line = bytes('a', sequence, 'b');
      expect(decodeEveryWay(bytes('ok\n', line, '\n'), { invalidUtf8: 'replace' })).toEqual(['ok', line.toString('utf8')]);
      expect(line.toString('utf8')).toContain('\uFFFD');
    });
  }

  it('R8: a sequence truncated by the end of input makes the unterminated last line an error', () => {
    expect(decodeChunks([bytes('ok\nab', [0xe2, 0x82])])).toEqual({ items: ['ok', INVALID], unterminated: true });
    expect(decodeChunks([bytes('ok\nab'), bytes([0xf0, 0x9f])])).toEqual({ items: ['ok', INVALID], unterminated: true });
    expect(decodeChunks([bytes('ab', [0xe2, 0x82])], { invalidUtf8: 'replace' })).toEqual({
      items: ['ab\uFFFD'],
      unterminated: true,
    });
  });

  it('R8: a sequence cut by an LF is invalid on both sides of the LF', () => {
    expect(decodeEveryWay(bytes([0xe2, 0x82], '\n', [0xac], '\nfine\n'))).toEqual([INVALID, INVALID, 'fine']);
  });

  it('R8: a genuine U+FFFD in the input is a character, not an error', () => {
    expect(decodeEveryWay(bytes('a\uFFFDb\n\uFFFD\n'))).toEqual(['a\uFFFDb', '\uFFFD']);
    // And across chunks, where the line is put together from pieces.
    expect(decodeChunks([bytes('x\n\uFFFD'), bytes('\uFFFD\n')]).items).toEqual(['x', '\uFFFD\uFFFD']);
  });

  it('R8: invalid bytes in one line leave the valid lines of the same chunk alone', () => {
    const chunk = bytes('é1\n', [0xff], '\n😀2\r\nplain\n');
    expect(new LineDecoder().push(chunk).map(describeItem)).toEqual(['é1', INVALID, '😀2', 'plain']);
  });

  it('R8: the limit counts the bytes received, not the U+FFFD that replace them', () => {
    // Four 0xFF bytes are 4 bytes but would be 12 bytes as U+FFFD.
    const options = { maxLineLength: 4, invalidUtf8: 'replace' as const };
    expect(decodeEveryWay(bytes([0xff, 0xff, 0xff, 0xff], '\n', [0xff, 0xff, 0xff, 0xff, 0xff], '\n'), options)).toEqual([
      '\uFFFD\uFFFD\uFFFD\uFFFD',
      TOO_LONG,
    ]);
  });

  it('R8: the error has its code and class', () => {
    const [error] = new LineDecoder().push(bytes([0xff], '\n'));
    expect(error).toBeInstanceOf(InvalidUtf8Error);
    expect(error).toMatchObject({ code: 'COMM_INVALID_UTF8', name: 'InvalidUtf8Error' });
  });

  it('R8: the policy must be error or replace', () => {
    // @ts-expect-error a value outside the type, as from untyped JavaScript
    expect(() => new LineDecoder({ invalidUtf8: 'ignore' })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });
});

describe('LineDecoder: end, errors, reset, input types', () => {
  it('R11: a final line without LF is delivered at the end and flagged unterminated', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(bytes('a\ntail'))).toEqual(['a']);
    expect(decoder.lastLineUnterminated).toBe(false);
    expect(decoder.end()).toEqual(['tail']);
    expect(decoder.lastLineUnterminated).toBe(true);
    // The flag describes the last end() only.
    expect(decoder.push(bytes('b\n'))).toEqual(['b']);
    expect(decoder.lastLineUnterminated).toBe(false);
    expect(decoder.end()).toEqual([]);
    expect(decoder.lastLineUnterminated).toBe(false);
  });

  it('a final line with LF is not flagged, and an empty input gives nothing', () => {
    expect(decodeChunks([bytes('a\n')])).toEqual({ items: ['a'], unterminated: false });
    expect(decodeChunks([])).toEqual({ items: [], unterminated: false });
    expect(decodeChunks([bytes(''), bytes('')])).toEqual({ items: [], unterminated: false });
  });

  it('is usable after every kind of error, again and again', () => {
    const decoder = new LineDecoder({ maxLineLength: 4 });
    const seen: Decoded[] = [];
    for (let round = 0; round < 3; round++) {
      for (const chunk of [bytes('toolong\n'), bytes('ok\n'), bytes('ab', [0xff], '\n'), bytes('ok2\n'), bytes('longer')]) {
        seen.push(...decoder.push(chunk).map(describeItem));
      }
      seen.push(...decoder.push(bytes('\n')).map(describeItem));
    }
    expect(seen).toEqual(Array.from({ length: 3 }, () => [TOO_LONG, 'ok', INVALID, 'ok2', TOO_LONG]).flat());
  });

  it('reset() forgets the unfinished line and a line being discarded', () => {
    const decoder = new LineDecoder({ maxLineLength: 4 });
    decoder.push(bytes('half'));
    expect(decoder.pendingBytes).toBe(4);
    decoder.reset();
    expect(decoder.pendingBytes).toBe(0);
    expect(decoder.push(bytes('new\n'))).toEqual(['new']);
    expect(decoder.push(bytes('waytoolong')).map(describeItem)).toEqual([TOO_LONG]);
    decoder.reset();
    expect(decoder.push(bytes('kept\n'))).toEqual(['kept']);
  });

  it('accepts plain Uint8Array chunks, including views into a larger buffer', () => {
    const encoded = new TextEncoder().encode('héllo\nwörld\n');
    expect(decodeChunks([encoded]).items).toEqual(['héllo', 'wörld']);
    const backing = new Uint8Array(64).fill(0x21);
    backing.set(new TextEncoder().encode('mid\nline'), 10);
    const view = new Uint8Array(backing.buffer, 10, 8);
    expect(decodeChunks([view, new TextEncoder().encode('\n')]).items).toEqual(['mid', 'line']);
    expect(decodeChunks(cutAt(encoded, [2, 7]).map((chunk) => new Uint8Array(chunk))).items).toEqual(['héllo', 'wörld']);
  });

  it('R2: a line that arrives in 1-byte pieces costs linear time', async () => {
    // Why no clock: timings are noise on a shared machine. Instead the input is big enough that
    // a decoder which rescans or re-copies its held bytes on every piece does ~3e13 byte steps
    // (hours) and blows the 30 s test timeout, while a linear one does 8 Mi pushes (seconds).
    // The loop yields now and then so that the timeout can fire at all. Structure is checked
    // too: the held bytes grow by exactly the piece size each time.
    const size = 8 * 1024 * 1024;
    const line = Buffer.alloc(size + 1, 'q');
    line[size] = 0x0a;
    const decoder = new LineDecoder({ maxLineLength: size });
    let delivered: string | undefined;
    for (let i = 0; i <= size; i++) {
      if (i % 4096 === 0) await new Promise((resolve) => setImmediate(resolve));
      const items = decoder.push(line.subarray(i, i + 1));
      if (i < size && decoder.pendingBytes !== i + 1) throw new Error(`held ${decoder.pendingBytes} bytes after ${i + 1}`);
      if (items.length > 0) delivered = items[0] as string;
    }
    expect(delivered?.length).toBe(size);
    expect(decoder.pendingBytes).toBe(0);
  });
});

describe('encodeLine / encodeLines', () => {
  it('R2: encodes UTF-8 followed by LF alone', () => {
    expect(encodeLine('héllo')).toEqual(bytes('héllo\n'));
    expect(encodeLine('')).toEqual(bytes('\n'));
    expect(encodeLine('😀𝄞')).toEqual(bytes([0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9d, 0x84, 0x9e, 0x0a]));
    expect(encodeLine('a\u2028b')).toEqual(bytes('a\u2028b\n'));
  });

  it('writes a lone surrogate as U+FFFD, as Buffer.from does', () => {
    expect(encodeLine('a\uD800')).toEqual(bytes('a\uFFFD\n'));
  });

  it('a line with LF or CR is a COMM_LINE_HAS_BREAK error', () => {
    for (const bad of ['a\nb', 'a\rb', 'end\r', '\n', 'x\r\n']) {
      expect(() => encodeLine(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'COMM_LINE_HAS_BREAK', name: 'LineHasBreakError' }),
      );
    }
  });

  it('encodeLines joins lines into one buffer, each followed by LF', () => {
    expect(encodeLines(['a', '', 'ü😀'])).toEqual(bytes('a\n\nü😀\n'));
    expect(encodeLines([])).toEqual(Buffer.alloc(0));
  });

  it('encodeLines refuses the whole batch when any line has a break', () => {
    expect(() => encodeLines(['fine', 'bad\r', 'fine'])).toThrow(expect.objectContaining({ code: 'COMM_LINE_HAS_BREAK' }));
  });

  it('R2: what the encoder writes, the decoder reads back', () => {
    const lines = ['', 'ascii', 'é日😀', 'tab\tinside', 'a\u2028b', '\uFEFF not first'];
    expect(decodeEveryWay(encodeLines(lines))).toEqual(lines);
  });
});
