/**
 * `npm run bench [-- --quick] [--only id,id] [--out dir]`: runs the benchmarks of issue 8 one
 * after another (never in parallel: they would measure each other) and writes
 * `report.md` and `report.json` (default: next to this file). docs/benchmarks.md explains
 * every number.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Benchmark, BenchmarkRecord } from './harness/benchmark.js';
import { probeFsync } from './harness/fsync-probe.js';
import { currentLoad, machineInfo } from './harness/machine.js';
import { renderMarkdown, type RunReport } from './harness/render-report.js';
import { serverVersions } from './support/server-versions.js';
import { gatewayOverhead } from './gateway-overhead.js';
import { sqlAnalysis } from './sql-analysis.js';
import { grantCheck } from './grant-check.js';
import { auditAppend } from './audit-append.js';
import { reviewGate } from './review-gate.js';
import { expirySweep } from './expiry-sweep.js';

const BENCHMARKS: readonly Benchmark[] = [
  gatewayOverhead,
  sqlAnalysis,
  grantCheck,
  auditAppend,
  reviewGate,
  expirySweep,
];

const USAGE = `Usage: npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.id).join(',')}] [--out dir]`;

async function main(): Promise<number> {
  let values: { quick?: boolean; only?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !BENCHMARKS.some((b) => b.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const quick = values.quick === true;
  const outDir = resolve(values.out ?? dirname(fileURLToPath(import.meta.url)));
  // Created before any benchmark runs: a run must not end without a place to write.
  mkdirSync(outDir, { recursive: true });
  const started = performance.now();
  const atStart = { load: currentLoad(), fsync: probeFsync() };
  const log = (message: string) => {
    const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${t}s] ${message}\n`);
  };

  const records: BenchmarkRecord[] = [];
  for (const bench of BENCHMARKS) {
    if (only !== undefined && !only.includes(bench.id)) continue;
    log(`${bench.id}: ${bench.title}`);
    const t0 = performance.now();
    try {
      const outcome = await bench.run({ quick, log: (m) => log(`${bench.id}: ${m}`) });
      const pending = (outcome.data as { pending?: string } | null)?.pending;
      records.push({
        id: bench.id,
        title: bench.title,
        status: pending === undefined ? 'ok' : 'pending',
        ...(pending === undefined ? {} : { error: pending }),
        seconds: (performance.now() - t0) / 1000,
        ...outcome,
      });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${bench.id} FAILED: ${message}`);
      records.push({
        id: bench.id,
        title: bench.title,
        status: 'failed',
        error: message.split('\n')[0] ?? message,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }

  const report: RunReport = {
    mode: quick ? 'quick' : 'full',
    machine: machineInfo(new Date(), atStart),
    databases: await serverVersions(),
    totalSeconds: (performance.now() - started) / 1000,
    benchmarks: records,
  };
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'report.md'), renderMarkdown(report));
  log(`wrote ${join(outDir, 'report.md')} and report.json`);
  return records.some((r) => r.status === 'failed') ? 1 : 0;
}

main().then(
  // Exit explicitly: a driver's idle socket must not keep a finished run alive.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
