export {
  SequentialServer,
  createServer,
  DEFAULT_MAX_WAITING,
  type SequentialServerOptions,
  type SequentialServerEvents,
  type ClientInfo,
  type ConnectionInfo,
  type WaitingInfo,
  type DisconnectInfo,
} from './server.js';
