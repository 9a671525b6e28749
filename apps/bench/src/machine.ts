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
