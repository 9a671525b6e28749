import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerCommand } from './children.js';
import type { BenchTarget } from './types.js';

/** The built files sit beside this module in dist/, one entry per child process. */
export function builtFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** The names the table uses for each server; baselines keep the same name in every group. */
const SUBJECTS = {
  seq: '@comm/server-seq',
  threaded2: '@comm/server-threaded, 2 threads',
  threaded1: '@comm/server-threaded, 1 thread',
  pipe: 'raw pipe echo (Node ceiling)',
  readline: 'net + readline echo',
  python: 'python3 socketserver (thread per client)',
} as const;

/** Each server keeps its colour in the chart whatever else was measured: ours blue, baselines muted. */
export const SUBJECT_COLOURS: Readonly<Record<string, string>> = {
  [SUBJECTS.seq]: '#2563eb',
  [SUBJECTS.threaded2]: '#1e3a8a',
  [SUBJECTS.threaded1]: '#60a5fa',
  [SUBJECTS.pipe]: '#9ca3af',
  [SUBJECTS.readline]: '#f59e0b',
  [SUBJECTS.python]: '#16a34a',
};

/** A server to start for a scenario, or why it cannot be. */
export type ServerChoice = { subject: string; command: ServerCommand } | { subject: string; skipped: string };

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import socketserver'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

let pythonPresent: boolean | undefined;

/** Options for our own servers, passed to their launchers as arguments. */
interface OurServerOptions {
  threads?: number;
  /** A handler module (path), for the threaded server. */
  handler?: string;
  /** The sequential server's cap on waiting clients. */
  maxWaiting?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The servers the bench can start, each as a child process of the given Node binary.
 *
 * @example
 * ```ts
 * const servers = serverCommands(process.execPath);
 * const choice = servers.pipe();
 * if ('command' in choice) await startServer(choice.command);
 * ```
 */
function serverCommands(node: string, runtimeLabel = '') {
  const suffix = runtimeLabel === '' ? '' : `, ${runtimeLabel}`;
  const nodeServer = (subject: string, script: string, args: string[] = [], env?: NodeJS.ProcessEnv): ServerChoice => {
    const file = builtFile(script);
    if (!existsSync(file)) throw new Error(`${file} is missing: build @comm/bench first (pnpm bench does)`);
    return {
      subject,
      command: { name: subject + suffix, command: [node, file, ...args], ...(env ? { env: { ...process.env, ...env } } : {}) },
    };
  };
  const ours = (options: OurServerOptions): string[] => [
    ...(options.threads !== undefined ? ['--threads', String(options.threads)] : []),
    ...(options.handler !== undefined ? ['--handler', options.handler] : []),
    ...(options.maxWaiting !== undefined ? ['--max-waiting', String(options.maxWaiting)] : []),
  ];
  return {
    pipe: () => nodeServer(SUBJECTS.pipe, './servers/pipe-echo.js'),
    readline: () => nodeServer(SUBJECTS.readline, './servers/readline-echo.js'),
    python: (): ServerChoice => {
      pythonPresent ??= hasPython();
      if (!pythonPresent) return { subject: SUBJECTS.python, skipped: 'python3 not found' };
      const script = fileURLToPath(new URL('../servers/socketserver_echo.py', import.meta.url));
      return { subject: SUBJECTS.python, command: { name: SUBJECTS.python, command: ['python3', script] } };
    },
    seq: (options: OurServerOptions = {}) => nodeServer(SUBJECTS.seq, './servers/comm-seq.js', ours(options), options.env),
    threaded: (subject: string, options: OurServerOptions = {}) =>
      nodeServer(subject, './servers/comm-threaded.js', ours(options), options.env),
  };
}

/** N connections each keeping D lines of 64 bytes in flight, on each server of the group. */
export interface LoadScenario {
  kind: 'load';
  group: string;
  /** Short name of the load for the chart's x axis; absent for scenarios left off the chart. */
  chartLabel?: string;
  connections: number;
  depth: number;
  /** `throughput`: lines/s is the headline; `latency`: the median per-line round trip is. */
  headline: 'throughput' | 'latency';
  servers: ServerChoice[];
  targets: BenchTarget[];
}

/** Resident memory per connection with many connections open. */
export interface MemoryScenario {
  kind: 'memory';
  group: string;
  connections: number;
  /** `first`: one served client, the rest wait (sequential server); `all`: each gets one echo. */
  servers: Array<ServerChoice & { echo: 'first' | 'all' }>;
  targets: BenchTarget[];
}

export type Scenario = LoadScenario | MemoryScenario;

/** How big and how long: the full run, or CI's quick check that everything works. */
export interface ScenarioScale {
  quick: boolean;
  /** Connections held for the memory scenarios. */
  memoryConnections: number;
  /** The ~1 ms CPU handler module, when built. */
  cpuHandler?: string;
  /** Iterations of burnCpu that take ~1 ms here, passed to the handler through the environment. */
  burnIterations: number;
  /** Node 26 for the threaded server's targets, when it can be found. */
  node26?: string;
}

/** Every server scenario of issues 4 and 5, in the order the table shows them. */
export function serverScenarios(scale: ScenarioScale): Scenario[] {
  const here = serverCommands(process.execPath);
  const major = process.versions.node.split('.')[0];
  const seqThroughput = 'seq server: 1 connection x 256 lines in flight';
  const seqPingPong = 'seq server: ping-pong (1 line in flight), median round trip';
  const scenarios: Scenario[] = [
    {
      kind: 'load',
      group: seqThroughput,
      chartLabel: `1 x 256, Node ${major}`,
      connections: 1,
      depth: 256,
      headline: 'throughput',
      servers: [here.seq(), here.pipe(), here.readline(), here.python()],
      targets: [
        { group: seqThroughput, subject: SUBJECTS.seq, baseline: SUBJECTS.pipe, atLeast: 0.7, issue: 4 },
        { group: seqThroughput, subject: SUBJECTS.seq, baseline: SUBJECTS.readline, atLeast: 5, issue: 4 },
      ],
    },
    {
      kind: 'load',
      group: seqPingPong,
      connections: 1,
      depth: 1,
      headline: 'latency',
      servers: [here.seq(), here.pipe(), here.readline()],
      targets: [{ group: seqPingPong, subject: SUBJECTS.seq, baseline: SUBJECTS.pipe, atMost: 1.2, issue: 4 }],
    },
  ];

  const threadedLoads = (node: string, runtime: string, withPython: boolean): Scenario[] => {
    const servers = serverCommands(node, runtime);
    const informational = Number(runtime) < 26;
    return [
      [100, 16],
      [1000, 4],
    ].map(([connections, depth]): Scenario => {
      const group = `threaded server: ${connections} connections x ${depth} in flight, Node ${runtime}`;
      return {
        kind: 'load',
        group,
        chartLabel: `${connections} x ${depth}, Node ${runtime}`,
        connections: connections!,
        depth: depth!,
        headline: 'throughput',
        servers: [
          servers.threaded(SUBJECTS.threaded2, { threads: 2 }),
          servers.pipe(),
          servers.readline(),
          ...(withPython ? [servers.python()] : []),
        ],
        // Issue 5 sets these on Node 26 and asks what Node 20 reaches: older runtimes are shown, not judged.
        targets: [
          { group, subject: SUBJECTS.threaded2, baseline: SUBJECTS.pipe, atLeast: 0.7, issue: 5, informational },
          { group, subject: SUBJECTS.threaded2, baseline: SUBJECTS.readline, atLeast: 5, issue: 5, informational },
        ],
      };
    });
  };
  scenarios.push(...threadedLoads(process.execPath, major ?? '?', true));
  if (scale.node26 !== undefined) scenarios.push(...threadedLoads(scale.node26, '26', false));

  const cpuGroup = 'threaded server: handler burning ~1 ms CPU per line, 16 connections x 4';
  const burnEnv = { COMM_BENCH_BURN_ITERATIONS: String(scale.burnIterations) };
  const cpuServers = (node: string, runtime: string): ServerChoice[] => {
    const servers = serverCommands(node, runtime);
    if (scale.cpuHandler === undefined) throw new Error('the CPU handler is missing: build @comm/bench first (pnpm bench does)');
    return [2, 1].map((threads) =>
      servers.threaded(threads === 2 ? SUBJECTS.threaded2 : SUBJECTS.threaded1, {
        threads,
        handler: scale.cpuHandler!,
        env: burnEnv,
      }),
    );
  };
  const cpuScenario = (node: string, runtime: string): Scenario => {
    const group = `${cpuGroup}, Node ${runtime}`;
    return {
      kind: 'load',
      group,
      connections: 16,
      depth: 4,
      headline: 'throughput',
      servers: cpuServers(node, runtime),
      targets: [{ group, subject: SUBJECTS.threaded2, baseline: SUBJECTS.threaded1, atLeast: 1.7, issue: 5 }],
    };
  };
  scenarios.push(cpuScenario(process.execPath, major ?? '?'));
  if (scale.node26 !== undefined) scenarios.push(cpuScenario(scale.node26, '26'));

  const memoryGroup = `memory: resident memory per connection, Node ${major} unless named, ${scale.memoryConnections.toLocaleString('en-US')} connections`;
  scenarios.push({
    kind: 'memory',
    group: memoryGroup,
    connections: scale.memoryConnections,
    servers: [
      { ...here.seq({ maxWaiting: scale.memoryConnections + 10 }), subject: `${SUBJECTS.seq} (waiting clients)`, echo: 'first' },
      { ...here.threaded(SUBJECTS.threaded2, { threads: 2 }), subject: `${SUBJECTS.threaded2} (idle)`, echo: 'all' },
      ...(scale.node26 !== undefined
        ? [
            {
              ...serverCommands(scale.node26, '26').threaded(SUBJECTS.threaded2, { threads: 2 }),
              subject: `${SUBJECTS.threaded2}, Node 26 (idle)`,
              echo: 'all' as const,
            },
          ]
        : []),
      { ...here.pipe(), subject: 'plain Node net echo (idle)', echo: 'all' },
      ...(scale.node26 !== undefined
        ? [{ ...serverCommands(scale.node26, '26').pipe(), subject: 'plain Node net echo, Node 26 (idle)', echo: 'all' as const }]
        : []),
      { ...here.python(), subject: `${SUBJECTS.python} (idle)`, echo: 'all' },
    ],
    targets: [
      { group: memoryGroup, subject: `${SUBJECTS.threaded2} (idle)`, atMost: 7, issue: 5 },
      ...(scale.node26 !== undefined
        ? [{ group: memoryGroup, subject: `${SUBJECTS.threaded2}, Node 26 (idle)`, atMost: 7, issue: 5 }]
        : []),
    ],
  });
  return scenarios;
}
