import { InvalidOptionError } from '@comm/protocol';
import { checkLine, checkMilliseconds } from './checks.js';
import { BYE, type Connection } from './connection.js';
import { AbortedError, CommTimeoutError } from './errors.js';
import { PipelineSink } from './reply-slots.js';

/** Lines in flight per pipeline: 1024 lines of 64 bytes keep a loopback pipe full. */
export const DEFAULT_WINDOW = 1024;

/** Options of {@link CommClient.pipeline}. */
export interface PipelineOptions {
  /** The most lines sent whose replies have not been taken yet. Default 1024. */
  window?: number;
  /** Milliseconds without any reply while replies are owed; overrides the client's `timeout`. */
  timeout?: number;
  /** Stops the pipeline with `COMM_ABORTED`. */
  signal?: AbortSignal;
}

/** What one read of a source gave: a run of lines, or a step of an asynchronous source. */
type Read = string[] | IteratorResult<string>;

/**
 * A pipeline's source, read in runs: a synchronous iterable gives as many lines as the window
 * has room for without an await each, an asynchronous one a line per await. Reading ends at
 * the source's end, at a `BYE` line, or at a failure (reading, or a line with a break), kept
 * in `error` so that the lines before it are still sent.
 */
abstract class LineReader {
  /** Nothing more to read. */
  ended = false;
  /** It ended at a `BYE` line. */
  bye = false;
  /** Why reading failed, if it did. */
  error: unknown;
  /** The source said it is done, so it is owed no `return()`. */
  protected done = false;

  /** {@link read} gives a promise (an asynchronous source). */
  abstract readonly waits: boolean;

  /**
   * Reads up to `room` lines (a synchronous source) or one step (an asynchronous one, whose
   * promise is returned as it is: awaiting it costs one turn per line, as `for await` does).
   */
  abstract read(room: number): Read | Promise<Read>;
  /** The lines of what {@link read} gave: at least one unless reading ended. */
  abstract runOf(read: Read): string[];
  /** Lets a source that did not finish (BYE, a bad line, a stop) clean up, e.g. run a generator's `finally`. */
  abstract close(): void | Promise<void>;

  /** True if the step is a line to send (checked); false once reading ends. */
  protected takes(step: IteratorResult<string>): step is IteratorYieldResult<string> {
    if (step.done === true || step.value === BYE) {
      this.done = step.done === true;
      this.bye = !this.done;
      this.ended = true;
      return false;
    }
    checkLine(step.value);
    return true;
  }

  protected fail(error: unknown): void {
    this.error = error;
    this.ended = true;
  }
}

class SyncLineReader extends LineReader {
  readonly waits = false;

  constructor(private readonly iterator: Iterator<string>) {
    super();
  }

  read(room: number): string[] {
    const run: string[] = [];
    try {
      while (run.length < room) {
        const step = this.iterator.next();
        if (!this.takes(step)) break;
        run.push(step.value);
      }
    } catch (error) {
      this.fail(error);
    }
    return run;
  }

  runOf(read: Read): string[] {
    return read as string[];
  }

  close(): void {
    if (!this.done) this.iterator.return?.();
  }
}

class AsyncLineReader extends LineReader {
  readonly waits = true;

  constructor(private readonly iterator: AsyncIterator<string>) {
    super();
  }

  read(): Promise<IteratorResult<string>> {
    return this.iterator.next();
  }

  runOf(read: Read): string[] {
    const step = read as IteratorResult<string>;
    try {
      // A one-line literal: an empty array's first push would allocate room for 17.
      if (this.takes(step)) return [step.value];
    } catch (error) {
      this.fail(error);
    }
    return [];
  }

  async close(): Promise<void> {
    if (!this.done) await this.iterator.return?.();
  }
}

/**
 * One pipeline's state, between the pump (which sends the source's lines as the window has
 * room) and the consumer's loop in {@link replyBatches} (which takes the replies from the sink).
 */
class Pipeline {
  readonly sink = new PipelineSink();
  /** The pump has stopped: the source ended or failed, or the pipeline is over. */
  pumpDone = false;
  /** Why the pump stopped early (the source failed, the client closed), thrown after the replies before it. */
  pumpError: unknown;
  private pumpWaiting: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private readonly onAbort = (): void => {
    this.sink.abort(new AbortedError(this.connection.address, { cause: this.signal?.reason }));
  };

  constructor(
    private readonly connection: Connection,
    private readonly reader: LineReader,
    private readonly window: number,
    private readonly timeout: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Listens for an abort and for the connection's loss, starts the timeout, and starts the pump. */
  start(): void {
    const signal = this.signal;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.onAbort();
    this.stopListening = this.connection.onClose((error) => this.sink.fail(error));
    if (this.timeout > 0) this.timer = setTimeout(this.checkProgress, this.timeout).unref();
    void this.pump().then(
      () => this.pumpStopped(),
      (error: unknown) => {
        this.pumpError = error;
        this.pumpStopped();
      },
    );
  }

  /** The consumer took replies: a pump waiting for room in the window goes on. */
  wake(): void {
    const wake = this.pumpWaiting;
    if (wake !== undefined && this.sink.inFlight < this.window) {
      this.pumpWaiting = undefined;
      wake();
    }
  }

  /** The consumer is gone: replies still owed are dropped, and the pump stops. */
  end(): void {
    this.sink.abandoned = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stopListening?.();
    // Not awaited: the pump may be blocked reading a slow source; it stops at its next line.
    this.pumpWaiting?.();
  }

  private stopped(): boolean {
    const sink = this.sink;
    return sink.abortError !== undefined || sink.error !== undefined || sink.abandoned;
  }

  /** Resolves once the consumer made room (true) or the pipeline is over (false). */
  private roomLater(): Promise<boolean> {
    return new Promise<void>((resolve) => {
      this.pumpWaiting = resolve;
    }).then(() => !this.stopped());
  }

  /** Sends the source's lines, a run at a time, while the window has room. */
  private async pump(): Promise<void> {
    const { connection, reader, sink } = this;
    try {
      while (!this.stopped() && (sink.inFlight < this.window || (await this.roomLater()))) {
        connection.checkOpen();
        const read = reader.read(this.window - sink.inFlight);
        // A synchronous run goes out in this turn: after an await, its write would wait for
        // the consumer to handle the replies it was just given, and the server for the write.
        const run = reader.runOf(reader.waits ? await read : (read as Read));
        // Reading may have waited: the pipeline may be over, or the client closing.
        if (this.stopped()) return;
        // The lines before a bad one still go, and get their replies.
        if (run.length > 0) {
          connection.checkOpen();
          sink.sent(run.length);
          connection.sendMany(run, sink);
        }
        if (reader.ended) {
          if (reader.error !== undefined) throw reader.error;
          return;
        }
      }
    } finally {
      await reader.close();
    }
  }

  private pumpStopped(): void {
    this.pumpDone = true;
    this.sink.notify();
  }

  /** The no-progress timeout: fails the pipeline once no reply came for `timeout` while one was owed. */
  private readonly checkProgress = (): void => {
    this.timer = undefined;
    if (this.stopped()) return;
    const { sink, timeout } = this;
    const quietFor = Date.now() - Math.max(this.connection.lastDataAt, sink.waitingSince);
    if (sink.outstanding > 0 && quietFor >= timeout) {
      sink.fail(new CommTimeoutError('reply', this.connection.address, timeout));
      return;
    }
    this.timer = setTimeout(this.checkProgress, sink.outstanding > 0 ? timeout - quietFor : timeout).unref();
  };
}

/** `CommClient.pipelineBatches()` on the client's connection. */
export async function* replyBatches(
  connection: Connection,
  lines: AsyncIterable<string> | Iterable<string>,
  options: PipelineOptions,
): AsyncGenerator<string[], void, undefined> {
  const window = options.window ?? DEFAULT_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new InvalidOptionError(`window must be a whole number of lines >= 1, got ${String(window)}`);
  }
  if (typeof lines === 'string' || lines === null || typeof lines !== 'object') {
    throw new InvalidOptionError('lines must be an iterable of strings, such as an array or a generator');
  }
  const timeout = checkMilliseconds(options.timeout, 'timeout', connection.timeout);
  connection.checkOpen();
  const reader =
    Symbol.asyncIterator in lines
      ? new AsyncLineReader(lines[Symbol.asyncIterator]())
      : new SyncLineReader(lines[Symbol.iterator]());
  const pipeline = new Pipeline(connection, reader, window, timeout, options.signal);
  const sink = pipeline.sink;
  pipeline.start();
  try {
    for (;;) {
      if (sink.abortError !== undefined) throw sink.abortError;
      if (sink.buffered > 0) {
        const { replies, error } = sink.takeAll();
        pipeline.wake();
        if (replies.length > 0) yield replies;
        if (error !== undefined) throw error;
        continue;
      }
      if (sink.error !== undefined) throw sink.error;
      if (pipeline.pumpDone && sink.inFlight === 0) {
        if (pipeline.pumpError !== undefined) throw pipeline.pumpError;
        break;
      }
      await sink.changed();
    }
    if (reader.bye) await connection.close();
  } finally {
    pipeline.end();
  }
}

/**
 * `CommClient.pipeline()`: the replies of `batches` one at a time. Hand-written rather than an
 * async generator: one resolved promise per reply, where a generator's yield costs several
 * turns of the microtask queue.
 */
export function flatten(batches: AsyncGenerator<string[], void, undefined>): AsyncIterableIterator<string> {
  let batch: string[] = [];
  let index = 0;
  let fetching: Promise<IteratorResult<string, undefined>> | undefined;
  const iterator: AsyncIterableIterator<string> = {
    next(): Promise<IteratorResult<string, undefined>> {
      if (index < batch.length) return Promise.resolve({ value: batch[index++] as string, done: false });
      if (fetching !== undefined) return fetching.then(() => iterator.next());
      fetching = batches.next().then((step): IteratorResult<string, undefined> => {
        fetching = undefined;
        if (step.done === true) return { value: undefined, done: true };
        batch = step.value;
        index = 1;
        return { value: batch[0] as string, done: false };
      });
      return fetching;
    },
    async return(): Promise<IteratorResult<string, undefined>> {
      batch = [];
      await batches.return(undefined);
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator](): AsyncIterableIterator<string> {
      return iterator;
    },
  };
  return iterator;
}
