export {
  ThreadedServer,
  createServer,
  type ThreadedServerOptions,
  type ThreadedServerEvents,
  type ThreadedConnectionInfo,
  type ThreadedConnectedInfo,
  type ThreadedDisconnectInfo,
  type HandlerErrorInfo,
  type WorkerExitInfo,
  type WorkerStartInfo,
} from './server.js';
export {
  detectCapabilities,
  availableMechanisms,
  MECHANISMS,
  type Mechanism,
  type Capabilities,
} from './mechanism.js';
export { MechanismUnavailableError, WorkerFailedError } from './errors.js';
// The handler contract and the records of the events, shared with @comm/server-seq.
export { handlerModuleUrl, HandlerLoadError } from '@comm/server-core';
export type {
  HandlerModule,
  ConnectionSetup,
  ConnectionContext,
  LineHandler,
  ConnectionInfo,
  ConnectedInfo,
  DisconnectInfo,
  CloseReason,
} from '@comm/server-core';
export type { ServerStats, ThreadStats } from './stats.js';
