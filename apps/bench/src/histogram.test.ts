import { describe, expect, it } from 'vitest';
import { exactPercentile, LatencyHistogram, median } from './histogram.js';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('exactPercentile', () => {
  it('takes the nearest rank, ceil(p * n), of the sorted samples', () => {
    const samples = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100];
    expect(exactPercentile(samples, 0.5)).toBe(50);
    expect(exactPercentile(samples, 0.9)).toBe(90);
    expect(exactPercentile(samples, 0.91)).toBe(100);
    expect(exactPercentile(samples, 0.99)).toBe(100);
    expect(exactPercentile(samples, 0.01)).toBe(10);
    expect(exactPercentile(samples, 1)).toBe(100);
  });

  it('handles one sample, no samples, and leaves the input unsorted', () => {
    const samples = [3, 1, 2];
    expect(median(samples)).toBe(2);
    expect(samples).toEqual([3, 1, 2]);
    expect(exactPercentile([7], 0.999)).toBe(7);
    expect(exactPercentile([], 0.5)).toBeNaN();
  });

  it('p99.9 of 1000 samples is the 999th smallest', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expect(exactPercentile(samples, 0.999)).toBe(999);
    expect(exactPercentile(samples, 0.99)).toBe(990);
  });
});

describe('LatencyHistogram', () => {
  it('is NaN when empty', () => {
    expect(new LatencyHistogram().percentile(0.5)).toBeNaN();
  });

  it('reports small values (below 12.8 µs) exactly to 0.1 µs', () => {
    const histogram = new LatencyHistogram();
    for (const ms of [0.001, 0.002, 0.003, 0.0042, 0.0123]) histogram.record(ms);
    expect(histogram.percentile(0.2)).toBeCloseTo(0.001, 6);
    expect(histogram.percentile(0.8)).toBeCloseTo(0.0042, 6);
    expect(histogram.percentile(1)).toBeCloseTo(0.0123, 6);
  });

  it.each([1, 2, 3])('agrees with the exact percentiles within 1/64 on random latencies (seed %i)', (seed) => {
    const next = random(seed);
    const samples: number[] = [];
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 20_000; i++) {
      // Log-uniform from 1 µs to 10 s: every bucket size is exercised.
      const ms = 10 ** (next() * 7 - 3);
      samples.push(ms);
      histogram.record(ms);
    }
    expect(histogram.count).toBe(samples.length);
    for (const fraction of [0.01, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = exactPercentile(samples, fraction);
      expect(Math.abs(histogram.percentile(fraction) - exact)).toBeLessThanOrEqual(exact / 64 + 0.0001);
    }
    expect(histogram.summary().max).toBeCloseTo(Math.max(...samples), 4);
  });

  it('counts a batch recorded at once like the same samples one by one', () => {
    const batched = new LatencyHistogram();
    const single = new LatencyHistogram();
    batched.record(0.5, 99);
    batched.record(7, 1);
    for (let i = 0; i < 99; i++) single.record(0.5);
    single.record(7);
    expect(batched.summary()).toEqual(single.summary());
    expect(batched.percentile(0.99)).toBeCloseTo(0.5, 1);
    expect(batched.percentile(0.999)).toBeCloseTo(7, 1);
  });

  it('merges two histograms into the histogram of all their samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const both = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) {
      (i % 2 ? a : b).record(i / 10);
      both.record(i / 10);
    }
    a.merge(b);
    expect(a.summary()).toEqual(both.summary());
  });

  it('clamps values beyond its range instead of losing them', () => {
    const histogram = new LatencyHistogram();
    histogram.record(-1);
    histogram.record(10 * 60 * 1000);
    expect(histogram.count).toBe(2);
    expect(histogram.percentile(0.5)).toBe(0);
    expect(histogram.percentile(1)).toBeGreaterThan(200_000);
  });
});
