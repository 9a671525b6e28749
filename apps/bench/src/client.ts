/**
 * The client benchmark (issue 3), called by the runner as `runClientBench({ quick })`.
 *
 * Two groups, each subject and its baseline against the same server in the same run:
 * - pipelined throughput, 64-byte lines: `@comm/client`'s `pipeline()` (and `request()` for
 *   reference) against a minimal hand-written `net` client, same window of lines in flight;
 * - the `comm` command as a filter (a child process reading a pipe) against a client that
 *   waits for each reply before it sends the next line, as the textbook client does.
 *
 * The server is the raw pipe echo child (`servers/pipe-echo.js`): it costs the least, so
 * the client is what limits the figures. Every reply is compared with its line; a wrong,
 * lost or reordered reply throws.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect as netConnect } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from '@comm/client';
import { startServer, type ServerProcess } from './children.js';
import { median } from './histogram.js';
import { builtFile } from './scenarios.js';
import type { BenchOptions, BenchReport, BenchRow, BenchTarget } from './types.js';

/** Lines of 64 bytes with their LF: a 12-digit sequence number and a fixed filler. */
const FILLER = ' comm client bench line, sixty-four bytes with its LF..';
const LINE_CHARS = 63;
function lineOf(index: number): string {
  return String(index).padStart(12, '0') + FILLER.slice(0, LINE_CHARS - 12);
}

/** Lines in flight for both pipelining clients: the client's own default. */
const WINDOW = 1024;

const SUBJECT = {
  batches: '@comm/client pipelineBatches()',
  pipeline: '@comm/client pipeline()',
  request: '@comm/client request(), window in flight',
  minimal: 'minimal net client (hand-written)',
  filter: 'comm filter (child process, stdin pipe)',
  waitEach: 'client that waits for each reply',
} as const;

function wrongReply(who: string, index: number, reply: string): Error {
  return new Error(`${who}: reply ${index} is ${JSON.stringify(reply.slice(0, 80))}, expected ${JSON.stringify(lineOf(index))}`);
}

/**
 * `@comm/client`: the lines from a generator through `pipelineBatches()` (replies in arrays,
 * one per read) or `pipeline()` (one reply per iteration), each reply checked.
 */
async function runPipeline(port: number, count: number, batches: boolean): Promise<number> {
  const client = await connect('127.0.0.1', port);
  const who = batches ? SUBJECT.batches : SUBJECT.pipeline;
  try {
    function* lines(): Generator<string> {
      for (let index = 0; index < count; index++) yield lineOf(index);
    }
    const started = performance.now();
    let received = 0;
    if (batches) {
      for await (const replies of client.pipelineBatches(lines(), { window: WINDOW })) {
        for (const reply of replies) {
          if (reply !== lineOf(received)) throw wrongReply(who, received, reply);
          received++;
        }
      }
    } else {
      for await (const reply of client.pipeline(lines(), { window: WINDOW })) {
        if (reply !== lineOf(received)) throw wrongReply(who, received, reply);
        received++;
      }
    }
    const elapsed = performance.now() - started;
    if (received !== count) throw new Error(`${who}: ${received} of ${count} replies`);
    return count / (elapsed / 1000);
  } finally {
    await client.close();
  }
}

/** `@comm/client`: `request()` promises, keeping a window of them in flight. */
async function runRequests(port: number, count: number): Promise<number> {
  const client = await connect('127.0.0.1', port);
  try {
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const reply = await client.request(lineOf(index));
        if (reply !== lineOf(index)) throw wrongReply(SUBJECT.request, index, reply);
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    return count / ((performance.now() - started) / 1000);
  } finally {
    await client.close();
  }
}

/**
 * The baseline: what a developer writes by hand with `net` for the same job. Lines leave in
 * one write per batch, replies are split on LF as strings (UTF-8 decoded by the socket) and
 * each is checked; every batch of replies is answered with as many new lines in one write.
 * No line-length limit, no per-request state, no error handling beyond the check.
 */
async function runMinimal(port: number, count: number): Promise<number> {
  const socket = netConnect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  const started = performance.now();
  let sent = 0;
  let received = 0;
  let partial = '';
  const sendUpTo = (limit: number): void => {
    const end = Math.min(limit, count);
    if (end <= sent) return;
    const batch: string[] = [];
    for (let index = sent; index < end; index++) batch.push(lineOf(index));
    sent = end;
    socket.write(`${batch.join('\n')}\n`);
  };
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() as string;
      for (const reply of parts) {
        if (reply !== lineOf(received)) {
          reject(wrongReply(SUBJECT.minimal, received, reply));
          socket.destroy();
          return;
        }
        received++;
      }
      if (received === count) resolve();
      else sendUpTo(received + WINDOW);
    });
    sendUpTo(WINDOW);
  });
  const elapsed = performance.now() - started;
  socket.destroy();
  return count / (elapsed / 1000);
}

/** The textbook client's way: send one line, wait for its reply, then the next. */
async function runWaitEach(port: number, count: number): Promise<number> {
  const socket = netConnect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  const started = performance.now();
  let received = 0;
  let partial = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (text: string) => {
      partial += text;
      const lf = partial.indexOf('\n');
      if (lf === -1) return;
      const reply = partial.slice(0, lf);
      partial = partial.slice(lf + 1);
      if (reply !== lineOf(received)) {
        reject(wrongReply(SUBJECT.waitEach, received, reply));
        return;
      }
      received++;
      if (received === count) resolve();
      else socket.write(`${lineOf(received)}\n`);
    });
    socket.write(`${lineOf(0)}\n`);
  });
  const elapsed = performance.now() - started;
  socket.destroy();
  return count / (elapsed / 1000);
}

/** The `comm` bin of the installed `@comm/client`, as `npx comm` would run it. */
function commBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@comm/client/package.json')), 'dist', 'cli.js');
}

/**
 * `comm 127.0.0.1 PORT < lines`: the whole run of the command, process start included, as a
 * user of a shell pipeline sees it. Its stdout must be its stdin, byte for byte.
 */
async function runFilter(port: number, input: Buffer, count: number, limitMs: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [commBin(), '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`comm filter exited with ${code ?? signal}: ${stderr.trim()}`);
  if (Buffer.compare(Buffer.concat(output), input) !== 0) throw new Error('comm filter: its output differs from its input');
  return count / (elapsed / 1000);
}

function filterInput(count: number): Buffer {
  const lines: string[] = new Array(count);
  for (let index = 0; index < count; index++) lines[index] = lineOf(index);
  return Buffer.from(`${lines.join('\n')}\n`);
}

function formatRate(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} lines/s`;
}

/** Runs the client benchmarks; see the module comment. */
export async function runClientBench({ quick }: BenchOptions): Promise<BenchReport> {
  const rounds = quick ? 1 : 3;
  const pipelinedCount = quick ? 20_000 : 1_000_000;
  const filterCount = quick ? 20_000 : 1_000_000;
  const waitEachCount = quick ? 1_000 : 20_000;
  const pipelined = `client, 64 B lines, ${WINDOW} in flight, raw pipe echo`;
  const filterGroup = 'comm as a filter vs waiting for each reply, 64 B lines, raw pipe echo';

  const server: ServerProcess = await startServer({
    name: 'raw pipe echo',
    command: [process.execPath, builtFile('./servers/pipe-echo.js')],
  });
  const samples: Record<string, number[]> = Object.fromEntries(Object.values(SUBJECT).map((name) => [name, []]));
  try {
    const input = filterInput(filterCount);
    // A short unmeasured pass so the JIT has seen every path before the first figure.
    await runPipeline(server.port, Math.min(pipelinedCount, 20_000), true);
    await runPipeline(server.port, Math.min(pipelinedCount, 20_000), false);
    await runMinimal(server.port, Math.min(pipelinedCount, 20_000));
    // Rounds interleave the subjects, so noise from a neighbour spreads over all of them.
    for (let round = 0; round < rounds; round++) {
      samples[SUBJECT.batches]!.push(await runPipeline(server.port, pipelinedCount, true));
      samples[SUBJECT.minimal]!.push(await runMinimal(server.port, pipelinedCount));
      samples[SUBJECT.pipeline]!.push(await runPipeline(server.port, pipelinedCount, false));
      samples[SUBJECT.request]!.push(await runRequests(server.port, pipelinedCount));
      samples[SUBJECT.filter]!.push(await runFilter(server.port, input, filterCount, quick ? 60_000 : 180_000));
      samples[SUBJECT.waitEach]!.push(await runWaitEach(server.port, waitEachCount));
    }
  } finally {
    await server.stop();
  }

  const row = (group: string, subject: string, lines: number): BenchRow => {
    const values = samples[subject]!;
    return {
      group,
      subject,
      value: Math.round(median(values)),
      unit: 'lines/s',
      details: { lines: lines.toLocaleString('en-US'), rounds: String(values.length) },
      data: { samples: values.map(Math.round) },
    };
  };
  const rows: BenchRow[] = [
    row(pipelined, SUBJECT.batches, pipelinedCount),
    row(pipelined, SUBJECT.minimal, pipelinedCount),
    row(pipelined, SUBJECT.pipeline, pipelinedCount),
    row(pipelined, SUBJECT.request, pipelinedCount),
    row(filterGroup, SUBJECT.filter, filterCount),
    row(filterGroup, SUBJECT.waitEach, waitEachCount),
  ];
  const targets: BenchTarget[] = [
    { group: pipelined, subject: SUBJECT.batches, baseline: SUBJECT.minimal, atLeast: 0.8, issue: 3 },
    { group: filterGroup, subject: SUBJECT.filter, baseline: SUBJECT.waitEach, atLeast: 10, issue: 3 },
  ];
  const filterRate = median(samples[SUBJECT.filter]!);
  return {
    rows,
    targets,
    notes: [
      `client: each subject connects to one raw pipe echo child on 127.0.0.1 and checks every reply; median of ${rounds} interleaved round(s); pipeline() (one reply per await) ${formatRate(median(samples[SUBJECT.pipeline]!))} for reference`,
      `comm filter: the whole command (node start-up included) piping ${filterCount.toLocaleString('en-US')} lines, ${formatRate(filterRate)}; the wait-each client is a hand-written net client in the bench process`,
    ],
  };
}
