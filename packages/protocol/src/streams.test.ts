import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import type { LineError } from './errors.js';
import { LineDecoderStream, LineDecoderTransform, LineEncoderStream, LineEncoderTransform, readLines } from './streams.js';

const chunksOf = (...parts: Array<string | number[]>): Buffer[] =>
  parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part)));

/** Everything a Node readable gives, and the error it ends with, if any. */
async function drain<T>(readable: AsyncIterable<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of readable) items.push(item);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

function webSource(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

function webLines(lines: string[]): ReadableStream<string> {
  return new ReadableStream<string>({
    start(controller) {
      for (const line of lines) controller.enqueue(line);
      controller.close();
    },
  });
}

// A CRLF split across chunks, a 4-byte character split across chunks, a lone CR, U+2028,
// an empty line and an unterminated last line.
const trickyChunks = chunksOf('héllo\r', '\nw', [0xf0, 0x9f], [0x98, 0x80], 'rld\n\na\rb\u2028c\nlast');
const trickyLines = ['héllo', 'w😀rld', '', 'a\rb\u2028c', 'last'];

describe('LineDecoderTransform (Node streams)', () => {
  it('R2 R3 R4 R5: turns chunks into lines, whatever the chunking', async () => {
    const decoder = new LineDecoderTransform();
    const { items, error } = await drain(Readable.from(trickyChunks).pipe(decoder));
    expect(error).toBeUndefined();
    expect(items).toEqual(trickyLines);
    expect(decoder.lastLineUnterminated).toBe(true);
  });

  it('R7: without onLineError the first line error fails the stream', async () => {
    const decoder = new LineDecoderTransform({ maxLineLength: 4 });
    const { items, error } = await drain(Readable.from(chunksOf('ok\ntoolong\nnever\n')).pipe(decoder));
    // A failing Node stream drops what it still buffers, so 'ok' may or may not have been read.
    expect(['ok'].slice(0, items.length)).toEqual(items);
    expect(error).toMatchObject({ code: 'COMM_LINE_TOO_LONG' });
  });

  it('R7 R8: with onLineError, errors are reported in order and the lines go on', async () => {
    const errors: string[] = [];
    const decoder = new LineDecoderTransform({
      maxLineLength: 4,
      onLineError: (error: LineError) => errors.push(error.code),
    });
    const { items, error } = await drain(Readable.from(chunksOf('a\ntoolong\nb\n', [0xff], '\nc\n')).pipe(decoder));
    expect(error).toBeUndefined();
    expect(items).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual(['COMM_LINE_TOO_LONG', 'COMM_INVALID_UTF8']);
  });

  it('R8: invalidUtf8: replace delivers the line with U+FFFD', async () => {
    const decoder = new LineDecoderTransform({ invalidUtf8: 'replace' });
    const { items } = await drain(Readable.from(chunksOf('a', [0xff], 'b\n')).pipe(decoder));
    expect(items).toEqual(['a\uFFFDb']);
  });

  it('a final error in flush fails the stream too', async () => {
    const decoder = new LineDecoderTransform();
    const { items, error } = await drain(Readable.from(chunksOf('ok\nbad', [0xe2])).pipe(decoder));
    expect(['ok'].slice(0, items.length)).toEqual(items);
    expect(error).toMatchObject({ code: 'COMM_INVALID_UTF8' });
  });
});

describe('LineEncoderTransform (Node streams)', () => {
  it('R2: writes each line as UTF-8 with LF', async () => {
    const written: Buffer[] = [];
    await pipeline(Readable.from(['a', '', '😀']), new LineEncoderTransform(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) written.push(chunk);
    });
    expect(Buffer.concat(written).toString('utf8')).toBe('a\n\n😀\n');
  });

  it('a line with CR or LF fails the stream with COMM_LINE_HAS_BREAK', async () => {
    const { items, error } = await drain(Readable.from(['fine', 'bro\nken']).pipe(new LineEncoderTransform()));
    expect(['fine\n'].slice(0, items.length)).toEqual(items.map((chunk) => String(chunk)));
    expect(error).toMatchObject({ code: 'COMM_LINE_HAS_BREAK' });
  });

  it('round-trips through the decoder', async () => {
    const lines = ['one', 'twö', '', '日本'];
    const decoded = await drain(Readable.from(lines).pipe(new LineEncoderTransform()).pipe(new LineDecoderTransform()));
    expect(decoded.items).toEqual(lines);
  });
});

describe('LineDecoderStream / LineEncoderStream (WHATWG streams)', () => {
  it('R2 R3 R4 R5: turns Uint8Array chunks into lines, whatever the chunking', async () => {
    const plain = trickyChunks.map((chunk) => new Uint8Array(chunk));
    const { items, error } = await drain(webSource(plain).pipeThrough(new LineDecoderStream()));
    expect(error).toBeUndefined();
    expect(items).toEqual(trickyLines);
  });

  it('R7: without onLineError the first line error errors the stream', async () => {
    const lines = webSource(chunksOf('ok\ntoolong\nnever\n')).pipeThrough(new LineDecoderStream({ maxLineLength: 4 }));
    const { items, error } = await drain(lines);
    // An errored stream drops what it still queues, so 'ok' may or may not have been read.
    expect(['ok'].slice(0, items.length)).toEqual(items);
    expect(error).toMatchObject({ code: 'COMM_LINE_TOO_LONG' });
  });

  it('R8: with onLineError, errors are reported and the lines go on, including at the end', async () => {
    const errors: string[] = [];
    const decoder = new LineDecoderStream({ onLineError: (error) => errors.push(error.code) });
    const { items, error } = await drain(webSource(chunksOf('a\n', [0xc0, 0xaf], '\nb\nend', [0xe2])).pipeThrough(decoder));
    expect(error).toBeUndefined();
    expect(items).toEqual(['a', 'b']);
    expect(errors).toEqual(['COMM_INVALID_UTF8', 'COMM_INVALID_UTF8']);
  });

  it('a final error in flush errors the stream', async () => {
    const { items, error } = await drain(webSource(chunksOf('ok\nbad', [0xe2])).pipeThrough(new LineDecoderStream()));
    expect(['ok'].slice(0, items.length)).toEqual(items);
    expect(error).toMatchObject({ code: 'COMM_INVALID_UTF8' });
  });

  it('R2: the encoder writes UTF-8 lines with LF, and the decoder reads them back', async () => {
    const lines = ['a', '', '😀 four bytes', 'ü'];
    const bytes = await drain(webLines(lines).pipeThrough(new LineEncoderStream()));
    expect(Buffer.concat(bytes.items).toString('utf8')).toBe('a\n\n😀 four bytes\nü\n');
    const back = await drain(webLines(lines).pipeThrough(new LineEncoderStream()).pipeThrough(new LineDecoderStream()));
    expect(back.items).toEqual(lines);
  });

  it('the encoder errors the stream on a line with CR or LF', async () => {
    const { error } = await drain(webLines(['ok', 'no\r']).pipeThrough(new LineEncoderStream()));
    expect(error).toMatchObject({ code: 'COMM_LINE_HAS_BREAK' });
  });
});

describe('readLines (async iterable)', () => {
  it('R2 R3 R4 R5: yields the lines of any async iterable of bytes, the unterminated last one too', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const chunk of trickyChunks) yield chunk;
    }
    expect((await drain(readLines(source()))).items).toEqual(trickyLines);
  });

  it('R7: throws the first line error after yielding the lines before it', async () => {
    const { items, error } = await drain(readLines(Readable.from(chunksOf('a\nb\ntoolong\nc\n')), { maxLineLength: 4 }));
    expect(items).toEqual(['a', 'b']);
    expect(error).toMatchObject({ code: 'COMM_LINE_TOO_LONG' });
  });

  it('R7 R8: with onLineError, reports each error in its place among the lines and goes on', async () => {
    const seen: string[] = [];
    const lines = readLines(Readable.from(chunksOf('a\ntoolong\nb\n', [0xff], '\nc\nd', [0xe2])), {
      maxLineLength: 4,
      onLineError: (error) => seen.push(error.code),
    });
    for await (const line of lines) seen.push(line);
    expect(seen).toEqual(['a', 'COMM_LINE_TOO_LONG', 'b', 'COMM_INVALID_UTF8', 'c', 'COMM_INVALID_UTF8']);
  });
});
