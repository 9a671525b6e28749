// The worker thread of @comm/server-threaded: loads the handler module, then serves connections
// (`transfer`, `reuse-port`: worker/connection-server.ts) or answers batches of lines
// (`main-thread-io`: worker/batch-answerer.ts). Built as its own file (dist/worker.js) and
// started by the pool with `new Worker(url, { workerData })`.
import { parentPort, workerData } from 'node:worker_threads';
import { NO_COUNTS, loadHandlerModule, type HandlerLoadError, type HandlerModule } from '@comm/server-core';
import { serializeError } from './errors.js';
import { assertNever } from './exhaustive.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { BatchAnswerer } from './worker/batch-answerer.js';
import { ConnectionServer } from './worker/connection-server.js';
import type { WorkerPort } from './worker/port.js';

type State = Record<string, unknown>;

const parent = parentPort as NonNullable<typeof parentPort>;
const port: WorkerPort = {
  init: workerData as WorkerInit,
  post: (message: FromWorker): void => parent.postMessage(message),
};

/** `main-thread-io`: the sockets live on the main thread; this thread only calls the handler. */
function answerBatches(module: HandlerModule<State> | undefined): void {
  const answerer = new BatchAnswerer(port, module);
  // This thread has nothing to close, so it goes at once.
  process.on('uncaughtException', (error) => {
    port.post({ type: 'fatal', error: serializeError(error) });
    process.exit(1);
  });
  parent.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'batches':
        for (let i = 0; i < message.connectionIds.length; i++) {
          answerer.answer(message.connectionIds[i] as number, message.lines[i] as string[]);
        }
        return;
      case 'open':
        answerer.open(message.peer, message.proxy);
        return;
      case 'forget':
        answerer.forget(message.connectionId);
        return;
      case 'stats':
        // The main thread counts this mechanism's connections itself.
        port.post({ type: 'stats', requestId: message.requestId, counts: NO_COUNTS });
        return;
      case 'shutdown':
        port.post({ type: 'drained', counts: NO_COUNTS });
        return;
      case 'socket':
        // Never sent with this mechanism: the socket is not this thread's to serve.
        message.socket.destroy();
        return;
      case 'listen':
        // Never sent with this mechanism: this thread does not accept.
        port.post({ type: 'listen-failed', error: serializeError(new Error('main-thread-io workers do not listen')) });
        return;
      default:
        return assertNever(message, 'message to a main-thread-io worker');
    }
  });
}

/** `transfer`, `reuse-port`: the sockets live on this thread, which runs their conversations. */
function serveConnections(module: HandlerModule<State> | undefined): void {
  const server = new ConnectionServer(port, module);
  process.on('uncaughtException', (error) => server.fail(error));
  parent.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'socket':
        server.serve(message.socket, message.peer);
        return;
      case 'listen':
        server.listen(message.host, message.port);
        return;
      case 'stats':
        port.post({ type: 'stats', requestId: message.requestId, counts: server.counts() });
        return;
      case 'shutdown':
        server.shutdown();
        return;
      case 'open':
      case 'batches':
      case 'forget':
        // `main-thread-io` only: never sent to a worker that serves its connections itself.
        return;
      default:
        return assertNever(message, 'message to a connection-serving worker');
    }
  });
}

async function main(): Promise<void> {
  let module: HandlerModule<State> | undefined;
  try {
    module = port.init.handlerUrl === undefined ? undefined : await loadHandlerModule<State>(port.init.handlerUrl);
  } catch (error) {
    const loadError = error as HandlerLoadError;
    port.post({
      type: 'load-failed',
      reason: loadError.reason ?? String(error),
      cause: loadError.cause === undefined ? undefined : serializeError(loadError.cause),
    });
    parent.close();
    return;
  }
  const mechanism = port.init.mechanism;
  switch (mechanism) {
    case 'main-thread-io':
      answerBatches(module);
      break;
    case 'transfer':
    case 'reuse-port':
      serveConnections(module);
      break;
    default:
      assertNever(mechanism, 'mechanism');
  }
  port.post({ type: 'ready', hasSetup: module?.setup !== undefined });
}

void main();
