export { connect, type ConnectOptions, type ConnectOptionsWithHost, type TlsOptions } from './connect.js';
export { CommClient, type RequestOptions } from './client.js';
export { DEFAULT_WINDOW, type PipelineOptions } from './pipeline.js';
export { BYE } from './connection.js';
export { runInteractive, PROMPT, type InteractiveEnd, type InteractiveOptions } from './interactive.js';
export {
  ConnectionRefusedError,
  HostNotFoundError,
  ConnectFailedError,
  CommTimeoutError,
  ConnectionLostError,
  AbortedError,
  FlowinfoUnsupportedError,
  ClientClosedError,
  TlsCertificateError,
  TlsHandshakeError,
  type ClientErrorCode,
  type TimeoutPhase,
} from './errors.js';
// The protocol's classes for what a client reports about reply lines; match on `err.code`.
export { CommError, LineTooLongError, InvalidUtf8Error } from '@comm/protocol';
