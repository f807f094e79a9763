import { summarize, type LatencySummary } from './stats.js';

export interface MicroOptions {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Stop after this many measured calls even if time remains. */
  readonly maxIterations?: number;
  /** Run before each timed call, untimed (e.g. to clear a cache for a cold measurement). */
  readonly before?: (iteration: number) => void;
}

export interface MicroResult {
  readonly iterations: number;
  /** Calls per second of timed work (the sum of per-call times, not wall time). */
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
  /** Cost of an empty timed call on this machine; included in every sample. */
  readonly timerOverheadUs: number;
}

let overheadUs: number | undefined;

/** The timer's own cost: the median of timing an empty function. */
function timerOverheadUs(): number {
  if (overheadUs !== undefined) return overheadUs;
  const samples: number[] = [];
  const noop = (): void => undefined;
  for (let i = 0; i < 20_000; i++) {
    const t0 = process.hrtime.bigint();
    noop();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  overheadUs = summarize(samples).p50Us;
  return overheadUs;
}

/**
 * Times each call of a synchronous function with the monotonic nanosecond clock. Per-call
 * timing (rather than dividing a batch) keeps the tail visible; the timer's own cost (tens of
 * nanoseconds) is reported so readers can judge sub-microsecond results.
 */
export function measureSync(fn: (iteration: number) => void, options: MicroOptions): MicroResult {
  const overhead = timerOverheadUs();
  const warmupEnd = performance.now() + options.warmupMs;
  let i = 0;
  while (performance.now() < warmupEnd) {
    options.before?.(i);
    fn(i++);
  }
  const samples: number[] = [];
  const max = options.maxIterations ?? Number.POSITIVE_INFINITY;
  const end = performance.now() + options.durationMs;
  let total = 0;
  while (samples.length < max && performance.now() < end) {
    options.before?.(i);
    const t0 = process.hrtime.bigint();
    fn(i++);
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    samples.push(us);
    total += us;
  }
  return {
    iterations: samples.length,
    opsPerSec: samples.length / (total / 1e6),
    latency: summarize(samples),
    timerOverheadUs: overhead,
  };
}
