import type { Socket } from 'node:net';
import {
  disconnectInfo,
  remotePeer,
  type ConnectionCounts,
  type ConnectionInfo,
  type Conversation,
  type ConversationLimits,
  type DisconnectInfo,
  type ListenConfig,
  type ProxyInfo,
} from '@comm/server-core';
import { serializeError, type SerializedError } from './errors.js';
import type { Mechanism } from './mechanism.js';

/** What a worker is started with (`workerData`). */
export interface WorkerInit {
  mechanism: Mechanism;
  /** The pool slot the worker fills. */
  thread: number;
  /** The handler module's URL; none means echo. */
  handlerUrl: string | undefined;
  limits: ConversationLimits;
  listen: ListenConfig;
  /** One 64-bit counter shared by every thread, so connection ids are unique across the pool. */
  connectionIds: SharedArrayBuffer;
}

/** Who a client is, as it crosses threads: the record every server event carries. */
export type PeerInfo = ConnectionInfo;

/** A conversation's `disconnect` record as it crosses threads: the error flattened, no thread yet. */
export type ClosedInfo = Omit<DisconnectInfo<PeerInfo>, 'error'> & { readonly error: SerializedError | undefined };

/** Main thread → worker. */
export type ToWorker =
  /** `transfer`: serve this socket. */
  | { type: 'socket'; socket: Socket; peer: PeerInfo }
  /** `reuse-port`: listen on this concrete address with `reusePort`. */
  | { type: 'listen'; host: string; port: number }
  /** `main-thread-io` with a handler module (echo keeps nothing per connection): a connection begins; run `setup` if the module has one and answer `opened`. */
  | { type: 'open'; peer: PeerInfo; proxy: ProxyInfo | undefined }
  /** `main-thread-io`: answer each connection's lines (those of one read), in order; `lines[i]` is `connectionIds[i]`'s. */
  | { type: 'batches'; connectionIds: number[]; lines: string[][] }
  /** `main-thread-io` with a handler module: the connection has closed; drop its state. */
  | { type: 'forget'; connectionId: number }
  | { type: 'stats'; requestId: number }
  /** Stop accepting, close every connection gracefully, then say `drained`. */
  | { type: 'shutdown' };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready'; hasSetup: boolean }
  | { type: 'load-failed'; reason: string; cause: SerializedError | undefined }
  | { type: 'listening' }
  | { type: 'listen-failed'; error: SerializedError }
  /** `reuse-port`: a connection was accepted here. */
  | { type: 'connection'; peer: PeerInfo }
  /** `transfer`, `reuse-port`: a connection served here has closed; how, for the `disconnect` event. */
  | { type: 'closed'; info: ClosedInfo }
  | { type: 'opened'; connectionId: number; error?: SerializedError }
  /** `main-thread-io`: the replies to batches, `replies[i]` for `connectionIds[i]`; several connections per message. */
  | { type: 'replies'; connectionIds: number[]; replies: string[][] }
  /** A handler or setup failure; the client got `ERR COMM_HANDLER_FAILED ...`. */
  | { type: 'handler-error'; connection: PeerInfo; message: string; cause: SerializedError }
  | { type: 'stats'; requestId: number; counts: ConnectionCounts }
  /** Every connection has closed after `shutdown`; the thread's final counters. */
  | { type: 'drained'; counts: ConnectionCounts }
  /** An uncaught exception: the worker closes its connections and exits. */
  | { type: 'fatal'; error: SerializedError };

/** The worker messages the pool handles itself. */
type PoolMessage = Extract<FromWorker, { type: 'ready' | 'load-failed' | 'fatal' | 'stats' }>;

/** The worker messages the pool passes on to the mechanism's driver. */
export type DriverMessage = Exclude<FromWorker, PoolMessage>;

/** The four fields of a connection record, without the rest of what carries them (a conversation, a context). */
export function connectionInfo({ connectionId, remoteAddress, remotePort, remoteFamily }: ConnectionInfo): PeerInfo {
  return { connectionId, remoteAddress, remotePort, remoteFamily };
}

/** The `closed` message's record of a conversation that has closed on a worker. */
export function closedInfo(conversation: Conversation<never>): ClosedInfo {
  const { error, ...info } = disconnectInfo(conversation);
  return { ...info, error: error === undefined ? undefined : serializeError(error) };
}

/** The next connection id, unique across the main thread and every worker. */
function nextConnectionId(counter: BigInt64Array): number {
  return Number(Atomics.add(counter, 0, 1n) + 1n);
}

/**
 * Who is on the other end of a socket just accepted, with a new connection id; taken at once,
 * before the socket waits or moves to another thread. `undefined` when the peer is already gone
 * (reset before it was accepted): nobody to serve, nobody to announce.
 */
export function acceptedPeer(socket: Socket, connectionIds: BigInt64Array): PeerInfo | undefined {
  const peer = remotePeer(socket);
  if (peer.remotePort === 0) return undefined;
  return { connectionId: nextConnectionId(connectionIds), ...peer };
}
