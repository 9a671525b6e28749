// The surface both comm servers present: the same events with the same arguments, the same
// connection record, the same `stats()` shape. Each server adds its own events on top (the
// sequential server `waiting`/`busy`, the threaded server its thread events), never different
// arguments for a shared one.
import type { AddressInfo } from 'node:net';
import type { RefusalCounts, RefusalReason } from './admission/index.js';
import type { CloseReason } from './context.js';
import type { Conversation } from './conversation.js';
import type { HandlerFailedError } from './errors.js';
import type { ConnectionInfo } from './peer.js';
import type { ProxyRefusals, ProxyRefusalReason } from './proxy/gate.js';
import type { ConnectionCounts } from './tally.js';

/** A client whose conversation has begun: the `connection` event. */
export type ConnectedInfo<Info extends ConnectionInfo = ConnectionInfo> = Info & {
  /** `Connected by <address>:<port>`, the chapter's line. */
  readonly message: string;
};

/** How a served connection ended: the `disconnect` event. */
export type DisconnectInfo<Info extends ConnectionInfo = ConnectionInfo> = Info & {
  readonly reason: CloseReason;
  /** Lines received and answered (error lines and `BYE` included). */
  readonly linesIn: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The socket error behind `reason: 'error'`. */
  readonly error: Error | undefined;
};

/** The events every comm server emits, with the same arguments on both. */
export interface ServerEvents<Info extends ConnectionInfo = ConnectionInfo> {
  /** The server is listening. */
  listening: [address: AddressInfo];
  /** A client's conversation has begun (the chapter prints `Connected by ...` here). */
  connection: [info: ConnectedInfo<Info>];
  /** A served client's connection has closed. */
  disconnect: [info: DisconnectInfo<Info>];
  /**
   * A client was turned away: by the admission rules, `denied`/`not-allowed` (closed at once,
   * without a line), `max-connections`/`max-connections-per-address` (`ERR COMM_SERVER_BUSY ...`,
   * then closed); by the PROXY protocol gate (closed at once), `not-from-balancer`,
   * `proxy-header-invalid`, `proxy-header-timeout`; a TLS handshake that failed or took too long,
   * `tls-handshake-failed`.
   */
  refused: [info: ConnectionInfo, reason: RefusalReason | ProxyRefusalReason | 'tls-handshake-failed'];
  /** A handler threw, rejected or gave no line (or `setup` failed); the client got `ERR COMM_HANDLER_FAILED ...`. */
  handlerError: [error: HandlerFailedError, connection: Info];
  /** The listening socket failed after `listen()` resolved (e.g. EMFILE). Only emitted when listened to. */
  error: [error: Error];
  /** `close()` or `destroy()` has finished: nothing is open any more. */
  close: [];
}

/** What `stats()` gives on every comm server (the threaded server adds its threads). */
export interface ServerStatsBase extends ConnectionCounts {
  /** Clients turned away by the admission rules, by reason. */
  readonly refused: RefusalCounts;
  /** Connections the PROXY protocol gate closed, by reason (all 0 when the protocol is off). */
  readonly proxyRefused: ProxyRefusals;
  /** TLS handshakes that failed or did not finish within the deadline (all 0 without TLS). */
  readonly tlsFailed: { readonly handshake: number; readonly timeout: number };
}

/**
 * The `disconnect` record of a conversation that has closed.
 *
 * @example
 * ```ts
 * server.emit('disconnect', disconnectInfo(conversation, { thread: 0 }));
 * ```
 */
export function disconnectInfo<Extra extends object = Record<never, never>>(
  conversation: Conversation<never>,
  extra?: Extra,
): DisconnectInfo<ConnectionInfo & Extra> {
  return {
    connectionId: conversation.connectionId,
    remoteAddress: conversation.remoteAddress,
    remotePort: conversation.remotePort,
    remoteFamily: conversation.remoteFamily,
    ...(extra as Extra),
    reason: conversation.closeReason ?? 'destroyed',
    linesIn: conversation.linesIn,
    bytesIn: conversation.bytesIn,
    bytesOut: conversation.bytesOut,
    error: conversation.error,
  };
}
