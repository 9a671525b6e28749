import { InvalidUtf8Error, LineTooLongError, type CommError, type DecodedItem, type LineError } from '@comm/protocol';
import { AbortedError } from './errors.js';

/** Something waiting for replies, in the order the lines were sent: one, or a run of them (a pipeline). */
export interface ReplySlot {
  /** Takes the replies `items[start, end)`, all of them this slot's; `address` names the server in errors. */
  receive(items: DecodedItem[], start: number, end: number, address: string): void;
  fail(error: CommError): void;
}

/** A reply error for the line it answers: the message names the server. */
function replyError(item: LineError, address: string): LineError {
  if (item instanceof LineTooLongError) {
    return new LineTooLongError(item.maxLineLength, `reply line too long: more than ${item.maxLineLength} bytes from ${address}`);
  }
  return new InvalidUtf8Error(`invalid utf-8 in reply from ${address}`);
}

/** One `request()`: settles once, and after that a late reply is dropped. */
export class PendingRequest implements ReplySlot {
  settled = false;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  readonly onAbort = (): void => {
    this.fail(new AbortedError(this.address, { cause: this.signal?.reason }));
  };

  constructor(
    private readonly address: string,
    private readonly resolve: (reply: string) => void,
    private readonly reject: (error: CommError) => void,
  ) {}

  receive(items: DecodedItem[], start: number, _end: number, address: string): void {
    const item = items[start] as DecodedItem;
    if (typeof item === 'string') this.settle(() => this.resolve(item));
    else this.fail(replyError(item, address));
  }

  fail(error: CommError): void {
    this.settle(() => this.reject(error));
  }

  private settle(action: () => void): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    action();
  }
}

/** The shared slot of every line one `pipeline()` sent: replies queue here for its consumer. */
export class PipelineSink implements ReplySlot {
  /** Sent, reply not arrived. */
  outstanding = 0;
  /** Sent, reply not yet taken by the consumer: what the window bounds. */
  inFlight = 0;
  /** When `outstanding` last went from 0 to 1, for the no-progress timeout. */
  waitingSince = 0;
  /** The consumer is gone: replies still owed are read and dropped. */
  abandoned = false;
  /** A failure of the whole pipeline (connection lost, timeout), thrown once the replies before it are taken. */
  error: CommError | undefined;
  /** Thrown at once: the caller asked to stop. */
  abortError: CommError | undefined;
  /** Replies, and reply errors (R7, R8) in the place of their reply. */
  private replies: Array<string | CommError> = [];
  private errorsBuffered = 0;
  private head = 0;
  private wake: (() => void) | undefined;

  get buffered(): number {
    return this.replies.length - this.head;
  }

  /** Counts `count` more lines sent to this slot. */
  sent(count: number): void {
    if (this.outstanding === 0) this.waitingSince = Date.now();
    this.outstanding += count;
    this.inFlight += count;
  }

  receive(items: DecodedItem[], start: number, end: number, address: string): void {
    this.outstanding -= end - start;
    if (this.abandoned) return;
    for (let index = start; index < end; index++) {
      const item = items[index] as DecodedItem;
      if (typeof item !== 'string') {
        items[index] = replyError(item, address);
        this.errorsBuffered++;
      }
    }
    if (this.head === this.replies.length && start === 0 && end === items.length) {
      // The usual case when streaming: a whole read's replies become the next batch, uncopied.
      this.replies = items as Array<string | CommError>;
      this.head = 0;
    } else {
      for (let index = start; index < end; index++) this.replies.push(items[index] as string | CommError);
    }
    this.notify();
  }

  fail(error: CommError): void {
    if (this.error === undefined && !this.abandoned) this.error = error;
    this.notify();
  }

  abort(error: CommError): void {
    this.abortError ??= error;
    this.notify();
  }

  /**
   * Takes every reply that has arrived, up to the first reply error (which is taken too and
   * returned apart, so the replies before it are not lost).
   */
  takeAll(): { replies: string[]; error: CommError | undefined } {
    const all = this.replies;
    let end = all.length;
    if (this.errorsBuffered > 0) {
      end = this.head;
      while (end < all.length && typeof all[end] === 'string') end++;
    }
    const replies = (this.head === 0 && end === all.length ? all : all.slice(this.head, end)) as string[];
    let error: CommError | undefined;
    if (end < all.length) {
      error = all[end++] as CommError;
      this.errorsBuffered--;
    }
    this.inFlight -= end - this.head;
    if (end === all.length) {
      this.replies = [];
      this.head = 0;
    } else {
      this.head = end;
    }
    return { replies, error };
  }

  /** Resolves at the next reply, error, or {@link notify}. */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  notify(): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
  }
}

/** The `BYE` line's slot: its reply means every earlier reply has arrived (R10). */
export class ByeSlot implements ReplySlot {
  constructor(
    private readonly onReply: (reply: string | CommError) => void,
    private readonly reject: (error: CommError) => void,
  ) {}

  receive(items: DecodedItem[], start: number, _end: number, address: string): void {
    const item = items[start] as DecodedItem;
    // Even a bad reply is the BYE's reply: every earlier one has arrived and the server closes.
    this.onReply(typeof item === 'string' ? item : replyError(item, address));
  }

  fail(error: CommError): void {
    this.reject(error);
  }
}

/**
 * The slots in the order of their lines, run-length encoded: the lines of one pipeline that
 * follow each other share one entry, so streaming costs no entry per line.
 */
export class SlotQueue {
  private slots: Array<ReplySlot | undefined> = [];
  private counts: number[] = [];
  private head = 0;
  private total = 0;

  /** Replies owed, over all slots. */
  get length(): number {
    return this.total;
  }

  /** Queues `count` replies for `slot`, after every reply queued before. */
  push(slot: ReplySlot, count = 1): void {
    const last = this.slots.length - 1;
    if (last >= this.head && this.slots[last] === slot) this.counts[last]! += count;
    else {
      this.slots.push(slot);
      this.counts.push(count);
    }
    this.total += count;
  }

  /** The slot the next reply belongs to, and how many replies in a row are its. */
  peek(): { slot: ReplySlot; count: number } | undefined {
    const slot = this.slots[this.head];
    return slot === undefined ? undefined : { slot, count: this.counts[this.head] as number };
  }

  /** Marks `count` replies of the head slot as delivered. */
  consume(count: number): void {
    this.total -= count;
    const left = (this.counts[this.head] as number) - count;
    this.counts[this.head] = left;
    if (left > 0) return;
    this.slots[this.head++] = undefined;
    if (this.head === this.slots.length) {
      this.slots.length = 0;
      this.counts.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }

  /** Empties the queue and returns each slot that was waiting, once. */
  drain(): ReplySlot[] {
    const rest = this.slots.slice(this.head) as ReplySlot[];
    this.slots = [];
    this.counts = [];
    this.head = 0;
    this.total = 0;
    return rest;
  }
}
