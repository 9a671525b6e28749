import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TransformStream } from 'node:stream/web';
import { LineDecoder, encodeLine, type LineDecoderOptions, type DecodedItem } from './codec.js';
import type { LineError } from './errors.js';

/** Options of the stream adapters: the decoder's, plus what to do with a bad line. */
export interface LineStreamOptions extends LineDecoderOptions {
  /**
   * Called with each line error (too long, invalid UTF-8); the stream then goes on with the
   * next line. Without it, the first line error fails the stream, and lines the stream still
   * buffers are dropped, as with any stream error. In the stream adapters it is called when the
   * line is decoded, possibly before the reader has taken the lines before it; where lines and
   * errors must stay in order (one reply each), use {@link readLines} or `LineDecoder`.
   */
  onLineError?: (error: LineError) => void;
}

/** Hands decoded lines to `emit` and line errors to the handler, or returns the error to fail with. */
function deliver(
  items: DecodedItem[],
  emit: (line: string) => void,
  onLineError: ((error: LineError) => void) | undefined,
): LineError | undefined {
  for (const item of items) {
    if (typeof item === 'string') emit(item);
    else if (onLineError) onLineError(item);
    else return item;
  }
  return undefined;
}

/**
 * A Node `Transform` from bytes to lines (object mode, one string per line).
 *
 * @example
 * ```ts
 * socket.pipe(new LineDecoderTransform()).on('data', (line: string) => console.log(line));
 * ```
 */
export class LineDecoderTransform extends Transform {
  private readonly decoder: LineDecoder;
  private readonly onLineError: ((error: LineError) => void) | undefined;

  constructor(options: LineStreamOptions = {}) {
    super({ readableObjectMode: true });
    this.decoder = new LineDecoder(options);
    this.onLineError = options.onLineError;
  }

  /** True when the stream ended with a final line that had no LF. */
  get lastLineUnterminated(): boolean {
    return this.decoder.lastLineUnterminated;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(deliver(this.decoder.push(chunk), (line) => this.push(line), this.onLineError));
  }

  override _flush(callback: TransformCallback): void {
    callback(deliver(this.decoder.end(), (line) => this.push(line), this.onLineError));
  }
}

/**
 * A Node `Transform` from lines (object mode, strings) to UTF-8 bytes, each line followed by LF.
 * A line with CR or LF fails the stream with `COMM_LINE_HAS_BREAK`.
 */
export class LineEncoderTransform extends Transform {
  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(line: string, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      callback(null, encodeLine(line));
    } catch (error) {
      callback(error as Error);
    }
  }
}

/**
 * A WHATWG `TransformStream` from bytes to lines, for code written against Web Streams.
 *
 * @example
 * ```ts
 * const lines = response.body!.pipeThrough(new LineDecoderStream());
 * for await (const line of lines) console.log(line);
 * ```
 */
export class LineDecoderStream extends TransformStream<Uint8Array, string> {
  constructor(options: LineStreamOptions = {}) {
    const decoder = new LineDecoder(options);
    super({
      transform(chunk, controller) {
        const error = deliver(decoder.push(chunk), (line) => controller.enqueue(line), options.onLineError);
        if (error) controller.error(error);
      },
      flush(controller) {
        const error = deliver(decoder.end(), (line) => controller.enqueue(line), options.onLineError);
        if (error) controller.error(error);
      },
    });
  }
}

/** A WHATWG `TransformStream` from lines to UTF-8 bytes, each line followed by LF. */
export class LineEncoderStream extends TransformStream<string, Uint8Array> {
  constructor() {
    super({
      transform(line, controller) {
        controller.enqueue(encodeLine(line));
      },
    });
  }
}

/**
 * The lines of a readable byte stream (a socket, a file stream, any async iterable of bytes)
 * as an async iterable. A final line without LF is yielded too. Lines and errors keep their
 * order: `onLineError` is called, or the error thrown, after every line before it was yielded.
 * Leaving the loop early (`break`) destroys a Node stream source, as iterating it does.
 *
 * @throws the first line error, unless `onLineError` is given.
 * @example
 * ```ts
 * for await (const line of readLines(socket)) socket.write(encodeLine(line));
 * ```
 */
export async function* readLines(
  source: Readable | AsyncIterable<Uint8Array>,
  options: LineStreamOptions = {},
): AsyncGenerator<string, void, undefined> {
  const decoder = new LineDecoder(options);
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    yield* linesInOrder(decoder.push(chunk), options.onLineError);
  }
  yield* linesInOrder(decoder.end(), options.onLineError);
}

/** The lines of `items`, with each error handed to `onLineError` (or thrown) in its place. */
function* linesInOrder(
  items: DecodedItem[],
  onLineError: ((error: LineError) => void) | undefined,
): Generator<string, void, undefined> {
  for (const item of items) {
    if (typeof item === 'string') yield item;
    else if (onLineError) onLineError(item);
    else throw item;
  }
}
