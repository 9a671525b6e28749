import { describe, expect, it } from 'vitest';
import { barChart, decadesAround } from './chart.js';
import {
  evaluateTargets,
  formatMarkdown,
  formatTargetsMarkdown,
  formatMs,
  formatNumber,
  formatTable,
  type ResultRow,
} from './report.js';

const group = 'g';
const rows: ResultRow[] = [
  { group, subject: 'ours', value: 1_200_000, unit: 'lines/s', status: 'ok' },
  { group, subject: 'pipe', value: 1_600_000, unit: 'lines/s', status: 'ok' },
  { group, subject: 'readline', value: 160_000, unit: 'lines/s', status: 'ok' },
  { group, subject: 'python', status: 'skipped', reason: 'python3 not found' },
  { group: 'mem', subject: 'ours', value: 6.5, unit: 'KiB', status: 'ok' },
];

describe('evaluateTargets', () => {
  it('divides subject by baseline and judges the bound', () => {
    const [pipe, readline, memory, missing] = evaluateTargets(
      rows,
      [
        { group, subject: 'ours', baseline: 'pipe', atLeast: 0.8, issue: 4 },
        { group, subject: 'ours', baseline: 'readline', atLeast: 5 },
        { group: 'mem', subject: 'ours', atMost: 7 },
        { group, subject: 'ours', baseline: 'python', atLeast: 1 },
      ],
      false,
    );
    expect(pipe!.measured).toBeCloseTo(0.75);
    expect(pipe!.pass).toBe(false);
    expect(pipe!.text).toBe('0.75x pipe (target ≥ 0.8x, #4)');
    expect(readline!.measured).toBeCloseTo(7.5);
    expect(readline!.pass).toBe(true);
    expect(memory!.pass).toBe(true);
    expect(memory!.text).toBe('6.50 KiB (target ≤ 7 KiB)');
    expect(missing!.pass).toBeUndefined();
    expect(missing!.text.startsWith('? python')).toBe(true);
  });

  it('judges nothing in quick mode', () => {
    const [result] = evaluateTargets(rows, [{ group, subject: 'ours', baseline: 'readline', atLeast: 5 }], true);
    expect(result!.measured).toBeCloseTo(7.5);
    expect(result!.pass).toBeUndefined();
  });

  it('shows an informational target without judging it', () => {
    const [result] = evaluateTargets(
      rows,
      [{ group, subject: 'ours', baseline: 'pipe', atLeast: 0.8, informational: true }],
      false,
    );
    expect(result!.pass).toBeUndefined();
    expect(formatTable(rows, [result!], false)).toMatch(/0\.75x pipe \(target ≥ 0\.8x\)\s+info/);
  });
});

describe('formatTable', () => {
  it('shows figures, skips, failures and PASS/MISS', () => {
    const all: ResultRow[] = [...rows, { group, subject: 'broken', status: 'failed', reason: 'reply line 3 differs' }];
    const targets = evaluateTargets(all, [{ group, subject: 'ours', baseline: 'pipe', atLeast: 0.7 }], false);
    const table = formatTable(all, targets, false);
    expect(table).toMatch(/ours\s+1\.20 M lines\/s\s+0\.75x pipe \(target ≥ 0\.7x\)\s+PASS/);
    expect(table).toContain('skipped: python3 not found');
    expect(table).toContain('FAILED: reply line 3 differs');
  });
});

describe('formatMarkdown', () => {
  it('writes one row per subject with its targets in one cell, for the chosen groups', () => {
    const targets = evaluateTargets(
      rows,
      [
        { group, subject: 'ours', baseline: 'pipe', atLeast: 0.7 },
        { group, subject: 'ours', baseline: 'readline', atLeast: 10 },
      ],
      false,
    );
    const markdown = formatMarkdown(rows, targets, false, [group]).split('\n');
    expect(markdown).toHaveLength(2 + 4);
    expect(markdown[2]).toBe(
      '| g | ours | 1.20 M lines/s |  | 0.75x pipe (target ≥ 0.7x)<br>7.50x readline (target ≥ 10x) | PASS<br>MISS |',
    );
    expect(markdown[5]).toBe('|  | python | skipped: python3 not found |  |  |  |');
  });
});

describe('formatTargetsMarkdown', () => {
  it('lists each target with its verdict', () => {
    const targets = evaluateTargets(rows, [{ group: 'mem', subject: 'ours', atMost: 6 }], false);
    expect(formatTargetsMarkdown(targets, false).split('\n')[2]).toBe('| mem | ours | 6.50 KiB (target ≤ 6 KiB) | MISS |');
  });
});

describe('formatting', () => {
  it('writes figures compactly and latencies in µs below a millisecond', () => {
    expect(formatNumber(1_234_567)).toBe('1.23 M');
    expect(formatNumber(160_400)).toBe('160 k');
    expect(formatNumber(6.4)).toBe('6.40');
    expect(formatMs(0.0421)).toBe('42.1 µs');
    expect(formatMs(0.25)).toBe('250 µs');
    expect(formatMs(12.34)).toBe('12.3 ms');
  });
});

describe('barChart', () => {
  it('spans whole decades around the figures on its log axis', () => {
    expect(decadesAround([40_000, 1_700_000])).toEqual([10_000, 10_000_000]);
    expect(decadesAround([100_000])).toEqual([100_000, 1_000_000]);
    expect(decadesAround([])).toEqual([1, 10]);
  });

  it('draws one bar per figure, one legend entry per subject, and escapes text', () => {
    const svg = barChart(
      'a & b',
      'lines/s',
      [
        {
          label: '1 x 256',
          bars: [
            { subject: 'ours', value: 1e6 },
            { subject: 'pipe <ceiling>', value: 2e6 },
          ],
        },
        { label: '100 x 16', bars: [{ subject: 'ours', value: 5e5 }] },
      ],
      'caption',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(svg).toContain('a &#38; b');
    expect(svg).toContain('pipe &#60;ceiling&#62;');
    expect(svg).not.toContain('<ceiling>');
  });
});
