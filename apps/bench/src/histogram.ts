/**
 * Latency recording for millions of lines without keeping each sample: a log-linear histogram
 * (the HdrHistogram idea) with 64 sub-buckets per power of two, so any reported percentile is
 * within 1/64 (1.6 %) of the true sample, at a fixed 32 KiB of memory and a few operations per line.
 */

/** Samples are counted in units of 0.1 µs: loopback round trips are tens of µs. */
const UNITS_PER_MS = 10_000;
const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 2 * SUB_BUCKETS;
/** 2^31 units = 214 s, longer than any scenario is allowed to run. */
const MAX_UNITS = 2 ** 31 - 1;
const BUCKETS = LINEAR_LIMIT + (31 - 7 + 1) * SUB_BUCKETS;

function bucketOf(units: number): number {
  if (units < LINEAR_LIMIT) return units;
  // units >> shift lands in [64, 128): 6 bits of precision below the leading bit.
  const shift = 31 - Math.clz32(units) - 6;
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((units >>> shift) - SUB_BUCKETS);
}

/** The smallest sample (in units) that falls in a bucket, and the bucket's width. */
function bucketRange(bucket: number): [low: number, width: number] {
  if (bucket < LINEAR_LIMIT) return [bucket, 1];
  const shift = Math.floor((bucket - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const sub = (bucket - LINEAR_LIMIT) % SUB_BUCKETS;
  return [(sub + SUB_BUCKETS) * 2 ** shift, 2 ** shift];
}

/** A summary of one histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Latencies in milliseconds, recorded cheaply and read back as percentiles.
 *
 * @example
 * ```ts
 * const h = new LatencyHistogram();
 * h.record(0.042);            // one line answered after 42 µs
 * h.record(0.050, 255);       // 255 lines of one batch answered after 50 µs
 * h.percentile(0.99);         // ~0.050
 * ```
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxUnits = 0;

  /** Adds `count` samples of `ms` milliseconds. */
  record(ms: number, count = 1): void {
    let units = Math.round(ms * UNITS_PER_MS);
    if (!(units >= 0)) units = 0;
    if (units > MAX_UNITS) units = MAX_UNITS;
    this.counts[bucketOf(units)]! += count;
    this.total += count;
    if (units > this.maxUnits) this.maxUnits = units;
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.total;
  }

  /**
   * The nearest-rank percentile (`fraction` in (0, 1]): the value at rank ceil(fraction * count),
   * reported as the middle of its bucket, capped at the largest sample. NaN when empty.
   */
  percentile(fraction: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) {
        const [low, width] = bucketRange(bucket);
        return Math.min(low + (width - 1) / 2, this.maxUnits) / UNITS_PER_MS;
      }
    }
    return this.maxUnits / UNITS_PER_MS;
  }

  /** Adds every sample of another histogram to this one. */
  merge(other: LatencyHistogram): void {
    for (let bucket = 0; bucket < BUCKETS; bucket++) this.counts[bucket]! += other.counts[bucket]!;
    this.total += other.total;
    if (other.maxUnits > this.maxUnits) this.maxUnits = other.maxUnits;
  }

  /** p50, p99, p99.9 and the maximum, in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.total,
      p50: this.percentile(0.5),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      max: this.maxUnits / UNITS_PER_MS,
    };
  }
}

/**
 * The exact nearest-rank percentile of a list of samples (the value at rank
 * ceil(fraction * n) in ascending order). NaN for an empty list.
 *
 * @example
 * ```ts
 * exactPercentile([5, 1, 4, 2, 3], 0.5); // 3
 * ```
 */
export function exactPercentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** The median of a few measurements, used to pick the representative of repeated runs. */
export function median(values: readonly number[]): number {
  return exactPercentile(values, 0.5);
}
