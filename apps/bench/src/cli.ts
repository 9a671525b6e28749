/**
 * `pnpm bench`: every benchmark in one run, each beside its baselines, as one table with its
 * targets, plus results/latest.json and results/throughput.svg.
 * `pnpm bench --quick` (or COMM_BENCH_QUICK=1) runs each one briefly for CI: it checks that every
 * benchmark works and every echoed line is right, not how fast anything is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { calibrateBurn } from './burn.js';
import { barChart, type ChartGroup } from './chart.js';
import { childNofile, CHILD_NOFILE, killAllChildren, startGenerator, startServer, type ServerCommand } from './children.js';
import type { LoadResult } from './generator.js';
import { median } from './histogram.js';
import { errorText, runMemoryScenario } from './memory.js';
import { describeMachine, idleShare, machineLine, type MachineInfo } from './machine.js';
import {
  evaluateTargets,
  formatMarkdown,
  formatTargetsMarkdown,
  formatMs,
  formatTable,
  type ResultRow,
  type TargetResult,
} from './report.js';
import { builtFile, serverScenarios, SUBJECT_COLOURS, type LoadScenario, type ServerChoice } from './scenarios.js';
import type { BenchOptions, BenchReport, BenchTarget } from './types.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    'no-node26': { type: 'boolean', default: false },
    markdown: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

function wantedGroup(group: string): boolean {
  return values.only === undefined || group.includes(values.only);
}

if (values.help) {
  process.stdout.write(`Usage: pnpm bench [--quick] [--only TEXT] [--rounds N] [--no-node26] | --markdown FILE

  --quick       run every benchmark briefly to check it works (CI); also COMM_BENCH_QUICK=1
  --only TEXT   run only the groups whose name contains TEXT (e.g. --only "1000 connections")
  --rounds N    repetitions of each server measurement; the median is reported (default 3, quick 1)
  --no-node26   do not look for Node 26 (npx -p node@26) for the threaded server's targets
                (COMM_BENCH_NODE26=/path/to/node names one)
  --markdown FILE  print a results file (e.g. results/latest.json) as Markdown tables, measure nothing
`);
  process.exit(0);
}

if (values.markdown !== undefined) {
  // Renders a results file as Markdown for the READMEs, without measuring anything.
  const results = JSON.parse(readFileSync(values.markdown, 'utf8')) as {
    machine: MachineInfo;
    quick: boolean;
    node26: string | null;
    rows: ResultRow[];
    targets: TargetResult[];
    notes: string[];
  };
  const groups = [...new Set(results.rows.map((row) => row.group))].filter(wantedGroup);
  process.stdout.write(
    `${machineLine(results.machine)}${results.node26 ? `; Node ${results.node26} where a group says Node 26` : ''}\n\n` +
      `${formatTargetsMarkdown(
        results.targets.filter((target) => groups.includes(target.group)),
        results.quick,
      )}\n\n` +
      `${formatMarkdown(results.rows, results.targets, results.quick, groups)}\n\n` +
      `${results.notes.map((note) => `- ${note}`).join('\n')}\n`,
  );
  process.exit(0);
}

const quick = values.quick || process.env.COMM_BENCH_QUICK === '1';
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
if (!Number.isSafeInteger(rounds) || rounds < 1) {
  process.stderr.write(`bench: --rounds must be a whole number >= 1, got ${values.rounds}\n`);
  process.exit(2);
}
const timing = quick ? { warmupMs: 150, durationMs: 500 } : { warmupMs: 1000, durationMs: 4000 };

const generatorScript = builtFile('./generator.js');

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Node 26 for the threaded server's targets: named, or through npx (cached after the first time). */
function findNode26(): { path: string; version: string } | undefined {
  try {
    const path =
      process.env.COMM_BENCH_NODE26 ??
      execFileSync('npx', ['-y', '-p', 'node@26', 'node', '-p', 'process.execPath'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 120_000,
      }).trim();
    const version = execFileSync(path, ['-p', 'process.version'], { encoding: 'utf8', timeout: 30_000 }).trim();
    return version.startsWith('v26.') ? { path, version } : undefined;
  } catch {
    return undefined;
  }
}

/** What one measurement gives: the generator's figures, and what the server said of itself. */
interface Measurement {
  result: LoadResult;
  /** e.g. the threaded server's mechanism. */
  mechanism?: string;
  /** Share of the lines each thread answered, e.g. "52/48 %". */
  threadShare?: string;
}

function threadShare(messages: ReadonlyArray<Record<string, unknown>>): string | undefined {
  const stats = messages.find((message) => message.stats !== undefined)?.stats as
    | { threads?: Array<{ linesIn?: number }> }
    | undefined;
  const lines = stats?.threads?.map((thread) => thread.linesIn ?? 0);
  const total = lines?.reduce((sum, value) => sum + value, 0) ?? 0;
  if (lines === undefined || lines.length < 2 || total === 0) return undefined;
  return `${lines.map((value) => Math.round((100 * value) / total)).join('/')} %`;
}

/** One server under one load: start it, drive it from a generator process, stop it. */
async function measureLoad(choice: ServerChoice & { command: ServerCommand }, scenario: LoadScenario): Promise<Measurement> {
  const server = await startServer(choice.command);
  let result: LoadResult;
  try {
    const generator = startGenerator(generatorScript, [
      '--port',
      String(server.port),
      '--connections',
      String(scenario.connections),
      '--depth',
      String(scenario.depth),
      '--warmup',
      String(timing.warmupMs),
      '--duration',
      String(timing.durationMs),
      '--server-pid',
      String(server.pid),
      '--deadline',
      String(timing.warmupMs + timing.durationMs + 90_000),
    ]);
    result = (await generator.finished()) as unknown as LoadResult;
  } finally {
    await server.stop();
  }
  const mechanism = server.info.mechanism;
  const share = threadShare(server.messages);
  return {
    result,
    ...(typeof mechanism === 'string' ? { mechanism } : {}),
    ...(share !== undefined ? { threadShare: share } : {}),
  };
}

function cores(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(2);
}

const generatorCores: number[] = [];

async function runLoadScenario(scenario: LoadScenario): Promise<ResultRow[]> {
  const measured = new Map<string, Measurement[]>();
  const failed = new Map<string, string>();
  // Rounds interleave the servers, so a burst of noise from a neighbour spreads over all of them.
  for (let round = 1; round <= rounds; round++) {
    for (const choice of scenario.servers) {
      if (!('command' in choice) || failed.has(choice.subject)) continue;
      progress(`${scenario.group} | ${choice.subject} | round ${round}/${rounds}`);
      try {
        const measurement = await measureLoad(choice, scenario);
        measured.set(choice.subject, [...(measured.get(choice.subject) ?? []), measurement]);
      } catch (error) {
        failed.set(choice.subject, errorText(error));
      }
    }
  }
  const headline = ({ result }: Measurement): number =>
    scenario.headline === 'throughput' ? result.linesPerSecond : result.latency.p50;
  return scenario.servers.map((choice): ResultRow => {
    const base = { group: scenario.group, subject: choice.subject };
    if (!('command' in choice)) return { ...base, status: 'skipped', reason: choice.skipped };
    const failure = failed.get(choice.subject);
    if (failure !== undefined) return { ...base, status: 'failed', reason: failure };
    const all = measured.get(choice.subject)!;
    const chosen = [...all].sort((a, b) => headline(a) - headline(b))[Math.floor((all.length - 1) / 2)]!;
    const { result } = chosen;
    generatorCores.push(result.generatorCores);
    const latency = result.latency;
    const details: Record<string, string> =
      scenario.headline === 'throughput'
        ? { p50: formatMs(latency.p50), p99: formatMs(latency.p99), 'p99.9': formatMs(latency.p999) }
        : { p99: formatMs(latency.p99), 'p99.9': formatMs(latency.p999), 'lines/s': result.linesPerSecond.toFixed(0) };
    details['gen cpu'] = cores(result.generatorCores);
    details['server cpu'] = cores(result.serverCores);
    if (chosen.mechanism !== undefined) details.mechanism = chosen.mechanism;
    if (chosen.threadShare !== undefined) details['lines by thread'] = chosen.threadShare;
    return {
      ...base,
      status: 'ok',
      value: headline(chosen),
      unit: scenario.headline === 'throughput' ? 'lines/s' : 'ms',
      details,
      data: { ...result, ...chosen, result: undefined, rounds: all.map(headline) },
    };
  });
}

/** Runs the codec or client benchmark module from dist/. */
async function runPackageModule(
  file: string,
  exportName: 'runCodecBench' | 'runClientBench',
  group: string,
  subject: string,
): Promise<{ rows: ResultRow[]; targets: BenchTarget[]; notes: string[] }> {
  const path = builtFile(file);
  if (!existsSync(path)) throw new Error(`${path} is missing: build @comm/bench first (pnpm bench does)`);
  progress(`${group}`);
  try {
    const module = (await import(path)) as Record<string, (options: BenchOptions) => Promise<BenchReport>>;
    const run = module[exportName];
    if (typeof run !== 'function') throw new Error(`${file} does not export ${exportName}`);
    const limitMs = quick ? 90_000 : 600_000;
    let timer: NodeJS.Timeout | undefined;
    const report = await Promise.race([
      run({ quick }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs / 1000} s`)), limitMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return {
      rows: report.rows.map((row) => ({ ...row, status: 'ok' as const })),
      targets: report.targets,
      notes: report.notes ?? [],
    };
  } catch (error) {
    return { rows: [{ group, subject, status: 'failed', reason: errorText(error) }], targets: [], notes: [] };
  }
}

function chartGroups(scenarios: readonly LoadScenario[], rows: readonly ResultRow[]): ChartGroup[] {
  return scenarios
    .filter((scenario) => scenario.chartLabel !== undefined)
    .map((scenario) => ({
      label: scenario.chartLabel!,
      bars: rows
        .filter((row) => row.group === scenario.group && row.status === 'ok')
        .map((row) => ({ subject: row.subject, value: row.status === 'ok' ? row.value : 0 })),
    }))
    .filter((group) => group.bars.length > 0);
}

async function main(): Promise<number> {
  const machine = describeMachine();
  const loadAtStart = os.loadavg()[0]!;
  const idleAtStart = await idleShare(2000);
  const nofile = await childNofile();
  progress(`${quick ? 'quick' : 'full'} run on ${machineLine(machine)}; children get ulimit -n ${nofile}`);

  const rows: ResultRow[] = [];
  const targets: BenchTarget[] = [];
  const notes: string[] = [];

  for (const [file, name, group, subject] of [
    ['./codec.js', 'runCodecBench', 'codec (issue 2)', '@comm/protocol LineDecoder'],
    ['./client.js', 'runClientBench', 'client (issue 3)', '@comm/client'],
  ] as const) {
    if (!wantedGroup(group)) continue;
    const result = await runPackageModule(file, name, group, subject);
    rows.push(...result.rows);
    targets.push(...result.targets);
    notes.push(...result.notes);
  }

  const memoryConnections = quick ? 500 : Math.min(10_000, nofile - 200);
  if (memoryConnections < 10_000 && !quick)
    notes.push(`memory measured with ${memoryConnections} connections: ulimit -n is ${nofile}`);
  const cpuHandler = builtFile('./handlers/cpu-burn.js');
  const currentMajor = Number(process.versions.node.split('.')[0]);
  const node26 = quick || values['no-node26'] || currentMajor >= 26 ? undefined : findNode26();
  if (!quick && !values['no-node26'] && currentMajor < 26 && node26 === undefined) {
    notes.push('Node 26 not found (npx -p node@26): the threaded server was measured on this Node only');
  }
  const burnIterations = calibrateBurn(1);
  const scenarios = serverScenarios({
    quick,
    memoryConnections,
    burnIterations,
    ...(existsSync(cpuHandler) ? { cpuHandler } : {}),
    ...(node26 !== undefined ? { node26: node26.path } : {}),
  }).filter((scenario) => wantedGroup(scenario.group));

  for (const scenario of scenarios) {
    rows.push(
      ...(scenario.kind === 'load'
        ? await runLoadScenario(scenario)
        : await runMemoryScenario(scenario, { quick, generatorScript, progress })),
    );
    targets.push(...scenario.targets);
  }

  if (generatorCores.length > 0) {
    notes.push(
      `load generator: one process, ${median(generatorCores).toFixed(2)} of a core (median; at most ${Math.max(...generatorCores).toFixed(2)}) during the measurement windows`,
    );
  }
  notes.push(`CPU handler: ${burnIterations} xorshift rounds per line, ~1 ms of CPU here (calibrated at start)`);

  const judged = evaluateTargets(rows, targets, quick);
  const loadAtEnd = os.loadavg()[0]!;
  // Figures from a shared machine mean little without how busy it was.
  const idleAtEnd = await idleShare(1000);
  const percent = (share: number | undefined): string => (share === undefined ? '?' : `${Math.round(share * 100)} %`);
  notes.push(
    `machine: ${percent(idleAtStart)} of its CPU idle just before the run and ${percent(idleAtEnd)} just after; ` +
      `load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end, on ${machine.cores} cores`,
  );
  const header = `comm bench, ${quick ? 'QUICK run (checks that each benchmark works; figures not judged)' : 'full run'}: ${machineLine(machine)}${
    node26 ? `; Node ${node26.version} where a group says Node 26` : ''
  }`;
  const table = formatTable(rows, judged, quick);
  process.stdout.write(`\n${header}\n\n${table}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`);

  const failures = rows.filter((row) => row.status === 'failed');
  // Only a whole full run replaces the committed figures; a quick or partial one goes to tmp/.
  const outDir = builtFile(quick || values.only !== undefined ? '../results/tmp/' : '../results/');
  mkdirSync(outDir, { recursive: true });
  const json = {
    machine,
    quick,
    rounds,
    timing,
    childNofile: nofile,
    requestedNofile: CHILD_NOFILE,
    node26: node26?.version ?? null,
    rows,
    targets: judged,
    notes,
  };
  writeFileSync(`${outDir}latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  const loadScenarios = scenarios.filter((scenario): scenario is LoadScenario => scenario.kind === 'load');
  const groups = chartGroups(loadScenarios, rows);
  if (groups.length > 0) {
    writeFileSync(
      `${outDir}throughput.svg`,
      barChart(
        'comm servers: echoed lines per second (64-byte lines, every reply verified)',
        'lines/s',
        groups,
        `${machineLine(machine)}${node26 ? `; Node ${node26.version} where a group says Node 26` : ''}`,
        SUBJECT_COLOURS,
      ),
    );
  }
  progress(`results written to ${outDir}latest.json${groups.length > 0 ? ' and throughput.svg' : ''}`);
  if (failures.length > 0) {
    process.stderr.write(`bench: ${failures.length} benchmark(s) FAILED:\n`);
    for (const failure of failures) {
      process.stderr.write(`  ${failure.group} | ${failure.subject}: ${failure.status === 'failed' ? failure.reason : ''}\n`);
    }
    return 1;
  }
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}
process.once('exit', killAllChildren);

main().then(
  (code) => {
    killAllChildren();
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAllChildren();
    process.exit(1);
  },
);
