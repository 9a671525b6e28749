#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '@comm/protocol';
import { runServerCli, type CliServer } from '@comm/server-core/cli';
import { createServer } from './server.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const name = 'comm-server-threaded';

process.exitCode = await runServerCli({
  name,
  version,
  summary: 'the threaded comm server: clients served in parallel on worker threads',
  extraOptions: {
    threads: { type: 'string', short: 't', valueName: '<n>', description: 'worker threads (default: the available parallelism)' },
    handler: {
      type: 'string',
      valueName: '<module>',
      description: 'module exporting handler(line, context) and optionally setup(context) (default: echo)',
    },
    mechanism: {
      type: 'string',
      valueName: '<name>',
      description: 'auto (default), transfer, reuse-port or main-thread-io',
    },
  },
  createServer(options, extra): CliServer {
    const threads = extra.threads;
    if (threads !== undefined && !/^\d+$/.test(String(threads))) {
      throw new InvalidOptionError(`--threads expects a whole number, got ${JSON.stringify(threads)}`);
    }
    const server = createServer({
      ...options,
      threads: threads === undefined ? undefined : Number(threads),
      handler: extra.handler as string | undefined,
      mechanism: extra.mechanism as 'auto' | undefined,
    });
    server.once('listening', () => {
      process.stderr.write(`${name}: ${server.threads} threads, mechanism ${server.mechanism ?? '?'}\n`);
    });
    server.on('workerExit', (error, { connectionsClosed, restartIn }) => {
      process.stderr.write(`${name}: ${error.message} (${connectionsClosed} connections closed); replacing it in ${restartIn} ms\n`);
    });
    server.once('close', () => {
      void server.stats().then(({ connectionsTotal, linesIn }) => {
        process.stderr.write(`${name}: closed after ${connectionsTotal} connections and ${linesIn} lines\n`);
      });
    });
    return server;
  },
});
