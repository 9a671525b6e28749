import { errorReply } from '@comm/protocol';
import {
  HandlerFailedError,
  isThenable,
  type ConnectionContext,
  type HandlerModule,
  type LineHandler,
  type ProxyInfo,
} from '@comm/server-core';
import { serializeError } from '../errors.js';
import type { PeerInfo } from '../messages.js';
import { reportHandlerError, type WorkerPort } from './port.js';

type State = Record<string, unknown>;

const HANDLER_FAILED_REPLY = errorReply(new HandlerFailedError());

/** A reply that would not survive `postMessage`, or is no reply at all. */
function notAString(reply: unknown): TypeError {
  return new TypeError(`reply must be a string, got ${reply === null ? 'null' : typeof reply}`);
}

/** `main-thread-io`: what the handler sees of a connection whose socket stays on the main thread. */
class RemoteConnection implements ConnectionContext<State> {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  /** The balancer and its PROXY header, when the connection came through one. */
  readonly proxy: ProxyInfo | undefined;
  private userState: State | undefined = undefined;

  constructor(peer: PeerInfo, proxy?: ProxyInfo) {
    this.connectionId = peer.connectionId;
    this.remoteAddress = peer.remoteAddress;
    this.remotePort = peer.remotePort;
    this.remoteFamily = peer.remoteFamily;
    this.proxy = proxy;
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
export class BatchAnswerer {
  private readonly connections = new Map<number, RemoteConnection>();
  private readonly handler: LineHandler<State>;
  /** Replies not yet posted: all those ready in one turn go back in one message. */
  private repliedIds: number[] = [];
  private replies: string[][] = [];

  constructor(
    private readonly port: WorkerPort,
    private readonly module: HandlerModule<State> | undefined,
  ) {
    this.handler = module?.handler ?? ((line) => line);
  }

  open(peer: PeerInfo, proxy: ProxyInfo | undefined): void {
    const connection = new RemoteConnection(peer, proxy);
    this.connections.set(peer.connectionId, connection);
    const setup = this.module?.setup;
    if (setup === undefined) return;
    const opened = (): void => this.port.post({ type: 'opened', connectionId: peer.connectionId });
    const failed = (error: unknown): void =>
      this.port.post({ type: 'opened', connectionId: peer.connectionId, error: serializeError(error) });
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
    const connection =
      this.connections.get(connectionId) ??
      new RemoteConnection({ connectionId, remoteAddress: '', remotePort: 0, remoteFamily: '' });
    const handler = this.handler;
    const replies = lines;
    const failed = (error: unknown): string => {
      reportHandlerError(this.port, connection, 'handler failed', error);
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
    this.port.post({ type: 'replies', connectionIds: this.repliedIds, replies: this.replies });
    this.repliedIds = [];
    this.replies = [];
  }
}
