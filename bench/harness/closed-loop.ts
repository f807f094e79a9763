import { summarize, type LatencySummary } from './stats.js';

export interface LoadOptions {
  /** Operations in flight at once: N workers, each starting its next operation when the
   * previous one finishes (a closed loop, like N users or N pooled clients). */
  readonly concurrency: number;
  /** Run unmeasured for this long first (JIT, pools, caches, TCP slow start). */
  readonly warmupMs: number;
  /** Measure operations started within this window. */
  readonly durationMs: number;
  /** Stop early after this many measured operations. */
  readonly maxOps?: number;
  /** When given, every measured latency (µs) is also pushed here. */
  readonly samples?: number[];
}

export interface LoadResult {
  readonly concurrency: number;
  /** CPU µs per operation by process group, when the run was given a CPU sampler. */
  readonly cpuUsPerOp?: Readonly<Record<string, number>>;
  readonly ops: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
}

/**
 * Drives `op` with `concurrency` workers and measures throughput and per-operation latency.
 * Operations started after the warm-up count; the window ends when the last of them
 * completes, so throughput is measured operations / (last completion - start of window).
 * A failing operation is counted, not timed: callers decide whether a run with errors is valid.
 */
export async function closedLoop(
  op: (worker: number, sequence: number) => Promise<void>,
  options: LoadOptions,
): Promise<LoadResult> {
  const samples: number[] = options.samples ?? [];
  const first = samples.length;
  let errors = 0;
  let firstError: string | null = null;
  let sequence = 0;
  const origin = performance.now();
  const measureFrom = origin + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  let lastCompletion = measureFrom;

  async function worker(id: number): Promise<void> {
    for (;;) {
      const started = performance.now();
      if (started >= stopAt || samples.length - first + errors >= maxOps) return;
      const measured = started >= measureFrom;
      try {
        await op(id, sequence++);
      } catch (error) {
        if (measured) errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
        continue;
      }
      if (measured) {
        const ended = performance.now();
        samples.push((ended - started) * 1000);
        if (ended > lastCompletion) lastCompletion = ended;
      }
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, (_v, i) => worker(i)));
  const mine = samples.slice(first);
  const elapsedMs = Math.max(lastCompletion - measureFrom, 1e-9);
  return {
    concurrency: options.concurrency,
    ops: mine.length,
    errors,
    firstError,
    elapsedMs,
    opsPerSec: (mine.length / elapsedMs) * 1000,
    latency: summarize(mine),
  };
}

export interface InterleaveOptions {
  readonly concurrency: number;
  /** Unmeasured run of every operation before the first round. */
  readonly warmupMs: number;
  /** Measured time per operation, split evenly over the rounds. */
  readonly durationMs: number;
  readonly rounds: number;
  /** Unmeasured lead-in of each slice (reconnects, caches of the other variants). */
  readonly sliceWarmupMs?: number;
  /** Samples CPU time per process group around each measured slice (harness/process-cpu.ts);
   * the result then reports CPU per operation, lead-in operations included. */
  readonly cpu?: () => Readonly<Record<string, number>>;
}

/**
 * Measures several operations against each other in interleaved slices (A B C, A B C, …)
 * rather than one after another, so slow drifts of a shared machine (other processes' CPU,
 * the disk's fsync time) fall on every operation alike instead of on whichever ran during
 * the bad minute. Each result merges its slices: throughput = all operations / all measured
 * time, percentiles over all samples.
 */
export async function interleaved<K extends string>(
  ops: Readonly<Record<K, (worker: number, sequence: number) => Promise<void>>>,
  options: InterleaveOptions,
): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(ops) as K[];
  const offsets = new Map<K, number>(keys.map((k) => [k, 0]));
  const cpuSpent = new Map<K, { calls: number; us: Record<string, number> }>(
    keys.map((k) => [k, { calls: 0, us: {} }]),
  );
  const run = async (key: K, warmupMs: number, durationMs: number, measured: boolean) => {
    const offset = offsets.get(key) ?? 0;
    const samples: number[] = [];
    let calls = 0;
    const before = measured ? options.cpu?.() : undefined;
    const result = await closedLoop(
      (w, s) => {
        calls += 1;
        return ops[key](w, offset + s);
      },
      { concurrency: options.concurrency, warmupMs, durationMs, samples },
    );
    const after = before === undefined ? undefined : options.cpu?.();
    const spent = cpuSpent.get(key);
    if (before !== undefined && after !== undefined && spent !== undefined) {
      spent.calls += calls;
      for (const [group, us] of Object.entries(after)) {
        spent.us[group] = (spent.us[group] ?? 0) + (us - (before[group] ?? 0));
      }
    }
    // Keep sequence numbers increasing across slices (the ops derive query texts from them).
    offsets.set(key, offset + result.ops + result.errors + 10 * options.concurrency + 1000);
    return { result, samples };
  };
  for (const key of keys) await run(key, options.warmupMs, 0, false);
  const merged = new Map<K, { results: LoadResult[]; samples: number[] }>(
    keys.map((k) => [k, { results: [], samples: [] }]),
  );
  const slice = options.durationMs / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    for (const key of keys) {
      const { result, samples } = await run(key, options.sliceWarmupMs ?? 0, slice, true);
      const entry = merged.get(key);
      entry?.results.push(result);
      for (const s of samples) entry?.samples.push(s);
    }
  }
  const out = {} as Record<K, LoadResult>;
  for (const key of keys) {
    const { results, samples } = merged.get(key) ?? { results: [], samples: [] };
    const ops = results.reduce((n, r) => n + r.ops, 0);
    const elapsedMs = results.reduce((n, r) => n + r.elapsedMs, 0);
    const spent = cpuSpent.get(key);
    const cpuUsPerOp =
      spent === undefined || spent.calls === 0
        ? undefined
        : Object.fromEntries(Object.entries(spent.us).map(([g, us]) => [g, us / spent.calls]));
    out[key] = {
      ...(cpuUsPerOp === undefined ? {} : { cpuUsPerOp }),
      concurrency: options.concurrency,
      ops,
      errors: results.reduce((n, r) => n + r.errors, 0),
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      elapsedMs,
      opsPerSec: (ops / Math.max(elapsedMs, 1e-9)) * 1000,
      latency: summarize(samples),
    };
  }
  return out;
}
