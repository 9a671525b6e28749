export {
  ThreadedServer,
  createServer,
  type ThreadedServerOptions,
  type ThreadedServerEvents,
  type ThreadedConnectionInfo,
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
export { handlerModuleUrl, type HandlerModule, type ConnectionSetup } from './handler-module.js';
export { HandlerLoadError, MechanismUnavailableError, WorkerFailedError } from './errors.js';
export type { ServerStats, ThreadStats } from './stats.js';
export type { PeerInfo } from './messages.js';
