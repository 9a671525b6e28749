import { describe, expect, it } from 'vitest';
import { restartDelay } from './pool.js';

describe('restartDelay', () => {
  it('starts at 50 ms and doubles up to 5 s, so a worker that keeps dying cannot spin', () => {
    expect([1, 2, 3, 4].map(restartDelay)).toEqual([50, 100, 200, 400]);
    expect(restartDelay(7)).toBe(3200);
    expect(restartDelay(8)).toBe(5000);
    expect(restartDelay(20)).toBe(5000);
  });
});
