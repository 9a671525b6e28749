/**
 * The codec benchmark of issue 2: decode throughput of `@comm/protocol`'s `LineDecoder` beside
 * `node:readline` over a stream, `split2`, and a bare `Buffer.toString('utf8')` of the same chunks.
 *
 * `runCodecBench({ quick })` returns a {@link BenchReport} (see types.ts): per line size one group,
 * e.g. `'codec, 64 B lines, 64 KiB chunks'`, with a row per subject whose `value` is MB/s
 * (10^6 bytes of input per second), and the issue's targets as ratios to the baselines, which the
 * runner computes and judges. It throws if any subject lost or altered a line.
 *
 * How it measures: the same input (mixed ASCII and multi-byte text, lines of exactly 64 B or
 * 1 KiB with their LF, after one short header line so that chunk edges fall inside lines and
 * sometimes inside characters) is cut into 64 KiB chunks once. Every subject first runs once
 * untimed and its lines are compared with the expected ones; then the subjects run in turns,
 * round after round (so noise from the rest of the machine spreads over all of them), and each
 * subject's best round is its figure, its median shown beside it.
 *
 * Run alone: `pnpm bench --only codec`, or after `pnpm --filter @comm/bench build`,
 * `node apps/bench/dist/codec.js [--quick]`.
 */
import { Buffer } from 'node:buffer';
import { once, type EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { LineDecoder } from '@comm/protocol';
import { median } from './histogram.js';
import { evaluateTargets, formatTable } from './report.js';
import type { BenchOptions, BenchReport, BenchRow, BenchTarget } from './types.js';

// split2 is CommonJS: loaded at run time so that tsup does not bundle it into this ES module.
const split2 = createRequire(import.meta.url)('split2') as typeof import('split2');

const CHUNK_BYTES = 64 * 1024;
const SUBJECT = '@comm/protocol LineDecoder';
const READLINE = 'node:readline';
const SPLIT2 = 'split2';
const BARE = 'Buffer.toString (bare decode)';

/** Words of 1 to 4 bytes per character; about one word in eight is not ASCII. */
const ASCII_WORDS =
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(
    ' ',
  );
const OTHER_WORDS = [
  'café',
  'naïve',
  'Straße',
  'über',
  'Ωμέγα',
  'привет',
  '日本語',
  '中文',
  '한국어',
  '€5',
  '😀',
  '🚀',
  '𝄞',
  '—',
];

/** The input of one line size: its bytes, its lines, and the 64 KiB chunks it is fed in. */
interface Input {
  lineBytes: number;
  bytes: Buffer;
  lines: string[];
  chunks: Buffer[];
  /** UTF-16 units a bare decode of the chunks gives (split characters become U+FFFD). */
  bareUnits: number;
}

/** A small deterministic generator, so every run measures the same text. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function makeInput(lineBytes: number, totalBytes: number): Input {
  const random = xorshift(lineBytes);
  const pick = (words: readonly string[]): string => words[Math.floor(random() * words.length)]!;
  const lines = ['comm codec bench'];
  let size = Buffer.byteLength(lines[0]!) + 1;
  while (size < totalBytes) {
    let line = '';
    let bytes = 0;
    for (;;) {
      const word = (line === '' ? '' : ' ') + pick(random() < 0.125 ? OTHER_WORDS : ASCII_WORDS);
      const wordBytes = Buffer.byteLength(word);
      if (bytes + wordBytes > lineBytes - 1) break;
      line += word;
      bytes += wordBytes;
    }
    line += '.'.repeat(lineBytes - 1 - bytes);
    lines.push(line);
    size += lineBytes;
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) chunks.push(bytes.subarray(start, start + CHUNK_BYTES));
  let bareUnits = 0;
  for (const chunk of chunks) bareUnits += chunk.toString('utf8').length;
  return { lineBytes, bytes, lines, chunks, bareUnits };
}

/** One way of turning the chunks into lines; `onLine` sees each line, `run` resolves with the count. */
type LineSplitter = (chunks: readonly Buffer[], onLine: (line: string) => void) => Promise<number>;

const splitters: Record<string, LineSplitter> = {
  [SUBJECT]: async (chunks, onLine) => {
    const decoder = new LineDecoder();
    let count = 0;
    const take = (items: ReturnType<LineDecoder['push']>): void => {
      for (const item of items) {
        if (typeof item !== 'string') throw item;
        onLine(item);
        count++;
      }
    };
    for (const chunk of chunks) take(decoder.push(chunk));
    take(decoder.end());
    return count;
  },
  // 'line' events rather than `for await`: the faster way to use readline.
  [READLINE]: (chunks, onLine) =>
    countLines(createInterface({ input: Readable.from(chunks), crlfDelay: Number.POSITIVE_INFINITY }), 'line', 'close', onLine),
  [SPLIT2]: (chunks, onLine) => countLines(Readable.from(chunks).pipe(split2()), 'data', 'end', onLine),
};

/** Hands each line an emitter emits to `onLine`, and resolves with their count once it is done. */
async function countLines(
  emitter: EventEmitter,
  lineEvent: string,
  doneEvent: string,
  onLine: (line: string) => void,
): Promise<number> {
  let count = 0;
  emitter.on(lineEvent, (line: string) => {
    onLine(line);
    count++;
  });
  await once(emitter, doneEvent);
  return count;
}

function ignoreLine(): void {}

/** The bare decode: no lines, only the UTF-16 units, which must add up to the expected count. */
function bareDecode(chunks: readonly Buffer[]): number {
  let units = 0;
  for (const chunk of chunks) units += chunk.toString('utf8').length;
  return units;
}

/** Runs every splitter once, untimed, and throws unless it gave exactly the expected lines. */
async function verify(input: Input): Promise<void> {
  for (const [name, split] of Object.entries(splitters)) {
    const seen: string[] = [];
    const count = await split(input.chunks, (line) => seen.push(line));
    const firstWrong = input.lines.findIndex((line, i) => seen[i] !== line);
    if (count !== input.lines.length || seen.length !== input.lines.length || firstWrong !== -1) {
      throw new Error(
        `${name} gave ${seen.length} lines for ${input.lines.length}` +
          (firstWrong === -1 ? '' : `; line ${firstWrong} differs: ${JSON.stringify(seen[firstWrong])}`),
      );
    }
  }
  if (bareDecode(input.chunks) !== input.bareUnits) throw new Error('bare decode gave a different text');
}

/** MB/s of each subject, round after round, with the subjects in turns. */
async function measure(input: Input, rounds: number): Promise<Map<string, number[]>> {
  const speeds = new Map<string, number[]>([...Object.keys(splitters), BARE].map((name) => [name, []]));
  const megabytes = input.bytes.length / 1e6;
  // Round 0 warms the JIT up and is not kept.
  for (let round = 0; round <= rounds; round++) {
    for (const [name, split] of Object.entries(splitters)) {
      const started = process.hrtime.bigint();
      const count = await split(input.chunks, ignoreLine);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (count !== input.lines.length) throw new Error(`${name} gave ${count} lines for ${input.lines.length}`);
      if (round > 0) speeds.get(name)!.push(megabytes / seconds);
    }
    const started = process.hrtime.bigint();
    const units = bareDecode(input.chunks);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (units !== input.bareUnits) throw new Error('bare decode gave a different text');
    if (round > 0) speeds.get(BARE)!.push(megabytes / seconds);
  }
  return speeds;
}

/**
 * Measures decode throughput for 64 B and 1 KiB lines; see the top of this file.
 *
 * @example
 * ```ts
 * const { rows, targets } = await runCodecBench({ quick: true });
 * ```
 */
export async function runCodecBench({ quick }: BenchOptions): Promise<BenchReport> {
  const totalBytes = quick ? 256 * 1024 : 32 * 1024 * 1024;
  const rounds = quick ? 1 : 15;
  const rows: BenchRow[] = [];
  const targets: BenchTarget[] = [];
  for (const lineBytes of [64, 1024]) {
    const group = `codec, ${lineBytes === 64 ? '64 B' : '1 KiB'} lines, 64 KiB chunks`;
    const input = makeInput(lineBytes, totalBytes);
    await verify(input);
    const speeds = await measure(input, rounds);
    for (const [subject, values] of speeds) {
      rows.push({
        group,
        subject,
        value: Math.max(...values),
        unit: 'MB/s',
        details: { median: `${median(values).toFixed(0)} MB/s` },
        data: { rounds: values.length, inputBytes: input.bytes.length, lines: input.lines.length, all: values },
      });
    }
    for (const [baseline, atLeast] of [
      [READLINE, 2.5],
      [SPLIT2, 1.7],
      [BARE, 0.8],
    ] as const) {
      targets.push({ group, subject: SUBJECT, baseline, atLeast, issue: 2 });
    }
  }
  const transcodes = Number(process.versions.node.split('.')[0]) < 24;
  return {
    rows,
    targets,
    notes: [
      `codec: ${quick ? `quick run over ${totalBytes / 1024} KiB per line size` : `best of ${rounds} rounds over ${totalBytes / 2 ** 20} MiB per line size, subjects in turns`}; every subject's lines checked once against the expected ones`,
      `codec: text is words with about one in eight non-ASCII (2-, 3- and 4-byte characters); LineDecoder decodes through ${transcodes ? "buffer.transcode (simdutf) on this Node, so it can beat the bare toString('utf8')" : "toString('utf8') on this Node"}`,
    ],
  };
}

// `node dist/codec.js [--quick]` runs this benchmark alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const report = await runCodecBench({ quick });
  const rows = report.rows.map((row) => ({ ...row, status: 'ok' as const }));
  process.stdout.write(`${formatTable(rows, evaluateTargets(rows, report.targets, quick), quick)}\n`);
  for (const note of report.notes ?? []) process.stdout.write(`${note}\n`);
}
