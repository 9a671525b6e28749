// The worker thread of @comm/server-threaded: loads the handler module, then serves connections
// (`transfer`, `reuse-port`) or answers batches of lines (`main-thread-io`). Built as its own
// file (dist/worker.js) and started by the pool with `new Worker(url, { workerData })`.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { errorReply } from '@comm/protocol';
import {
  ConnectionTally,
  HandlerFailedError,
  NO_COUNTS,
  conversationConfig,
  isThenable,
  loadHandlerModule,
  prepareSocket,
  serveConnection,
  type ConnectionContext,
  type Conversation,
  type ConversationConfig,
  type HandlerLoadError,
  type HandlerModule,
  type LineHandler,
} from '@comm/server-core';
import { serializeError } from './errors.js';
import { nextConnectionId, peerOf, type FromWorker, type PeerInfo, type ToWorker, type WorkerInit } from './messages.js';

type State = Record<string, unknown>;

const init = workerData as WorkerInit;
const port = parentPort as NonNullable<typeof parentPort>;
const post = (message: FromWorker): void => port.postMessage(message);
const connectionIds = new BigInt64Array(init.connectionIds);
/** How long a failing worker waits for its connections to close before it exits anyway. */
const FAILING_GRACE_MS = Math.max(1000, Math.min(init.limits.lingerTimeout + 1000, 5000));


function reportHandlerError(connectionId: number, message: string, cause: unknown): void {
  post({ type: 'handler-error', connectionId, message, cause: serializeError(cause) });
}

/** A reply that would not survive `postMessage`, or is no reply at all. */
function notAString(reply: unknown): TypeError {
  return new TypeError(`reply must be a string, got ${reply === null ? 'null' : typeof reply}`);
}

const HANDLER_FAILED_REPLY = errorReply(new HandlerFailedError());

/**
 * `transfer` and `reuse-port`: this thread owns its sockets and runs the whole conversation for
 * each, as the chapter's `ClientThread` does.
 */
class ConnectionServer {
  private readonly tally = new ConnectionTally();
  private readonly config: ConversationConfig<State>;
  /** Rejecters of handler promises in flight, so a failing worker can answer their lines. */
  private readonly inFlight = new Set<(error: unknown) => void>();
  private listener: net.Server | undefined = undefined;
  private shuttingDown = false;
  private failing = false;

  constructor(module: HandlerModule<State> | undefined) {
    this.config = conversationConfig<State>({
      ...init.limits,
      handler: module && this.track(module.handler),
      setup: module?.setup,
      onClose: (conversation) => this.closed(conversation),
      onHandlerError: (error, context) => reportHandlerError(context.connectionId, error.message, error.cause),
    });
  }

  /** Keeps hold of each handler promise so that {@link fail} can settle it. */
  private track(handler: LineHandler<State>): LineHandler<State> {
    const inFlight = this.inFlight;
    return (line, context) => {
      const reply = handler(line, context);
      if (typeof reply === 'string' || !isThenable(reply)) return reply;
      return new Promise<string>((resolve, reject) => {
        inFlight.add(reject);
        reply.then(
          (value) => {
            inFlight.delete(reject);
            resolve(value);
          },
          (error: unknown) => {
            inFlight.delete(reject);
            reject(error);
          },
        );
      });
    };
  }

  serve(socket: net.Socket, peer: PeerInfo): void {
    prepareSocket(socket, init.listen);
    const conversation = serveConnection(socket, this.config, { connectionId: peer.connectionId, peer });
    this.tally.opened(conversation as Conversation<never>);
    if (this.shuttingDown) void conversation.close();
  }

  listen(host: string, portNumber: number): void {
    const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      if (this.shuttingDown) {
        socket.destroy();
        return;
      }
      const peer = peerOf(socket, nextConnectionId(connectionIds));
      post({ type: 'connection', peer });
      this.serve(socket, peer);
    });
    this.listener = listener;
    const onError = (error: Error): void => post({ type: 'listen-failed', error: serializeError(error) });
    listener.once('error', onError);
    // `reusePort` is not in Node 20's types; the pool only picks this mechanism where it works.
    const options = { host, port: portNumber, ipv6Only: init.listen.ipv6Only, backlog: init.listen.backlog, reusePort: true };
    listener.listen(options as net.ListenOptions, () => {
      listener.off('error', onError);
      // Accept errors (EMFILE) must not end the thread; the kernel keeps the connection queued.
      listener.on('error', () => {});
      post({ type: 'listening' });
    });
  }

  counts(): ReturnType<ConnectionTally['counts']> {
    return this.tally.counts();
  }

  /** R17 for this thread: stop accepting, answer what was received, close each connection. */
  shutdown(): void {
    this.shuttingDown = true;
    this.listener?.close();
    for (const conversation of [...this.tally.conversations()]) void conversation.close();
    this.drainedYet();
  }

  /**
   * An uncaught exception: the thread's state can no longer be trusted. Lines waiting for a
   * handler promise are answered `ERR COMM_HANDLER_FAILED`, every connection is closed
   * gracefully, and the thread exits so the pool replaces it.
   */
  fail(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.shuttingDown = true;
    post({ type: 'fatal', error: serializeError(error) });
    this.listener?.close();
    for (const reject of [...this.inFlight]) reject(error);
    this.inFlight.clear();
    const closing = [...this.tally.conversations()].map((conversation) => conversation.close());
    const grace = setTimeout(() => process.exit(1), FAILING_GRACE_MS);
    void Promise.all(closing).then(() => {
      clearTimeout(grace);
      process.exit(1);
    });
  }

  private closed(conversation: Conversation<State>): void {
    this.tally.closed(conversation as Conversation<never>);
    post({ type: 'closed', connectionId: conversation.connectionId });
    this.drainedYet();
  }

  private drainedYet(): void {
    if (this.shuttingDown && !this.failing && this.tally.openCount === 0) {
      post({ type: 'drained', counts: this.tally.counts() });
    }
  }
}

/** `main-thread-io`: what the handler sees of a connection whose socket stays on the main thread. */
class RemoteConnection implements ConnectionContext<State> {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  private userState: State | undefined = undefined;

  constructor(peer: PeerInfo) {
    this.connectionId = peer.connectionId;
    this.remoteAddress = peer.remoteAddress;
    this.remotePort = peer.remotePort;
    this.remoteFamily = peer.remoteFamily;
  }

  get state(): State {
    return (this.userState ??= {});
  }

  set state(value: State) {
    this.userState = value;
  }
}

/**
 * `main-thread-io`: the main thread reads and writes; this thread keeps each connection's
 * context and answers one message per read with one message of replies.
 */
class BatchAnswerer {
  private readonly connections = new Map<number, RemoteConnection>();
  private readonly handler: LineHandler<State>;
  /** Replies not yet posted: all those ready in one turn go back in one message. */
  private repliedIds: number[] = [];
  private replies: string[][] = [];

  constructor(private readonly module: HandlerModule<State> | undefined) {
    this.handler = module?.handler ?? ((line) => line);
  }

  open(peer: PeerInfo): void {
    const connection = new RemoteConnection(peer);
    this.connections.set(peer.connectionId, connection);
    const setup = this.module?.setup;
    if (setup === undefined) return;
    const opened = (): void => post({ type: 'opened', connectionId: peer.connectionId });
    const failed = (error: unknown): void => post({ type: 'opened', connectionId: peer.connectionId, error: serializeError(error) });
    try {
      const ready = setup(connection);
      if (isThenable(ready)) ready.then(opened, failed);
      else opened();
    } catch (error) {
      failed(error);
    }
  }

  forget(connectionId: number): void {
    this.connections.delete(connectionId);
  }

  /** Calls the handler line by line, in order, one at a time; replies once for the whole batch. */
  answer(connectionId: number, lines: string[]): void {
    if (this.module === undefined) {
      // Echo: the replies are the lines, and no context was kept for the connection.
      this.reply(connectionId, lines);
      return;
    }
    const connection = this.connections.get(connectionId) ?? new RemoteConnection({ connectionId, remoteAddress: '', remotePort: 0, remoteFamily: '' });
    const handler = this.handler;
    const replies = lines;
    const failed = (error: unknown): string => {
      reportHandlerError(connectionId, 'handler failed', error);
      return HANDLER_FAILED_REPLY;
    };
    const settle = (value: unknown): string => (typeof value === 'string' ? value : failed(notAString(value)));
    const step = (start: number): void => {
      for (let i = start; i < lines.length; i++) {
        let reply: unknown;
        try {
          reply = handler(lines[i] as string, connection);
        } catch (error) {
          replies[i] = failed(error);
          continue;
        }
        if (typeof reply === 'string') {
          replies[i] = reply;
        } else if (isThenable(reply)) {
          reply.then(
            (value) => {
              replies[i] = settle(value);
              step(i + 1);
            },
            (error: unknown) => {
              replies[i] = failed(error);
              step(i + 1);
            },
          );
          return;
        } else {
          replies[i] = failed(notAString(reply));
        }
      }
      this.reply(connectionId, replies);
    };
    step(0);
  }

  private reply(connectionId: number, replies: string[]): void {
    this.repliedIds.push(connectionId);
    this.replies.push(replies);
    if (this.repliedIds.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    post({ type: 'replies', connectionIds: this.repliedIds, replies: this.replies });
    this.repliedIds = [];
    this.replies = [];
  }
}

async function main(): Promise<void> {
  let module: HandlerModule<State> | undefined;
  try {
    module = init.handlerUrl === undefined ? undefined : await loadHandlerModule<State>(init.handlerUrl);
  } catch (error) {
    const loadError = error as HandlerLoadError;
    post({
      type: 'load-failed',
      reason: loadError.reason ?? String(error),
      cause: loadError.cause === undefined ? undefined : serializeError(loadError.cause),
    });
    port.close();
    return;
  }

  if (init.mechanism === 'main-thread-io') {
    const answerer = new BatchAnswerer(module);
    // The sockets live on the main thread; this thread has nothing to close, so it goes at once.
    process.on('uncaughtException', (error) => {
      post({ type: 'fatal', error: serializeError(error) });
      process.exit(1);
    });
    port.on('message', (message: ToWorker) => {
      switch (message.type) {
        case 'batches':
          for (let i = 0; i < message.connectionIds.length; i++) {
            answerer.answer(message.connectionIds[i] as number, message.lines[i] as string[]);
          }
          break;
        case 'open':
          answerer.open(message.peer);
          break;
        case 'forget':
          answerer.forget(message.connectionId);
          break;
        case 'shutdown':
          // The main thread counts this mechanism's connections itself.
          post({ type: 'drained', counts: NO_COUNTS });
          break;
        default:
          break;
      }
    });
  } else {
    const server = new ConnectionServer(module);
    process.on('uncaughtException', (error) => server.fail(error));
    port.on('message', (message: ToWorker) => {
      switch (message.type) {
        case 'socket':
          server.serve(message.socket, message.peer);
          break;
        case 'listen':
          server.listen(message.host, message.port);
          break;
        case 'stats':
          post({ type: 'stats', requestId: message.requestId, counts: server.counts() });
          break;
        case 'shutdown':
          server.shutdown();
          break;
        default:
          break;
      }
    });
  }
  post({ type: 'ready', hasSetup: module?.setup !== undefined });
}

void main();
