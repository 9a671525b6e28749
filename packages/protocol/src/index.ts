export {
  CommError,
  LineTooLongError,
  InvalidUtf8Error,
  LineHasBreakError,
  InvalidOptionError,
  isLineError,
  type LineError,
} from './errors.js';
export {
  LineDecoder,
  encodeLine,
  encodeLines,
  checkMaxLineLength,
  DEFAULT_MAX_LINE_LENGTH,
  type LineDecoderOptions,
  type InvalidUtf8Policy,
  type DecodedItem,
} from './codec.js';
export {
  LineDecoderTransform,
  LineEncoderTransform,
  LineDecoderStream,
  LineEncoderStream,
  readLines,
  type LineStreamOptions,
} from './streams.js';
export {
  HandlerFailedError,
  LineTimeoutError,
  ServerBusyError,
  AddressInUseError,
  ServerClosedError,
  errorReply,
  formatEndpoint,
  type ServerErrorCode,
} from './server-errors.js';
export {
  Conversation,
  serveConnection,
  conversationConfig,
  refuseConnection,
  normalizeAddress,
  DEFAULT_LINE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_PENDING_REPLY_BYTES,
  DEFAULT_LINGER_TIMEOUT,
  type ConnectionContext,
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
  DEFAULT_PORT,
  DEFAULT_HOST,
  type ServerOptions,
  type ServerConfig,
  type ListenConfig,
} from './server-common.js';
