import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where and when figures were measured: they mean nothing without it. */
export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

/** Describes this machine (CPU model from /proc/cpuinfo where there is one). */
export function describeMachine(now = new Date()): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // not Linux: os.cpus() said it
  }
  return {
    date: now.toISOString().slice(0, 10),
    cpuModel,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** One line for headers and captions: `2025-11-24, AMD EPYC (2 cores), Node v20.20.2, linux ...`. */
export function machineLine(machine: MachineInfo): string {
  return `${machine.date}, ${machine.cpuModel} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, ${machine.platform}`;
}

function cpuTimes(): { idle: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // idle + iowait count as idle; steal counts as busy (another guest had the core).
    return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

/**
 * How much of the machine's CPU sat idle over `ms` (0..1), from /proc/stat; undefined off Linux.
 * The load average on a shared VM says little; this says whether others were computing.
 */
export async function idleShare(ms: number): Promise<number | undefined> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  if (before === undefined || after === undefined || after.total === before.total) return undefined;
  return (after.idle - before.idle) / (after.total - before.total);
}
