#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { InvalidOptionError, formatEndpoint } from '@comm/protocol';
import { runServerCli, type CliServer } from '@comm/server-core/cli';
import { createServer } from './server.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

process.exitCode = await runServerCli({
  name: 'comm-server-seq',
  version,
  summary: 'the sequential comm server: one client at a time, the others wait their turn',
  extraOptions: {
    'max-waiting': {
      type: 'string',
      valueName: '<n>',
      description: 'clients that may wait; one more gets ERR COMM_SERVER_BUSY (default 128)',
    },
    verbose: { type: 'boolean', description: 'also print each client that waits, is turned away, or leaves' },
  },
  createServer(options, extra): CliServer {
    const maxWaiting = extra['max-waiting'];
    if (maxWaiting !== undefined && !/^\d+$/.test(String(maxWaiting))) {
      throw new InvalidOptionError(`--max-waiting expects a whole number, got ${JSON.stringify(maxWaiting)}`);
    }
    const server = createServer({ ...options, maxWaiting: maxWaiting === undefined ? undefined : Number(maxWaiting) });
    if (extra.verbose) {
      const print = (text: string): boolean => process.stdout.write(`${text}\n`);
      server.on('waiting', (info) => print(`Waiting: ${formatEndpoint(info.remoteAddress, info.remotePort)} (position ${info.position})`));
      server.on('busy', (info) => print(`Busy: turned away ${formatEndpoint(info.remoteAddress, info.remotePort)}`));
      server.on('disconnect', (info) =>
        print(`Disconnected ${formatEndpoint(info.remoteAddress, info.remotePort)}: ${info.linesIn} lines (${info.reason})`),
      );
      server.on('handlerError', (error) => process.stderr.write(`comm-server-seq: ${error.message}: ${String(error.cause)}\n`));
    }
    return server;
  },
});
