#!/usr/bin/env node
import { formatEndpoint } from '@comm/protocol';
import { packageVersion } from '@comm/protocol/options';
import { handlerModuleUrl, loadHandlerModule } from '@comm/server-core';
import { runServerCli } from '@comm/server-core/cli';
import { SEQUENTIAL_OPTIONS } from './options.js';
import { createServer } from './server.js';

const name = 'comm-server-seq';

process.exitCode = await runServerCli({
  name,
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'the sequential comm server: one client at a time, the others wait their turn',
  options: SEQUENTIAL_OPTIONS,
  async createServer({ handlerModule, verbose, ...options }, io) {
    // The same handler module as comm-server-threaded's, imported here once for every connection.
    const module = handlerModule === undefined ? undefined : await loadHandlerModule(handlerModuleUrl(handlerModule));
    const server = createServer({ ...options, ...module });
    if (verbose) {
      const print = (text: string): void => io.stdout(`${text}\n`);
      server.on('waiting', (info) =>
        print(`Waiting: ${formatEndpoint(info.remoteAddress, info.remotePort)} (position ${info.position})`),
      );
      server.on('busy', (info) => print(`Busy: turned away ${formatEndpoint(info.remoteAddress, info.remotePort)}`));
      server.on('disconnect', (info) =>
        print(`Disconnected ${formatEndpoint(info.remoteAddress, info.remotePort)}: ${info.linesIn} lines (${info.reason})`),
      );
      server.on('handlerError', (error) => io.stderr(`${name}: ${error.message}: ${String(error.cause)}\n`));
    }
    return server;
  },
});
