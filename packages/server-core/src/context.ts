import type { HandlerFailedError } from './errors.js';
import type { ConnectionInfo } from './peer.js';
import type { ProxyInfo } from './proxy/gate.js';
import type { TlsInfo } from './tls.js';

/** What a handler learns about the connection it serves: the same on both servers and every thread. */
export interface ConnectionContext<State = Record<string, unknown>> extends ConnectionInfo {
  /** Anything the handler wants to keep for this connection; an empty object until first set or read. */
  state: State;
  /**
   * When the connection came through a balancer with the PROXY protocol: the balancer's own
   * address and port, and the header with its TLVs. `remoteAddress` is then the client's, from
   * the header.
   */
  readonly proxy?: ProxyInfo | undefined;
  /** When the connection is TLS: the protocol, cipher, ALPN, and the client certificate if verified. */
  readonly tls?: TlsInfo | undefined;
}

/**
 * Answers one line. May return the reply or a promise of it. Lines of one connection are
 * handled one at a time, in order: the next call waits for the previous promise to settle.
 * A throw, a rejection, or a reply that is not one line (a non-string, an LF inside, a CR at
 * the end) answers `ERR COMM_HANDLER_FAILED handler failed` in that line's place.
 */
export type LineHandler<State = Record<string, unknown>> = (
  line: string,
  context: ConnectionContext<State>,
) => string | PromiseLike<string>;

/** Per-connection set-up, run before the connection's first line is read, e.g. to set `context.state`. */
export type ConnectionSetup<State = Record<string, unknown>> = (context: ConnectionContext<State>) => void | PromiseLike<void>;

/**
 * Answers all the complete lines of one read at once; must return exactly one reply per line,
 * in order. Lines the decoder rejected (too long, invalid UTF-8) and `BYE` are not passed:
 * their replies are put in place locally.
 */
export type BatchAnswerer<State = Record<string, unknown>> = (
  lines: string[],
  context: ConnectionContext<State>,
) => readonly string[] | PromiseLike<readonly string[]>;

/** Told about each handler or setup failure (the client only sees `ERR COMM_HANDLER_FAILED ...`). */
export type HandlerErrorHook<State = Record<string, unknown>> = (
  error: HandlerFailedError,
  context: ConnectionContext<State>,
) => void;

/** Why a conversation ended; `Conversation.closeReason` after the socket closed. */
export type CloseReason =
  /** The peer sent its FIN (R11) and every line was answered. */
  | 'end'
  /** The peer sent `BYE` (R10). */
  | 'bye'
  /** `close()` was called (R17). */
  | 'shutdown'
  /** A line did not complete in time (R13). */
  | 'line-timeout'
  /** Nothing happened for `idleTimeout` (R14). */
  | 'idle-timeout'
  /** The `setup` hook failed. */
  | 'setup-failed'
  /** The socket failed (e.g. `ECONNRESET`); `Conversation.error` holds the cause. */
  | 'error'
  /** `destroy()` was called, or the socket was destroyed from outside. */
  | 'destroyed';
