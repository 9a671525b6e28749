// How the lines of one read are answered. A conversation's strategy is chosen once, when its
// config is made (echo, a handler per line, or a batch answerer), never by an `if` per read.
import { errorReply, type DecodedItem } from '@comm/protocol';
import type { BatchAnswerer, ConnectionContext, LineHandler } from './context.js';
import { isThenable } from './util.js';

const CR = 0x0d;

/** What a strategy needs of its conversation. */
export interface Answering<State> extends ConnectionContext<State> {
  /** Reports a handler failure and gives the `ERR COMM_HANDLER_FAILED` reply for its line. */
  handlerFailed(cause: unknown): string;
  /** Stops reading while a reply is awaited, so queued input stays bounded. */
  suspend(): void;
  /** Writes one batch of replies in one write, then decides whether to read on. */
  send(replies: string[], bye: boolean, final: boolean): void;
}

/**
 * Answers `items` (lines, and the decoder's errors in their places) and ends with exactly one
 * `send` of one reply per item. `bye`/`final` are passed on to `send`.
 */
export type AnswerStrategy<State> = (conversation: Answering<State>, items: DecodedItem[], bye: boolean, final: boolean) => void;

/** A reply must be one line: a string with no LF, and no CR at its end (it would read as CRLF). */
function isOneLine(reply: unknown): reply is string {
  return (
    typeof reply === 'string' && reply.indexOf('\n') === -1 && (reply.length === 0 || reply.charCodeAt(reply.length - 1) !== CR)
  );
}

function notOneLine(reply: unknown): Error {
  return new TypeError(
    typeof reply === 'string'
      ? 'reply is not one line: it contains LF or ends with CR'
      : `reply must be a string, got ${reply === null ? 'null' : typeof reply}`,
  );
}

/** R9's reference behaviour: the reply is the line. */
export function echoStrategy<State>(conversation: Answering<State>, items: DecodedItem[], bye: boolean, final: boolean): void {
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as DecodedItem;
    if (typeof item !== 'string') items[i] = errorReply(item);
    // A line may end in a CR that is data (`a\r\r\n`, or a last line without LF); sent back,
    // it would read as CRLF and vanish, so it cannot be echoed.
    else if (item.length > 0 && item.charCodeAt(item.length - 1) === CR) items[i] = conversation.handlerFailed(notOneLine(item));
  }
  conversation.send(items as string[], bye, final);
}

/** Calls `handler` for each line in order, one at a time; suspends on the first promise. */
export function handlerStrategy<State>(handler: LineHandler<State>): AnswerStrategy<State> {
  const answerFrom = (
    conversation: Answering<State>,
    items: DecodedItem[],
    start: number,
    bye: boolean,
    final: boolean,
  ): void => {
    for (let i = start; i < items.length; i++) {
      const item = items[i] as DecodedItem;
      if (typeof item !== 'string') {
        items[i] = errorReply(item);
        continue;
      }
      let reply: string | PromiseLike<string>;
      try {
        reply = handler(item, conversation);
      } catch (error) {
        items[i] = conversation.handlerFailed(error);
        continue;
      }
      if (isOneLine(reply)) {
        items[i] = reply;
      } else if (isThenable(reply)) {
        conversation.suspend();
        reply.then(
          (value) => {
            items[i] = isOneLine(value) ? value : conversation.handlerFailed(notOneLine(value));
            answerFrom(conversation, items, i + 1, bye, final);
          },
          (error: unknown) => {
            items[i] = conversation.handlerFailed(error);
            answerFrom(conversation, items, i + 1, bye, final);
          },
        );
        return;
      } else {
        items[i] = conversation.handlerFailed(notOneLine(reply));
      }
    }
    conversation.send(items as string[], bye, final);
  };
  return (conversation, items, bye, final) => answerFrom(conversation, items, 0, bye, final);
}

/** Hands all the lines of one read to `answerBatch` in one call (the threaded server's main-thread-io). */
export function batchStrategy<State>(answerBatch: BatchAnswerer<State>): AnswerStrategy<State> {
  const fail = (conversation: Answering<State>, count: number, error: unknown): string[] =>
    new Array<string>(count).fill(conversation.handlerFailed(error));

  const check = (conversation: Answering<State>, replies: unknown, count: number): readonly string[] => {
    if (!Array.isArray(replies) || replies.length !== count) {
      return fail(conversation, count, new TypeError(`answerBatch must return ${count} replies`));
    }
    const checked = replies as string[];
    for (let i = 0; i < count; i++) {
      if (!isOneLine(checked[i])) checked[i] = conversation.handlerFailed(notOneLine(checked[i]));
    }
    return checked;
  };

  /** Puts the batch's replies into the places of the lines, beside the decoder's error replies. */
  const place = (
    conversation: Answering<State>,
    items: DecodedItem[],
    replies: readonly string[],
    bye: boolean,
    final: boolean,
  ): void => {
    let next = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as DecodedItem;
      items[i] = typeof item === 'string' ? (replies[next++] as string) : errorReply(item);
    }
    conversation.send(items as string[], bye, final);
  };

  return (conversation, items, bye, final) => {
    const lines: string[] = [];
    for (const item of items) if (typeof item === 'string') lines.push(item);
    if (lines.length === 0) {
      place(conversation, items, lines, bye, final);
      return;
    }
    let replies: readonly string[] | PromiseLike<readonly string[]>;
    try {
      replies = answerBatch(lines, conversation);
    } catch (error) {
      place(conversation, items, fail(conversation, lines.length, error), bye, final);
      return;
    }
    if (!isThenable(replies)) {
      place(conversation, items, check(conversation, replies, lines.length), bye, final);
      return;
    }
    conversation.suspend();
    replies.then(
      (value) => place(conversation, items, check(conversation, value, lines.length), bye, final),
      (error: unknown) => place(conversation, items, fail(conversation, lines.length, error), bye, final),
    );
  };
}
