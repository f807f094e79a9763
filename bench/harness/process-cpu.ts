import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** CPU time (user + system, µs) used so far by each group of processes. */
export type CpuSnapshot = Readonly<Record<string, number>>;

/** Which processes make up a group: this process, given pids, or every process whose
 * command name (`/proc/<pid>/comm`) is one of `names`. */
export type CpuGroup =
  | { readonly self: true }
  | { readonly pids: () => readonly number[] }
  | { readonly names: readonly string[] };

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process (all its threads) in µs; 0 when it is gone. */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond()) * 1e6;
  } catch {
    return 0;
  }
}

function pidsNamed(names: readonly string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/**
 * A sampler of CPU time per group, or undefined where /proc is not readable (not Linux).
 * Resolution is the kernel's clock tick (usually 10 ms), so it is meant for slices of a
 * second or more. A process that exits between two samples takes its CPU time with it; one
 * that starts between them counts from zero, which is all inside the interval.
 */
export function cpuSampler(
  groups: Readonly<Record<string, CpuGroup>>,
): (() => CpuSnapshot) | undefined {
  try {
    readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return () => {
    const out: Record<string, number> = {};
    for (const [name, group] of Object.entries(groups)) {
      if ('self' in group) {
        const usage = process.cpuUsage();
        out[name] = usage.user + usage.system;
      } else {
        const pids = 'pids' in group ? group.pids() : pidsNamed(group.names);
        out[name] = pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
      }
    }
    return out;
  };
}
