import { performance } from 'node:perf_hooks';

/**
 * A fixed amount of CPU work: `iterations` rounds of an xorshift generator. A count of work, not
 * a wall-clock spin, so a thread that is preempted does not burn longer and a second thread
 * really doubles what can be done.
 */
export function burnCpu(iterations: number): number {
  let state = 0x9e3779b9 | 0;
  for (let i = 0; i < iterations; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
  }
  return state;
}

/** How many {@link burnCpu} iterations take `targetMs` of CPU on this machine (best of a few tries). */
export function calibrateBurn(targetMs = 1): number {
  let iterations = 100_000;
  burnCpu(iterations); // let the JIT compile the loop first
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 7; attempt++) {
    const start = performance.now();
    burnCpu(iterations * 10);
    best = Math.min(best, (performance.now() - start) / 10);
  }
  iterations = Math.max(1, Math.round((iterations * targetMs) / best));
  return iterations;
}
