import net from 'node:net';
import {
  ConnectionTally,
  conversationConfig,
  isThenable,
  prepareSocket,
  serveConnection,
  type ConnectionCounts,
  type Conversation,
  type ConversationConfig,
  type HandlerModule,
  type LineHandler,
} from '@comm/server-core';
import { serializeError } from '../errors.js';
import { acceptedPeer, closedInfo, type PeerInfo } from '../messages.js';
import { reportHandlerError, type WorkerPort } from './port.js';

type State = Record<string, unknown>;

/**
 * `transfer` and `reuse-port`: this thread owns its sockets and runs the whole conversation for
 * each, as the chapter's `ClientThread` does.
 */
export class ConnectionServer {
  private readonly tally = new ConnectionTally();
  private readonly config: ConversationConfig<State>;
  private readonly connectionIds: BigInt64Array;
  /** How long a failing worker waits for its connections to close before it exits anyway. */
  private readonly failingGrace: number;
  /** Rejecters of handler promises in flight, so a failing worker can answer their lines. */
  private readonly inFlight = new Set<(error: unknown) => void>();
  private listener: net.Server | undefined = undefined;
  private shuttingDown = false;
  private failing = false;

  constructor(
    private readonly port: WorkerPort,
    module: HandlerModule<State> | undefined,
  ) {
    const { limits, connectionIds } = port.init;
    this.connectionIds = new BigInt64Array(connectionIds);
    this.failingGrace = Math.max(1000, Math.min(limits.lingerTimeout + 1000, 5000));
    this.config = conversationConfig<State>({
      ...limits,
      handler: module && this.track(module.handler),
      setup: module?.setup,
      onClose: (conversation) => this.closed(conversation),
      onHandlerError: (error, context) => reportHandlerError(port, context, error.message, error.cause),
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
    prepareSocket(socket, this.port.init.listen);
    const conversation = serveConnection(socket, this.config, { connectionId: peer.connectionId, peer });
    this.tally.opened(conversation as Conversation<never>);
    if (this.shuttingDown) void conversation.close();
  }

  /** `reuse-port`: accepts here, on the address the main thread checked, beside the other workers. */
  listen(host: string, portNumber: number): void {
    const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      const peer = this.shuttingDown ? undefined : acceptedPeer(socket, this.connectionIds);
      if (peer === undefined) {
        socket.destroy();
        return;
      }
      this.port.post({ type: 'connection', peer });
      this.serve(socket, peer);
    });
    this.listener = listener;
    const onError = (error: Error): void => this.port.post({ type: 'listen-failed', error: serializeError(error) });
    listener.once('error', onError);
    const { ipv6Only, backlog } = this.port.init.listen;
    // `reusePort` is not in Node 20's types; the pool only picks this mechanism where it works.
    const options = { host, port: portNumber, ipv6Only, backlog, reusePort: true };
    listener.listen(options as net.ListenOptions, () => {
      listener.off('error', onError);
      // Accept errors (EMFILE) must not end the thread; the kernel keeps the connection queued.
      listener.on('error', () => {});
      this.port.post({ type: 'listening' });
    });
  }

  counts(): ConnectionCounts {
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
    this.port.post({ type: 'fatal', error: serializeError(error) });
    this.listener?.close();
    for (const reject of [...this.inFlight]) reject(error);
    this.inFlight.clear();
    const closing = [...this.tally.conversations()].map((conversation) => conversation.close());
    const grace = setTimeout(() => process.exit(1), this.failingGrace);
    void Promise.all(closing).then(() => {
      clearTimeout(grace);
      process.exit(1);
    });
  }

  private closed(conversation: Conversation<State>): void {
    this.tally.closed(conversation as Conversation<never>);
    this.port.post({ type: 'closed', info: closedInfo(conversation as Conversation<never>) });
    this.drainedYet();
  }

  private drainedYet(): void {
    if (this.shuttingDown && !this.failing && this.tally.openCount === 0) {
      this.port.post({ type: 'drained', counts: this.tally.counts() });
    }
  }
}
