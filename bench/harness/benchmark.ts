/** What every benchmark module exports, and what it hands back to the runner. */

export interface BenchContext {
  /** `--quick`: shorter time boxes and smaller data sets; the whole run under a minute. */
  readonly quick: boolean;
  /** Progress line on stderr (the report is written at the end). */
  log(message: string): void;
}

export type Cell = string | number;

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export interface TargetCheck {
  readonly name: string;
  /** The target as issue 8 states it, e.g. `>= 70 % of the bare driver`. */
  readonly target: string;
  readonly measured: string;
  /** null: could not be measured in this run (reason in `measured`). */
  readonly pass: boolean | null;
}

export interface BenchmarkOutcome {
  /** Short paragraph: what was measured, against which baseline. */
  readonly summary: string;
  readonly tables: readonly Table[];
  readonly targets: readonly TargetCheck[];
  /** Findings: where the time goes, caveats, anything a reader must know to trust a number. */
  readonly notes: readonly string[];
  /** Raw numbers for report.json. */
  readonly data: unknown;
}

export interface Benchmark {
  readonly id: string;
  readonly title: string;
  run(context: BenchContext): Promise<BenchmarkOutcome>;
}

export interface BenchmarkRecord extends Partial<BenchmarkOutcome> {
  readonly id: string;
  readonly title: string;
  readonly status: 'ok' | 'failed' | 'pending' | 'skipped';
  readonly error?: string;
  readonly seconds: number;
}
