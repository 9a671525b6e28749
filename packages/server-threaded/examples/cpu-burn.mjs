// A handler that burns CPU for each line, then echoes it: the benchmark's "1 ms of CPU per line".
//   COMM_BURN_MS=1 comm-server-threaded --handler ./examples/cpu-burn.mjs --threads 2
// The busy loop keeps one core busy for COMM_BURN_MS milliseconds (default 1) per line, so the
// throughput grows with the threads as long as there are cores for them.
import { performance } from 'node:perf_hooks';

const burnMs = Number(process.env.COMM_BURN_MS ?? '1');

export function handler(line) {
  const until = performance.now() + burnMs;
  while (performance.now() < until) {
    // busy on purpose
  }
  return line;
}
