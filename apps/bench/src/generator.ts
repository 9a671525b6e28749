import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { LineSource } from './lines.js';

/** A reply that was lost, altered, repeated or out of order, or a connection that failed under load. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** What the load generator is asked to do. */
export interface LoadOptions {
  host?: string;
  port: number;
  /** How many connections (N). */
  connections: number;
  /** How many lines each connection keeps in flight (D). */
  depth: number;
  /** Bytes per line, its LF included. Default 64. */
  lineBytes?: number;
  /** Load before the measurement window opens, in ms. */
  warmupMs: number;
  /** The measurement window, in ms. */
  durationMs: number;
  /** Connections being opened at once. Default 200. */
  connectConcurrency?: number;
  /** Fail when a connection with lines in flight gets no byte back for this long. Default 30 s. */
  stallTimeoutMs?: number;
  /** A server process to sample the CPU time of over the window (Linux /proc). */
  serverPid?: number;
}

/** What one load run measured. */
export interface LoadResult {
  connections: number;
  depth: number;
  lineBytes: number;
  /** Replies received inside the measurement window. */
  lines: number;
  seconds: number;
  linesPerSecond: number;
  /** Per-line time from the write that sent it to the read that completed its reply, in ms. */
  latency: LatencySummary;
  /** Every reply of the run (warm-up and drain included), each compared byte for byte. */
  verifiedLines: number;
  /** CPU the generator used over the window, in cores (1 = one core busy all the time). */
  generatorCores: number;
  /** CPU the server process used over the window, in cores; absent when not sampled. */
  serverCores?: number;
}

type Phase = 'warmup' | 'measure' | 'drain';

/** The clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux we run on). */
const USER_HZ = 100;

/** The user + system CPU time of a process in ms, or undefined where /proc is not there. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * One connection of the generator: keeps `depth` lines in flight, refilling with one write per
 * read, and compares every reply byte with what was sent (lines have a fixed length, so the
 * number of completed lines follows from the byte count without scanning for LF).
 */
class LoadConnection {
  readonly source: LineSource;
  /** Send time of line n, at n % depth: at most `depth` lines are unanswered at once. */
  private readonly sentAt: Float64Array;
  /** Batches written and not yet fully answered, oldest first. */
  private readonly unanswered: Buffer[] = [];
  private unansweredOffset = 0;
  private receivedBytes = 0;
  sent = 0;
  answered = 0;
  lastProgress = performance.now();
  closed = false;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly depth: number,
    private readonly lineBytes: number,
    private readonly run: LoadRun,
  ) {
    this.source = new LineSource(id, lineBytes);
    this.sentAt = new Float64Array(depth);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      this.run.fail(
        new LoadError(`connection ${id} failed (${error.message}) with ${this.inFlight} of ${this.sent} lines unanswered`),
      ),
    );
    socket.on('close', () => {
      this.closed = true;
      if (this.answered < this.sent) {
        this.run.fail(
          new LoadError(`connection ${id} closed with ${this.sent - this.answered} of ${this.sent} lines unanswered`),
        );
      }
      this.run.onConnectionClosed();
    });
  }

  get inFlight(): number {
    return this.sent - this.answered;
  }

  /**
   * Tops the connection up to `depth` lines in flight, but only once at least `depth / 16` slots
   * are free: a server that writes each reply on its own would otherwise have the generator
   * answer every one-line read with a one-line write, spending a core on syscalls.
   */
  refill(now: number): void {
    const free = this.depth - this.inFlight;
    if (free >= this.minimumBatch) this.send(free, now);
  }

  private get minimumBatch(): number {
    return Math.max(1, Math.floor(this.depth / 16));
  }

  send(count: number, now: number): void {
    if (count <= 0) return;
    const batch = this.source.next(count);
    for (let n = this.sent, end = this.sent + count; n < end; n++) this.sentAt[n % this.depth] = now;
    this.sent += count;
    this.unanswered.push(batch);
    this.socket.write(batch);
  }

  private onData(chunk: Buffer): void {
    if (this.run.failure !== undefined) return;
    const now = performance.now();
    const problem = this.verify(chunk);
    if (problem !== undefined) {
      this.run.fail(problem);
      return;
    }
    this.receivedBytes += chunk.length;
    const done = Math.floor(this.receivedBytes / this.lineBytes);
    const newly = done - this.answered;
    if (newly === 0) return;
    this.lastProgress = now;
    if (this.run.phase === 'measure') this.recordLatencies(this.answered, done, now);
    this.answered = done;
    this.run.onAnswered(this, newly, now);
  }

  /** Lines of one batch share a send time, so they are recorded as one run of equal samples. */
  private recordLatencies(from: number, to: number, now: number): void {
    const histogram = this.run.histogram;
    let runStart = this.sentAt[from % this.depth]!;
    let runLength = 0;
    for (let n = from; n < to; n++) {
      const sentAt = this.sentAt[n % this.depth]!;
      if (sentAt !== runStart) {
        histogram.record(now - runStart, runLength);
        runStart = sentAt;
        runLength = 0;
      }
      runLength++;
    }
    histogram.record(now - runStart, runLength);
  }

  /** Compares a chunk with the bytes sent; returns the problem, if any. */
  private verify(chunk: Buffer): LoadError | undefined {
    let at = 0;
    while (at < chunk.length) {
      const expected = this.unanswered[0];
      if (expected === undefined) {
        return new LoadError(`connection ${this.id}: ${chunk.length - at} bytes arrived that answer no line sent`);
      }
      const length = Math.min(expected.length - this.unansweredOffset, chunk.length - at);
      if (chunk.compare(expected, this.unansweredOffset, this.unansweredOffset + length, at, at + length) !== 0) {
        let same = 0;
        while (chunk[at + same] === expected[this.unansweredOffset + same]) same++;
        const position = this.receivedBytes + at + same;
        const snippet = (bytes: Buffer, from: number): string =>
          JSON.stringify(bytes.toString('latin1', from, Math.min(bytes.length, from + 24)));
        return new LoadError(
          `connection ${this.id}: reply line ${Math.floor(position / this.lineBytes)} differs at byte ` +
            `${position % this.lineBytes}: expected ${snippet(expected, this.unansweredOffset + same)}, ` +
            `got ${snippet(chunk, at + same)}`,
        );
      }
      at += length;
      this.unansweredOffset += length;
      if (this.unansweredOffset === expected.length) {
        this.unanswered.shift();
        this.unansweredOffset = 0;
      }
    }
    return undefined;
  }
}

/** The state of one run, shared by its connections. */
class LoadRun {
  phase: Phase = 'warmup';
  readonly histogram = new LatencyHistogram();
  windowLines = 0;
  failure: LoadError | undefined;
  private onFailure: ((error: LoadError) => void) | undefined;
  private onDrained: (() => void) | undefined;
  readonly connections: LoadConnection[] = [];

  fail(error: LoadError): LoadError {
    if (this.failure === undefined) {
      this.failure = error;
      this.onFailure?.(error);
    }
    return this.failure;
  }

  whenFailed(callback: (error: LoadError) => void): void {
    this.onFailure = callback;
  }

  whenDrained(callback: () => void): void {
    this.onDrained = callback;
    this.checkDrained();
  }

  add(connection: LoadConnection): void {
    this.connections.push(connection);
  }

  onConnectionClosed(): void {}

  onAnswered(connection: LoadConnection, newly: number, now: number): void {
    if (this.phase === 'measure') this.windowLines += newly;
    if (this.phase === 'drain') {
      if (connection.inFlight === 0) this.checkDrained();
    } else if (this.failure === undefined) {
      connection.refill(now);
    }
  }

  private checkDrained(): void {
    if (this.onDrained !== undefined && this.connections.every((c) => c.inFlight === 0)) {
      const callback = this.onDrained;
      this.onDrained = undefined;
      callback();
    }
  }
}

/** Opens `count` connections, at most `concurrency` connecting at once. */
export async function openConnections(
  host: string,
  port: number,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<net.Socket[]> {
  const sockets: net.Socket[] = new Array(count);
  let next = 0;
  const connectOne = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LoadError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new LoadError(`connect to ${host}:${port}: ${error.message}`));
      });
    });
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      sockets[index] = await connectOne();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (error) {
    for (const socket of sockets) socket?.destroy();
    throw error;
  }
  return sockets;
}

/** Ends every socket and waits for the server to close it, destroying those that take too long. */
export async function closeAll(sockets: readonly net.Socket[], timeoutMs: number): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          const timer = setTimeout(() => socket.destroy(), timeoutMs);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.end();
        }),
    ),
  );
}

/**
 * Drives an echo server with N connections each keeping D lines in flight, verifies every
 * reply, and measures throughput and per-line latency over a window after a warm-up.
 * Rejects with a {@link LoadError} on any lost or wrong line, a connection lost under load,
 * or a server that stops answering.
 *
 * @example
 * ```ts
 * const result = await runLoad({ port: 2000, connections: 100, depth: 16, warmupMs: 1000, durationMs: 5000 });
 * console.log(result.linesPerSecond, result.latency.p99);
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const host = options.host ?? '127.0.0.1';
  const lineBytes = options.lineBytes ?? 64;
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const { connections: count, depth, warmupMs, durationMs } = options;
  if (!(count >= 1 && depth >= 1)) throw new RangeError('connections and depth must be at least 1');

  const sockets = await openConnections(host, options.port, count, options.connectConcurrency ?? 200, 10_000);
  const run = new LoadRun();
  for (const [id, socket] of sockets.entries()) run.add(new LoadConnection(id, socket, depth, lineBytes, run));

  const timers: NodeJS.Timeout[] = [];
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      run.whenFailed(reject);
      let windowStart = 0;
      let cpuStart = process.cpuUsage();
      let serverCpuStart: number | undefined;
      let result: Omit<LoadResult, 'verifiedLines'> | undefined;

      const start = performance.now();
      for (const connection of run.connections) connection.send(depth, start);

      timers.push(
        setTimeout(() => {
          run.phase = 'measure';
          windowStart = performance.now();
          cpuStart = process.cpuUsage();
          if (options.serverPid !== undefined) serverCpuStart = processCpuMs(options.serverPid);
        }, warmupMs),
        setTimeout(() => {
          run.phase = 'drain';
          const seconds = (performance.now() - windowStart) / 1000;
          const cpu = process.cpuUsage(cpuStart);
          const serverCpuEnd = options.serverPid !== undefined ? processCpuMs(options.serverPid) : undefined;
          result = {
            connections: count,
            depth,
            lineBytes,
            lines: run.windowLines,
            seconds,
            linesPerSecond: run.windowLines / seconds,
            latency: run.histogram.summary(),
            generatorCores: (cpu.user + cpu.system) / 1000 / 1000 / seconds,
            ...(serverCpuStart !== undefined && serverCpuEnd !== undefined
              ? { serverCores: (serverCpuEnd - serverCpuStart) / 1000 / seconds }
              : {}),
          };
          run.whenDrained(() => {
            const verifiedLines = run.connections.reduce((sum, c) => sum + c.answered, 0);
            resolve({ ...result!, verifiedLines });
          });
        }, warmupMs + durationMs),
      );

      const stallCheck = setInterval(
        () => {
          const now = performance.now();
          for (const connection of run.connections) {
            if (connection.inFlight > 0 && now - connection.lastProgress > stallTimeoutMs) {
              run.fail(
                new LoadError(
                  `connection ${connection.id}: no reply for ${stallTimeoutMs} ms with ${connection.inFlight} lines in flight`,
                ),
              );
              return;
            }
          }
        },
        Math.min(1000, stallTimeoutMs),
      );
      timers.push(stallCheck);
    });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    if (run.failure === undefined) await closeAll(sockets, 2000);
    else for (const socket of sockets) socket.destroy();
  }
}
