import { Buffer, isAscii, isUtf8 } from 'node:buffer';
// A namespace import, because `transcode` is missing from Node builds without ICU.
import * as nodeBuffer from 'node:buffer';
import { InvalidOptionError, InvalidUtf8Error, LineHasBreakError, LineTooLongError, type LineError } from './errors.js';

/** The default line limit: 64 KiB of bytes, the line ending not counted. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const BOM = '\uFEFF';
const REPLACEMENT = '\uFFFD';
/** A partial-line buffer larger than this is let go once its line is done, so idle connections stay small. */
const KEEP_PARTIAL_CAPACITY = 16 * 1024;

/**
 * Before Node 24, `toString('utf8')` runs V8's scalar UTF-8 decoder (about 0.9 GB/s on mixed
 * text on our machine), while `transcode` to UTF-16 runs simdutf, validates as it goes (it
 * throws on invalid input) and the UTF-16 copy into a string is a memcpy: about 3 GB/s in all.
 * From Node 24 on, `toString('utf8')` is simdutf itself and the faster of the two, so the
 * transcode path is only taken where it wins.
 */
const transcodeUtf8ToUtf16 =
  Number(process.versions.node.split('.')[0]) < 24 && typeof nodeBuffer.transcode === 'function'
    ? nodeBuffer.transcode
    : undefined;

/** What to do with a line that is not valid UTF-8. */
export type InvalidUtf8Policy = 'error' | 'replace';

/** Options of {@link LineDecoder}. */
export interface LineDecoderOptions {
  /**
   * The most bytes a line may have, its LF (and a CR just before it) not counted.
   * Always on; defaults to {@link DEFAULT_MAX_LINE_LENGTH} (64 KiB).
   */
  maxLineLength?: number;
  /**
   * `'error'` (default): a line with invalid UTF-8 is reported as an {@link InvalidUtf8Error}
   * in its place. `'replace'`: each invalid sequence becomes U+FFFD and the line is delivered.
   */
  invalidUtf8?: InvalidUtf8Policy;
  /** Drop a byte-order mark (U+FEFF) at the very start of the stream. Default `true`. */
  stripBom?: boolean;
}

/** One result of decoding: a line (without its line ending), or the error that stands in its place. */
export type DecodedItem = string | LineError;

/**
 * Checks a line-length option: a whole number of bytes, at least 1.
 *
 * @returns the value, or {@link DEFAULT_MAX_LINE_LENGTH} when it is `undefined`.
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for anything else.
 * @example
 * ```ts
 * const limit = checkMaxLineLength(options.maxLineLength); // 65536 when not given
 * ```
 */
export function checkMaxLineLength(value: number | undefined, name = 'maxLineLength'): number {
  if (value === undefined) return DEFAULT_MAX_LINE_LENGTH;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a whole number of bytes >= 1, got ${String(value)}`);
  }
  return value;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * The text of `bytes[start, end)`, which hold at least one non-ASCII byte, or `undefined` when
 * they are not valid UTF-8.
 */
function decodeNonAscii(bytes: Buffer, start: number, end: number): string | undefined {
  if (transcodeUtf8ToUtf16 !== undefined) {
    try {
      return transcodeUtf8ToUtf16(bytes.subarray(start, end), 'utf8', 'utf16le').toString('utf16le');
    } catch {
      return undefined;
    }
  }
  const text = bytes.toString('utf8', start, end);
  // No U+FFFD means no invalid byte; a U+FFFD may also be a genuine character, so check the bytes.
  if (text.indexOf(REPLACEMENT) !== -1 && !isUtf8(bytes.subarray(start, end))) return undefined;
  return text;
}

/**
 * A streaming decoder from bytes to UTF-8 lines, for any split of the input.
 *
 * Lines end at LF; a CR just before the LF is dropped; a lone CR and U+2028 are data.
 * Each chunk is scanned once: the complete lines of a chunk are decoded together and split
 * in string space, and only the unfinished tail is copied aside (into a buffer that grows
 * geometrically up to the limit), so a long line that arrives in many small pieces costs
 * linear time. Errors stand in the place of their line, and decoding goes on after them.
 *
 * @example
 * ```ts
 * const decoder = new LineDecoder({ maxLineLength: 1024 });
 * decoder.push(Buffer.from('héllo\r\nwor'));  // ['héllo']
 * decoder.push(Buffer.from('ld\n'));          // ['world']
 * decoder.push(Buffer.from('tail'));          // []
 * decoder.end();                              // ['tail'], and decoder.lastLineUnterminated is true
 * ```
 */
export class LineDecoder {
  /** The byte limit in force. */
  readonly maxLineLength: number;
  /** The invalid UTF-8 policy in force. */
  readonly invalidUtf8: InvalidUtf8Policy;
  private readonly stripBom: boolean;
  private partial: Buffer = Buffer.alloc(0);
  private partialLength = 0;
  /** Inside a line that was already reported too long: bytes are dropped up to its LF. */
  private discarding = false;
  private atFirstLine = true;
  private endedUnterminated = false;

  constructor(options: LineDecoderOptions = {}) {
    this.maxLineLength = checkMaxLineLength(options.maxLineLength);
    const policy = options.invalidUtf8 ?? 'error';
    if (policy !== 'error' && policy !== 'replace') {
      throw new InvalidOptionError(`invalidUtf8 must be 'error' or 'replace', got ${String(policy)}`);
    }
    this.invalidUtf8 = policy;
    this.stripBom = options.stripBom ?? true;
  }

  /**
   * True when the input given to the last {@link end} stopped inside a line: that final line
   * had no LF. end() delivered it (or its error), unless it was too long and already reported.
   */
  get lastLineUnterminated(): boolean {
    return this.endedUnterminated;
  }

  /** Bytes held for the line not finished yet; never more than `maxLineLength + 1`. */
  get pendingBytes(): number {
    return this.partialLength;
  }

  /**
   * Decodes one chunk and returns the lines it completes, with errors in their places.
   *
   * @example
   * ```ts
   * decoder.push(Buffer.from('a\nb')); // ['a'] (and 'b' waits for its LF)
   * ```
   */
  push(input: Uint8Array): DecodedItem[] {
    const chunk = asBuffer(input);
    const length = chunk.length;
    let first: DecodedItem | undefined;
    let start = 0;
    this.endedUnterminated = false;

    if (this.discarding || this.partialLength > 0) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        if (this.discarding) return [];
        const items: DecodedItem[] = [];
        this.appendPartial(chunk, 0, length, items);
        if (items.length > 0) this.dropBom(items);
        return items;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        const total = this.partialLength + lf;
        const endsWithCr = lf > 0 ? chunk[lf - 1] === CR : this.partial[this.partialLength - 1] === CR;
        const lineLength = endsWithCr ? total - 1 : total;
        if (lineLength > this.maxLineLength) {
          first = this.tooLong();
        } else {
          this.appendBytes(chunk, 0, lf);
          first = this.decodeOne(this.partial, 0, lineLength);
        }
        this.resetPartial();
      }
      start = lf + 1;
    }

    let items: DecodedItem[];
    const lastLf = start < length ? chunk.lastIndexOf(LF) : -1;
    if (lastLf >= start) {
      items = this.decodeRegion(chunk, start, lastLf);
      if (first !== undefined) items.unshift(first);
      start = lastLf + 1;
    } else {
      items = first === undefined ? [] : [first];
    }
    if (start < length) this.appendPartial(chunk, start, length, items);
    if (items.length > 0) this.dropBom(items);
    return items;
  }

  /**
   * Ends the input. A final line without LF is delivered (or its error, if it breaks a rule),
   * and {@link lastLineUnterminated} tells that it had no LF. The decoder is then ready for a
   * new stream.
   *
   * @example
   * ```ts
   * decoder.push(Buffer.from('bye')); // []
   * decoder.end();                    // ['bye']
   * ```
   */
  end(): DecodedItem[] {
    const items: DecodedItem[] = [];
    // A too-long last line was reported while it arrived; it is still a line that had no LF.
    this.endedUnterminated = this.discarding || this.partialLength > 0;
    if (this.partialLength > 0) {
      items.push(this.partialLength > this.maxLineLength ? this.tooLong() : this.decodeOne(this.partial, 0, this.partialLength));
      this.dropBom(items);
    }
    this.resetPartial();
    this.discarding = false;
    this.atFirstLine = true;
    return items;
  }

  /** Forgets any unfinished line and starts over as for a new stream. */
  reset(): void {
    this.resetPartial();
    this.discarding = false;
    this.atFirstLine = true;
    this.endedUnterminated = false;
  }

  /** Decodes the complete lines in `chunk[start, end)`, where `end` is an LF and lines are LF-separated. */
  private decodeRegion(chunk: Buffer, start: number, end: number): DecodedItem[] {
    // A region within the limit holds no line over it: the common case counts no bytes.
    const mayBeTooLong = end - start > this.maxLineLength;
    // ASCII is UTF-8 already, and a copy (latin1) is the fastest way to a string.
    if (isAscii(chunk.subarray(start, end))) {
      return this.splitOneByte(chunk.toString('latin1', start, end), mayBeTooLong);
    }
    const text = decodeNonAscii(chunk, start, end);
    if (text === undefined) return this.decodeRegionByBytes(chunk, start, end);
    return this.sliceLines(text, mayBeTooLong);
  }

  /**
   * Lines of a one-byte string, by `split`: on one-byte strings it beats an `indexOf` loop for
   * short lines (measured: 3.6 vs 3.1 GB/s on 64 B lines, Node 20 and 26).
   */
  private splitOneByte(text: string, mayBeTooLong: boolean): DecodedItem[] {
    const lines: DecodedItem[] = text.split('\n');
    if (!mayBeTooLong && text.indexOf('\r') === -1) return lines;
    for (let i = 0; i < lines.length; i++) lines[i] = this.lineOrError(lines[i] as string, mayBeTooLong);
    return lines;
  }

  /**
   * Lines of a two-byte string, by an `indexOf` loop: there V8's `split` is far slower (the
   * codec group of `pnpm bench` measures both paths).
   */
  private sliceLines(text: string, mayBeTooLong: boolean): DecodedItem[] {
    const lines: DecodedItem[] = [];
    let lineStart = 0;
    for (;;) {
      const lf = text.indexOf('\n', lineStart);
      if (lf === -1) break;
      lines.push(this.lineOrError(text.slice(lineStart, lf), mayBeTooLong));
      lineStart = lf + 1;
    }
    lines.push(this.lineOrError(lineStart === 0 ? text : text.slice(lineStart), mayBeTooLong));
    return lines;
  }

  /** The line without a CR at its end, or its error if it is over the limit (valid UTF-8 given). */
  private lineOrError(line: string, mayBeTooLong: boolean): DecodedItem {
    const n = line.length;
    if (n !== 0 && line.charCodeAt(n - 1) === CR) line = line.slice(0, n - 1);
    // A UTF-16 unit is at most 3 UTF-8 bytes, so most lines pass without counting bytes.
    const max = this.maxLineLength;
    if (mayBeTooLong && line.length * 3 > max && Buffer.byteLength(line, 'utf8') > max) return this.tooLong();
    return line;
  }

  /** The careful path for a region with invalid UTF-8: line by line in byte space. */
  private decodeRegionByBytes(chunk: Buffer, start: number, end: number): DecodedItem[] {
    const items: DecodedItem[] = [];
    let lineStart = start;
    while (lineStart <= end) {
      let lf = chunk.indexOf(LF, lineStart);
      if (lf === -1 || lf > end) lf = end;
      const contentEnd = lf > lineStart && chunk[lf - 1] === CR ? lf - 1 : lf;
      items.push(contentEnd - lineStart > this.maxLineLength ? this.tooLong() : this.decodeOne(chunk, lineStart, contentEnd));
      lineStart = lf + 1;
    }
    return items;
  }

  /** Decodes one line's bytes under the UTF-8 policy. */
  private decodeOne(bytes: Buffer, start: number, end: number): DecodedItem {
    const text = bytes.toString('utf8', start, end);
    if (this.invalidUtf8 === 'error' && text.indexOf(REPLACEMENT) !== -1 && !isUtf8(bytes.subarray(start, end))) {
      return new InvalidUtf8Error();
    }
    return text;
  }

  private dropBom(items: DecodedItem[]): void {
    if (!this.atFirstLine) return;
    this.atFirstLine = false;
    const first = items[0];
    if (this.stripBom && typeof first === 'string' && first.startsWith(BOM)) items[0] = first.slice(1);
  }

  private tooLong(): LineTooLongError {
    return new LineTooLongError(this.maxLineLength);
  }

  /** Holds the unfinished tail `chunk[start, end)`, or reports it once if it is already too long. */
  private appendPartial(chunk: Buffer, start: number, end: number, items: DecodedItem[]): void {
    // One byte of slack: the last byte may be the CR of a CRLF, which does not count.
    if (this.partialLength + (end - start) > this.maxLineLength + 1) {
      items.push(this.tooLong());
      this.resetPartial();
      this.discarding = true;
      return;
    }
    this.appendBytes(chunk, start, end);
  }

  private appendBytes(chunk: Buffer, start: number, end: number): void {
    const needed = this.partialLength + (end - start);
    if (needed > this.partial.length) {
      // Doubling keeps a line that arrives in small pieces linear; the cap keeps R7's bound.
      const capacity = Math.max(needed, Math.min(this.partial.length * 2, this.maxLineLength + 1), 256);
      const grown = Buffer.allocUnsafe(capacity);
      this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    chunk.copy(this.partial, this.partialLength, start, end);
    this.partialLength = needed;
  }

  private resetPartial(): void {
    this.partialLength = 0;
    if (this.partial.length > KEEP_PARTIAL_CAPACITY) this.partial = Buffer.alloc(0);
  }
}

function assertNoBreak(line: string): void {
  if (line.indexOf('\n') !== -1 || line.indexOf('\r') !== -1) throw new LineHasBreakError();
}

/**
 * Encodes one line as UTF-8 followed by LF.
 * Lone surrogates are written as U+FFFD, as `Buffer.from` does.
 *
 * @throws {LineHasBreakError} (`COMM_LINE_HAS_BREAK`) if the text contains CR or LF.
 * @example
 * ```ts
 * socket.write(encodeLine('héllo')); // <68 c3 a9 6c 6c 6f 0a>
 * ```
 */
export function encodeLine(line: string): Buffer {
  assertNoBreak(line);
  return Buffer.from(line + '\n', 'utf8');
}

/**
 * Encodes many lines into one buffer (one write, one syscall), each followed by LF.
 *
 * @throws {LineHasBreakError} (`COMM_LINE_HAS_BREAK`) if any line contains CR or LF; nothing is encoded then.
 * @example
 * ```ts
 * socket.write(encodeLines(['a', 'b'])); // 'a\nb\n'
 * ```
 */
export function encodeLines(lines: readonly string[]): Buffer {
  if (lines.length === 0) return Buffer.alloc(0);
  for (let i = 0; i < lines.length; i++) assertNoBreak(lines[i] as string);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}
