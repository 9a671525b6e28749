export {
  HandlerFailedError,
  HandlerLoadError,
  LineTimeoutError,
  ServerBusyError,
  AddressInUseError,
  ServerClosedError,
} from './errors.js';
export type { ConnectionContext, LineHandler, ConnectionSetup, BatchAnswerer, HandlerErrorHook, CloseReason } from './context.js';
export { conversationConfig, type ConversationOptions, type ConversationConfig } from './config.js';
export { Conversation, serveConnection, type ConnectionIdentity } from './conversation.js';
export { DeadlineSweep } from './sweep.js';
export { refuseConnection } from './refuse.js';
export { normalizeAddress, remotePeer, connectedBy, type PeerAddress, type ConnectionInfo } from './peer.js';
export {
  LISTEN_OPTIONS,
  CONVERSATION_OPTIONS,
  COMMAND_OPTIONS,
  conversationLimits,
  DEFAULT_HOST,
  DEFAULT_LINE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_PENDING_REPLY_BYTES,
  DEFAULT_LINGER_TIMEOUT,
  type ConversationLimits,
  type ListenValues,
} from './options.js';
export {
  resolveServerOptions,
  edgeCounts,
  listenDualStack,
  prepareSocket,
  type ServerOptions,
  type ServerConfig,
  type ListenConfig,
} from './listen.js';
export { handlerModuleUrl, loadHandlerModule, type HandlerModule } from './handler-module.js';
export { ConnectionTally, NO_COUNTS, type ConnectionCounts } from './tally.js';
export { disconnectInfo, type ServerEvents, type ConnectedInfo, type DisconnectInfo, type ServerStatsBase } from './surface.js';
export { isThenable, ignoreError, closeNetServer } from './util.js';
export { admitSocket, type SocketAdmission } from './admit.js';
export {
  ADMISSION_OPTIONS,
  AdmissionControl,
  createAdmissionControl,
  parseCidrList,
  type AddressList,
  type Admission,
  type AdmissionCounts,
  type AdmissionOptions,
  type AdmissionRules,
  type RefusalCounts,
  type RefusalReason,
} from './admission/index.js';
export {
  ProxyHeaderParser,
  ProxyHeaderError,
  ProxyHeaderTimeoutError,
  DEFAULT_PROXY_V2_MAX_LENGTH,
  type ProxyHeader,
  type ProxyParseResult,
  type ProxyTlvs,
} from './proxy/index.js';
export {
  ProxyGate,
  PROXY_OPTIONS,
  createProxyGate,
  type ProxyOptions,
  type ProxyInfo,
  type GatePassed,
  type GateRefused,
  type ProxyRefusalReason,
  type ProxyRefusals,
} from './proxy/gate.js';
export { TlsGate, TLS_OPTIONS, createTlsGate, type ServerTlsOptions, type TlsInfo } from './tls.js';
