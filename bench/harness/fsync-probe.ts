import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './stats.js';

/**
 * Median and p99 time of a 4 KiB write + fdatasync in the temporary directory, where the
 * benchmarks keep their SQLite state. Durable commits cost at least this; on a shared
 * machine it moves with other processes' disk traffic, so the report records it at the start
 * and the end of a run.
 */
export function probeFsync(samples = 50): { readonly p50Ms: number; readonly p99Ms: number } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-fsync-'));
  const fd = openSync(join(dir, 'probe.bin'), 'w');
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push((performance.now() - t0) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const s = summarize(times);
  return { p50Ms: s.p50Us / 1000, p99Ms: s.p99Us / 1000 };
}
