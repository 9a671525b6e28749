#!/usr/bin/env node
import { connect, runInteractive } from '@comm/client';
import { parseCommand, USAGE, UsageError, type Command } from './args.js';
import { within } from './bounded.js';
import { runDemo } from './demo.js';
import { STEP_TIMEOUT_MS } from './scene.js';
import { serve } from './serve.js';

/** Without a terminal, the whole scene may not take longer than this, whatever happens. */
const SCENE_DEADLINE_MS = 120_000;

async function run(command: Command): Promise<number> {
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'serve':
      return serve(command, process.stdout);
    case 'client': {
      const client = await within(
        connect(command.host, command.port, { connectTimeout: STEP_TIMEOUT_MS, timeout: STEP_TIMEOUT_MS }),
        STEP_TIMEOUT_MS,
        `a connection to ${command.host} port ${command.port}`,
      );
      if (process.stdin.isTTY) process.stdout.write(`Connected to ${client.address}. BYE or Ctrl-D ends.\n`);
      await runInteractive(client, process.stdin, process.stdout, { prompt: process.stdin.isTTY === true });
      return 0;
    }
    case 'scene': {
      if (!process.stdin.isTTY) {
        // A script or CI waits on us: nothing may hang it, even a bug of ours.
        const deadline = setTimeout(() => {
          process.stderr.write(`comm-demo: gave up after ${SCENE_DEADLINE_MS / 1000} s\n`);
          process.exit(1);
        }, SCENE_DEADLINE_MS);
        deadline.unref();
      }
      return runDemo(process.stdin, process.stdout);
    }
  }
}

// `comm-demo | head` closes our stdout early: stop quietly, as other Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function main(): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`comm-demo: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  return run(command);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`comm-demo: ${message}${typeof code === 'string' ? ` (${code})` : ''}\n`);
    process.exitCode = 1;
  },
);
