export { HandlerFailedError, LineTimeoutError, ServerBusyError, AddressInUseError, ServerClosedError } from './errors.js';
export {
  Conversation,
  serveConnection,
  conversationConfig,
  refuseConnection,
  normalizeAddress,
  remotePeer,
  DEFAULT_LINE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_PENDING_REPLY_BYTES,
  DEFAULT_LINGER_TIMEOUT,
  type ConnectionContext,
  type PeerAddress,
  type LineHandler,
  type BatchAnswerer,
  type CloseReason,
  type ConversationOptions,
  type ConversationConfig,
} from './conversation.js';
export {
  resolveServerOptions,
  listenDualStack,
  prepareSocket,
  DEFAULT_HOST,
  type ServerOptions,
  type ServerConfig,
  type ListenConfig,
} from './listen.js';
