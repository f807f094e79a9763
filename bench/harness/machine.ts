import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { probeFsync } from './fsync-probe.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly date: string;
  /** 1-minute load average at the start and the end of the run: other work on the machine
   * (the cores are shared) shows here. */
  readonly loadAverage: { readonly start: number; readonly end: number };
  /** fdatasync of 4 KiB in the temporary directory (see fsync-probe.ts), start and end. */
  readonly fsync: {
    readonly start: { readonly p50Ms: number; readonly p99Ms: number };
    readonly end: { readonly p50Ms: number; readonly p99Ms: number };
  };
}

export function machineInfo(
  now: Date,
  atStart: { readonly load: number; readonly fsync: MachineInfo['fsync']['start'] },
): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: now.toISOString(),
    loadAverage: { start: atStart.load, end: currentLoad() },
    fsync: { start: atStart.fsync, end: probeFsync() },
  };
}

export function currentLoad(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
