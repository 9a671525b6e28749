/**
 * A handler module for @comm/server-threaded that spends ~1 ms of CPU on each line, then
 * echoes it (so the generator still verifies every reply). The work is a fixed count of
 * xorshift rounds, `COMM_BENCH_BURN_ITERATIONS` (the runner calibrates it to ~1 ms at start),
 * so two threads can do twice the work of one, whatever the scheduler does.
 */
import { burnCpu } from '../burn.js';

const iterations = Number(process.env.COMM_BENCH_BURN_ITERATIONS ?? 700_000);
/** Kept so the optimiser cannot drop the work as unused. */
let sink = 0;

/** Burns the CPU, then answers with the line itself. */
export function handler(line: string): string {
  sink ^= burnCpu(iterations);
  return sink === 0x7fffffff ? `${line}` : line;
}
