import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

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
}

export function machineInfo(now: Date, loadAtStart: number): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: now.toISOString(),
    loadAverage: { start: loadAtStart, end: currentLoad() },
  };
}

export function currentLoad(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
