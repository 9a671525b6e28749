import type { Readable, Writable } from 'node:stream';
import { CommError, LineDecoder, type DecodedItem } from '@comm/protocol';
import type { CommClient } from './client.js';

/** Options of {@link runFilter}. */
export interface FilterOptions {
  /** The longest input line, in bytes. */
  maxLineLength: number;
  /** Lines in flight; see `PipelineOptions.window`. */
  window?: number;
}

/**
 * An input line that cannot be sent: too long or not UTF-8. Its own code, so that
 * `COMM_LINE_TOO_LONG` always means a reply over the limit; what was wrong with the line is the
 * `cause` (`COMM_LINE_TOO_LONG` or `COMM_INVALID_UTF8`). Names the line by its number.
 */
class InputLineError extends CommError<'COMM_INPUT_LINE_INVALID'> {
  /** The 1-based number of the bad line in the input. */
  readonly lineNumber: number;

  constructor(lineNumber: number, cause: CommError) {
    super(`input line ${lineNumber}: ${cause.message}`, 'COMM_INPUT_LINE_INVALID', { cause });
    this.name = 'InputLineError';
    this.lineNumber = lineNumber;
  }
}

/** The output went away (e.g. `comm ... | head -1` and head exited: EPIPE). */
class OutputClosedError extends CommError<'COMM_OUTPUT_CLOSED'> {
  constructor(cause: Error) {
    super(`cannot write the replies: ${cause.message}`, 'COMM_OUTPUT_CLOSED', { cause });
    this.name = 'OutputClosedError';
  }
}

/**
 * The lines of `input`, numbered so that a bad one is reported by its line number.
 * Stops at the first bad line: sending a changed line would hide the input's fault.
 */
async function* numberedLines(input: Readable, maxLineLength: number): AsyncGenerator<string, void, undefined> {
  const decoder = new LineDecoder({ maxLineLength });
  let lineNumber = 0;
  function* checked(items: DecodedItem[]): Generator<string, void, undefined> {
    for (const item of items) {
      lineNumber++;
      if (typeof item !== 'string') throw new InputLineError(lineNumber, item);
      yield item;
    }
  }
  for await (const chunk of input as AsyncIterable<Buffer>) yield* checked(decoder.push(chunk));
  yield* checked(decoder.end());
}

/**
 * The `comm` filter: every input line goes to the server, every reply comes out on
 * `output` as one line, in order, and nothing else is written there. Lines are pipelined
 * (a window of them in flight) and the output is written in batches; a slow reader of
 * `output` slows the input down instead of filling memory. A line `BYE` ends the session:
 * it prints no reply and the lines after it are not sent. At the end of the input the
 * replies still owed are awaited and the conversation is closed with `BYE`.
 *
 * @throws {CommError} when the connection fails, a reply is bad, or an input line is.
 * @example
 * ```ts
 * const client = await connect('localhost', 2000);
 * await runFilter(client, process.stdin, process.stdout, { maxLineLength: 65536 });
 * ```
 */
export async function runFilter(client: CommClient, input: Readable, output: Writable, options: FilterOptions): Promise<void> {
  let outputFailure: Error | undefined;
  let wake: (() => void) | undefined;
  const onOutputError = (error: Error): void => {
    outputFailure = error;
    wake?.();
  };
  const onDrain = (): void => wake?.();
  output.on('error', onOutputError);
  output.on('drain', onDrain);
  const checkOutput = (): void => {
    if (outputFailure !== undefined) throw new OutputClosedError(outputFailure);
  };
  try {
    const batches = client.pipelineBatches(numberedLines(input, options.maxLineLength), {
      ...(options.window === undefined ? {} : { window: options.window }),
    });
    // One write per batch of replies (what one read from the socket brought).
    for await (const replies of batches) {
      output.write(`${replies.join('\n')}\n`);
      checkOutput();
      // A slow reader of the output slows the input down (the window fills) instead of
      // filling memory. writableNeedDrain stays true until 'drain', so none is missed.
      if (output.writableNeedDrain) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        checkOutput();
      }
    }
    // Without a BYE line the input just ended: every reply is in, so end the conversation (R10).
    if (!client.closed) await client.close();
  } finally {
    output.off('error', onOutputError);
    output.off('drain', onDrain);
  }
}
