#!/usr/bin/env node
import { packageVersion } from '@comm/protocol/options';
import { runServerCli } from '@comm/server-core/cli';
import { THREADED_OPTIONS } from './options.js';
import { createServer } from './server.js';

const name = 'comm-server-threaded';

process.exitCode = await runServerCli({
  name,
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'the threaded comm server: clients served in parallel on worker threads',
  options: THREADED_OPTIONS,
  createServer({ handlerModule, ...options }, io) {
    const server = createServer({ ...options, handler: handlerModule });
    server.once('listening', () => {
      io.stderr(`${name}: ${server.threads} threads, mechanism ${server.mechanism ?? '?'}\n`);
    });
    server.on('workerExit', (error, { connectionsClosed, restartIn }) => {
      io.stderr(`${name}: ${error.message} (${connectionsClosed} connections closed); replacing it in ${restartIn} ms\n`);
    });
    server.once('close', () => {
      void server.stats().then(({ connectionsTotal, linesIn }) => {
        io.stderr(`${name}: closed after ${connectionsTotal} connections and ${linesIn} lines\n`);
      });
    });
    return server;
  },
});
