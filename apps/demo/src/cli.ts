#!/usr/bin/env node
import { runScene } from './scene.js';

/** The whole demo may not take longer than this, whatever happens. */
const DEMO_DEADLINE_MS = 60_000;

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    process.stderr.write(`comm-demo: gave up after ${DEMO_DEADLINE_MS / 1000} s\n`);
    process.exit(1);
  }, DEMO_DEADLINE_MS);
  deadline.unref();
  await runScene((line) => process.stdout.write(line + '\n'));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`comm-demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
