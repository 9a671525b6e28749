/**
 * The contract between the bench runner and the modules that measure one package
 * (`src/codec.ts` exports `runCodecBench`, `src/client.ts` exports `runClientBench`).
 *
 * A module measures, returns rows of absolute figures and the targets its issue sets, and
 * leaves ratios, PASS/MISS, the table, the JSON and the chart to the runner. It throws when
 * what it measures is wrong (a lost or altered line), never for being slow.
 *
 * @example
 * ```ts
 * import type { BenchOptions, BenchReport } from './types.js';
 *
 * export async function runCodecBench({ quick }: BenchOptions): Promise<BenchReport> {
 *   const group = 'codec, 64 B lines, 64 KiB chunks';
 *   return {
 *     rows: [
 *       { group, subject: '@comm/protocol LineDecoder', value: 612, unit: 'MB/s' },
 *       { group, subject: 'node:readline', value: 221, unit: 'MB/s' },
 *     ],
 *     targets: [{ group, subject: '@comm/protocol LineDecoder', baseline: 'node:readline', atLeast: 2.5, issue: 2 }],
 *   };
 * }
 * ```
 */

/** How a bench module is asked to run. */
export interface BenchOptions {
  /** Run briefly, only to check that the benchmark works (CI); figures are not judged. */
  quick: boolean;
}

/** One measured figure: the headline `value` is what targets compare. */
export interface BenchRow {
  /** The table section, shared by the subject and its baselines, e.g. `'codec, 64 B lines'`. */
  group: string;
  /** What was measured, e.g. `'@comm/protocol LineDecoder'` or `'node:readline'`. */
  subject: string;
  value: number;
  /** `'lines/s'`, `'MB/s'`, `'ms'`, `'KiB'`... A unit of time (`ms`, `µs`) means lower is better. */
  unit: string;
  /** Secondary figures shown beside the headline, e.g. `{ p99: '0.41 ms' }`. */
  details?: Record<string, string>;
  /** Anything else worth keeping in the JSON results. */
  data?: Record<string, unknown>;
}

/**
 * A target from an issue. With a `baseline`, the ratio subject/baseline (headline values of
 * the same group) must be at least `atLeast` and/or at most `atMost`; without one, the
 * subject's own value must be.
 */
export interface BenchTarget {
  group: string;
  subject: string;
  baseline?: string;
  atLeast?: number;
  atMost?: number;
  /** The issue number that sets the target. */
  issue?: number;
  /** Shown for information, never judged (e.g. a Node 26 target beside the Node 20 figure). */
  informational?: boolean;
}

/** What one bench module returns. */
export interface BenchReport {
  rows: BenchRow[];
  targets: BenchTarget[];
  /** Lines printed under the table, e.g. how a figure was measured. */
  notes?: string[];
}
