// Helpers shared by the codec's unit and property tests (not part of the package: only
// index.ts is built). Lines stay strings and errors become `{ error: code }`, so a whole
// decoding compares with one `toEqual`.
import { Buffer, isUtf8 } from 'node:buffer';
import { DEFAULT_MAX_LINE_LENGTH, LineDecoder, type DecodedItem, type LineDecoderOptions } from './codec.js';

export type Decoded = string | { error: string };

export interface DecodeResult {
  items: Decoded[];
  unterminated: boolean;
}

export function describeItem(item: DecodedItem): Decoded {
  return typeof item === 'string' ? item : { error: item.code };
}

/** Feeds `chunks` to one decoder, then ends it. */
export function decodeChunks(chunks: readonly Uint8Array[], options?: LineDecoderOptions): DecodeResult {
  const decoder = new LineDecoder(options);
  const items: Decoded[] = [];
  for (const chunk of chunks) for (const item of decoder.push(chunk)) items.push(describeItem(item));
  for (const item of decoder.end()) items.push(describeItem(item));
  return { items, unterminated: decoder.lastLineUnterminated };
}

/** The bytes cut at `cuts` (positions in any order, duplicates and out-of-range ones ignored). */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const positions = [...new Set(cuts.filter((cut) => cut > 0 && cut < bytes.length))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const position of [...positions, bytes.length]) {
    chunks.push(bytes.subarray(start, position));
    start = position;
  }
  return chunks;
}

/** The bytes in pieces of `size` bytes. */
export function piecesOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size));
  return pieces;
}

/**
 * The spec's line rules (R2-R8) written as plainly as possible, over the whole input at once:
 * the oracle the streaming decoder is compared with.
 */
export function referenceDecode(input: Uint8Array, options: LineDecoderOptions = {}): DecodeResult {
  const bytes = Buffer.from(input);
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const items: Decoded[] = [];
  let unterminated = false;
  let position = 0;
  while (position < bytes.length) {
    let lf = bytes.indexOf(0x0a, position);
    if (lf === -1) {
      lf = bytes.length;
      unterminated = true;
    }
    const end = !unterminated && lf > position && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
    const line = bytes.subarray(position, end);
    if (line.length > max) items.push({ error: 'COMM_LINE_TOO_LONG' });
    else if (options.invalidUtf8 !== 'replace' && !isUtf8(line)) items.push({ error: 'COMM_INVALID_UTF8' });
    else items.push(line.toString('utf8'));
    position = lf + 1;
  }
  const first = items[0];
  if ((options.stripBom ?? true) && typeof first === 'string' && first.startsWith('\uFEFF')) items[0] = first.slice(1);
  return { items, unterminated };
}
