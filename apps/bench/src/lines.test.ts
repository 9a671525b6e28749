import { describe, expect, it } from 'vitest';
import { LineSource, MIN_LINE_BYTES } from './lines.js';

describe('LineSource', () => {
  it('makes lines of exactly lineBytes, each ending in its only LF', () => {
    const batch = new LineSource(7, 64).next(3);
    expect(batch.length).toBe(192);
    const lines = batch.toString('latin1').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).every((line) => line.length === 63)).toBe(true);
    expect(lines[0]).toMatch(/^c000007 000000000001 abc/);
  });

  it('numbers lines without a repeat across carries and batches', () => {
    const source = new LineSource(1, 32);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const text = source.next(100).toString('latin1');
      for (const line of text.split('\n').slice(0, -1)) seen.add(line);
    }
    expect(seen.size).toBe(1200);
    expect([...seen].at(-1)).toMatch(/^c000001 000000001200 /);
    expect([...seen]).toContain(`c000001 000000001000 abcdefghij`);
  });

  it('tells connections apart', () => {
    expect(new LineSource(1, 64).next(1).equals(new LineSource(2, 64).next(1))).toBe(false);
  });

  it('refuses lines too short to carry the numbers', () => {
    expect(() => new LineSource(0, MIN_LINE_BYTES - 1)).toThrow(RangeError);
  });
});
