import { describe, expect, it } from 'vitest';
import { sumStats, type ThreadStats } from './stats.js';

const thread = (index: number, n: number): ThreadStats => ({
  thread: index,
  threadId: index + 1,
  restarts: 0,
  connectionsOpen: n,
  connectionsTotal: 2 * n,
  linesIn: 10 * n,
  bytesIn: 100 * n,
  bytesOut: 90 * n,
});

describe('sumStats', () => {
  it('adds up every thread and keeps each', () => {
    const threads = [thread(0, 1), thread(1, 3)];
    expect(sumStats('transfer', threads)).toEqual({
      mechanism: 'transfer',
      connectionsOpen: 4,
      connectionsTotal: 8,
      linesIn: 40,
      bytesIn: 400,
      bytesOut: 360,
      threads,
    });
  });
});
