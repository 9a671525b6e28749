export {
  SequentialServer,
  createServer,
  DEFAULT_MAX_WAITING,
  type SequentialServerOptions,
  type SequentialServerEvents,
  type WaitingInfo,
} from './server.js';
export { SEQUENTIAL_OPTIONS } from './options.js';
// The records every comm server's events carry, and the handler contract, from the shared core.
export type {
  ConnectionInfo,
  ConnectedInfo,
  DisconnectInfo,
  ConnectionContext,
  ConnectionCounts,
  LineHandler,
  HandlerModule,
} from '@comm/server-core';
