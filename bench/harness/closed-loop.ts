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
}

export interface LoadResult {
  readonly concurrency: number;
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
  const samples: number[] = [];
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
      if (started >= stopAt || samples.length + errors >= maxOps) return;
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
  const elapsedMs = Math.max(lastCompletion - measureFrom, 1e-9);
  return {
    concurrency: options.concurrency,
    ops: samples.length,
    errors,
    firstError,
    elapsedMs,
    opsPerSec: (samples.length / elapsedMs) * 1000,
    latency: summarize(samples),
  };
}
