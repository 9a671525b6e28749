import { InvalidOptionError } from '@comm/protocol';
import { resolveOptions } from '@comm/protocol/options';
import { batchStrategy, echoStrategy, handlerStrategy, type AnswerStrategy } from './answer.js';
import type { BatchAnswerer, ConnectionSetup, HandlerErrorHook, LineHandler } from './context.js';
import type { Conversation } from './conversation.js';
import { CONVERSATION_OPTIONS, type ConversationLimits } from './options.js';
import { threadSweep, type DeadlineSweep } from './sweep.js';

/** Options of a conversation: its handler, its limits and its hooks. One object serves every connection. */
export interface ConversationOptions<State = Record<string, unknown>> extends Partial<ConversationLimits> {
  /** Answers each line. Default: echo (the reply is the line, R9). */
  handler?: LineHandler<State>;
  /** Answers all lines of one read at once, instead of `handler` (used to hand a batch to a worker). */
  answerBatch?: BatchAnswerer<State>;
  /** Called once per connection before its first line is read, e.g. to set `context.state`. */
  setup?: ConnectionSetup<State>;
  /** Told about each handler or setup failure (the client only sees `ERR COMM_HANDLER_FAILED ...`). */
  onHandlerError?: HandlerErrorHook<State>;
  /** Called once when the connection's socket has closed. */
  onClose?: (conversation: Conversation<State>) => void;
  /** The sweep that watches the deadlines; default: one per thread. Tests pass their own to drive time. */
  sweep?: DeadlineSweep;
}

/**
 * Validated conversation options, built once and shared by every connection so that a
 * connection holds one pointer to them. Make one with {@link conversationConfig}.
 */
export interface ConversationConfig<State = Record<string, unknown>> extends Readonly<ConversationLimits> {
  readonly handler: LineHandler<State> | undefined;
  readonly answerBatch: BatchAnswerer<State> | undefined;
  readonly setup: ConnectionSetup<State> | undefined;
  readonly onHandlerError: HandlerErrorHook<State> | undefined;
  readonly onClose: ((conversation: Conversation<State>) => void) | undefined;
  /** No handler: replies are the lines, and the verbatim echo path applies. */
  readonly echoes: boolean;
  /** How the lines of a read are answered, chosen here once for every connection. */
  readonly answer: AnswerStrategy<State>;
  readonly sweep: DeadlineSweep;
  /** How often the deadline sweep runs for these timeouts, in ms. */
  readonly sweepInterval: number;
}

const validConfigs = new WeakSet<object>();

function checkFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`${name} must be a function, got ${typeof value}`);
  }
  return value;
}

/** A sweep often enough to fire a deadline within a tenth of it, never more often than every 10 ms. */
function sweepIntervalFor(...timeouts: number[]): number {
  const shortest = Math.min(...timeouts.filter((timeout) => timeout > 0));
  return Math.min(1000, Math.max(10, Math.floor(shortest / 10)));
}

/**
 * Validates conversation options once, for every connection that will use them.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a value out of range.
 * @example
 * ```ts
 * const config = conversationConfig({ handler: (line) => line.toUpperCase(), lineTimeout: 10_000 });
 * netServer.on('connection', (socket) => serveConnection(socket, config));
 * ```
 */
export function conversationConfig<State = Record<string, unknown>>(
  options: ConversationOptions<State> | ConversationConfig<State> = {},
): ConversationConfig<State> {
  if (validConfigs.has(options)) return options as ConversationConfig<State>;
  const handler = checkFunction(options.handler, 'handler');
  const answerBatch = checkFunction(options.answerBatch, 'answerBatch');
  if (handler && answerBatch) throw new InvalidOptionError('give handler or answerBatch, not both');
  const limits = resolveOptions(CONVERSATION_OPTIONS, options);
  const config: ConversationConfig<State> = {
    ...limits,
    handler,
    answerBatch,
    setup: checkFunction(options.setup, 'setup'),
    onHandlerError: checkFunction(options.onHandlerError, 'onHandlerError'),
    onClose: checkFunction(options.onClose, 'onClose'),
    echoes: handler === undefined && answerBatch === undefined,
    answer: answerBatch ? batchStrategy(answerBatch) : handler ? handlerStrategy(handler) : echoStrategy,
    sweep: options.sweep ?? threadSweep,
    sweepInterval: sweepIntervalFor(limits.lineTimeout, limits.idleTimeout, limits.lingerTimeout, 10_000),
  };
  Object.freeze(config);
  validConfigs.add(config);
  return config;
}
