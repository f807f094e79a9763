/**
 * Benchmark 6: the expiry sweep over 1,000 expired grants: GitHub API calls, time, PRs
 * opened, against the fake GitHub (test/fake-github).
 *
 * The access repository holds 1,000 request files merged in one commit; the state store
 * (SQLite, as shipped) holds their 1,000 grants, all expired. `sweepExpired(deps, { now })`
 * (src/grants/lifecycle/expiry-sweeper.ts) runs with the shipped budget per sweep
 * (GATEHOUSE_EXPIRY_MAX_PER_SWEEP, default 50) until nothing remains, as `serve` would over
 * successive periods, then once more to show a rerun opens nothing.
 *
 *   - 0 ms injected latency: the whole 1,000, throttling off (the CPU cost of the sweep
 *     and of the fake, which runs in this process).
 *   - 50 ms injected latency: the first sweeps, throttling off: the cost of round trips.
 *   - throttling as shipped (Probot's @octokit/plugin-throttling, which spaces writes 1 s
 *     apart and 3 s for notifying ones such as opening a PR): a few grants, to show the
 *     time per revocation PR a real installation sees.
 * Baseline: the calls a sweep makes when there is nothing to do (the rerun).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Probot, ProbotOctokit } from 'probot';
import { DEFAULT_MAX_PER_SWEEP } from '../src/grants/lifecycle/lifecycle-config.js';
import type { LifecycleDeps } from '../src/grants/lifecycle/lifecycle-deps.js';
import { sweepExpired, type SweepReport } from '../src/grants/lifecycle/expiry-sweeper.js';
import { installationGithub } from '../src/grants/lifecycle/installation-github.js';
import { openState, type State } from '../src/state/open-state.js';
import {
  generateAppPrivateKey,
  startFakeGitHub,
  type FakeGitHub,
} from '../test/fake-github/fake-github.js';
import type { Benchmark, BenchContext, BenchmarkOutcome, Cell } from './harness/benchmark.js';
import { ms } from './harness/format.js';
import { BENCH_REPO, benchGrant } from './support/bench-grants.js';
import { seedSqliteGrants } from './support/seed-sqlite-grants.js';

const [OWNER, NAME] = BENCH_REPO.split('/') as [string, string];
const APP_ID = 4242;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Scenario {
  readonly label: string;
  readonly grants: number;
  readonly latencyMs: number;
  readonly throttling: boolean;
  /** Stop after this many sweeps (the rest is extrapolated), or run until done. */
  readonly maxSweeps: number;
}

interface SweepRun {
  readonly sweep: number;
  readonly ms: number;
  readonly calls: number;
  readonly opened: number;
  readonly other: number;
  readonly remaining: boolean;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly sweeps: readonly SweepRun[];
  readonly rerun: SweepRun | null;
  readonly openPulls: number;
  readonly byRoute: Readonly<Record<string, number>>;
  readonly setupMs: number;
}

function requestFile(i: number): string {
  return [
    '# yaml-language-server: $schema=../../schemas/access-request.schema.json',
    `requester: user-${i}`,
    'database: hr_test',
    'tables: [employee]',
    'access: read',
    'duration: 4h',
    `reason: Benchmark grant ${i}.`,
    '',
  ].join('\n');
}

function filePath(i: number): string {
  return `access/hr_test/user-${i}-bench.yaml`;
}

async function runScenario(scenario: Scenario, context: BenchContext): Promise<ScenarioResult> {
  const t0 = performance.now();
  const privateKey = generateAppPrivateKey();
  const fake: FakeGitHub = await startFakeGitHub({
    appId: APP_ID,
    privateKeyPem: privateKey,
    latencyMs: scenario.latencyMs,
  });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sweep-'));
  let state: State | undefined;
  try {
    await fake.addOrg(OWNER);
    await fake.createRepo(OWNER, NAME, { files: { 'README.md': '# access\n' } });
    const files: Record<string, string> = {};
    for (let i = 0; i < scenario.grants; i++) files[filePath(i)] = requestFile(i);
    const { sha } = await fake.pushDirect({ repo: BENCH_REPO, files, author: 'dba-bob' });

    const now = new Date();
    const statePath = join(dir, 'gatehouse.db');
    state = await openState({ kind: 'sqlite', path: statePath }, () => now);
    const grants = Array.from({ length: scenario.grants }, (_v, i) => ({
      ...benchGrant({
        requester: `user-${i}`,
        database: 'hr_test',
        tables: ['employee'],
        activatedAt: new Date(now.getTime() - 5 * 3_600_000),
        expiresAt: new Date(now.getTime() - 3_600_000),
        serial: i,
      }),
      filePath: filePath(i),
      mergeSha: sha,
    }));
    seedSqliteGrants(statePath, grants);
    const probot = new Probot({
      appId: APP_ID,
      privateKey,
      baseUrl: fake.apiUrl,
      logLevel: 'fatal',
      Octokit: scenario.throttling
        ? ProbotOctokit
        : ProbotOctokit.defaults((options: Record<string, unknown>) => ({
            ...options,
            throttle: { ...(options['throttle'] as object), enabled: false },
          })),
    });
    const config = {
      repository: { owner: OWNER, name: NAME },
      autoMergeRevocations: false,
      maxPerSweep: DEFAULT_MAX_PER_SWEEP,
      appId: APP_ID,
    };
    const deps: LifecycleDeps = {
      config,
      state,
      clock: () => now,
      log: quiet,
      github: installationGithub(probot, config),
    };
    const setupMs = performance.now() - t0;
    fake.clearRecords();

    const sweeps: SweepRun[] = [];
    const once = async (sweep: number, limit?: number): Promise<SweepRun> => {
      const since = fake.requests.length;
      const started = performance.now();
      const report: SweepReport = await sweepExpired(deps, {
        now,
        ...(limit === undefined ? {} : { maxPerSweep: limit }),
      });
      const failed = report.items.filter((item) => item.outcome === 'failed');
      if (!report.ran || failed.length > 0 || report.stoppedEarly !== null) {
        throw new Error(
          `sweep ${sweep}: ran=${report.ran}, ${failed.length} failed, stopped: ${report.stoppedEarly?.message ?? 'no'}`,
        );
      }
      return {
        sweep,
        ms: performance.now() - started,
        calls: fake.requests.length - since,
        opened: report.items.filter((item) => item.outcome === 'opened').length,
        other: report.items.filter((item) => item.outcome !== 'opened').length,
        remaining: report.remaining,
      };
    };
    const budget = scenario.throttling ? scenario.grants : undefined;
    for (let sweep = 1; sweep <= scenario.maxSweeps; sweep++) {
      const run = await once(sweep, budget);
      sweeps.push(run);
      context.log(
        `${scenario.label}: sweep ${sweep}: ${run.opened} PRs opened, ${run.calls} calls, ${ms(run.ms)}`,
      );
      if (!run.remaining) break;
    }
    const done = sweeps.at(-1)?.remaining === false;
    const rerun = done ? await once(sweeps.length + 1) : null;
    if (rerun !== null && rerun.opened > 0) throw new Error('a rerun opened more PRs');
    const byRoute: Record<string, number> = {};
    for (const r of fake.requests) {
      const key = `${r.method} ${r.route ?? r.path}`;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
    }
    if (fake.unhandled.length > 0) {
      throw new Error(`the fake GitHub could not serve: ${JSON.stringify(fake.unhandled[0])}`);
    }
    const openPulls = fake.pullRequests(BENCH_REPO, 'open').length;
    const opened = sweeps.reduce((n, s) => n + s.opened, 0);
    if (openPulls !== opened) throw new Error(`${opened} PRs reported, ${openPulls} open`);
    return { scenario, sweeps, rerun, openPulls, byRoute, setupMs };
  } finally {
    await state?.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const expirySweep: Benchmark = {
  id: 'sweep',
  title: '6. Expiry sweep over 1,000 expired grants',
  async run(context: BenchContext): Promise<BenchmarkOutcome> {
    const scenarios: Scenario[] = context.quick
      ? [
          {
            label: '30 grants, 0 ms',
            grants: 30,
            latencyMs: 0,
            throttling: false,
            maxSweeps: 100,
          },
          { label: '10 grants, 50 ms', grants: 10, latencyMs: 50, throttling: false, maxSweeps: 1 },
        ]
      : [
          {
            label: '1,000 grants, 0 ms',
            grants: 1000,
            latencyMs: 0,
            throttling: false,
            maxSweeps: 100,
          },
          {
            label: '1,000 grants, 50 ms',
            grants: 1000,
            latencyMs: 50,
            throttling: false,
            maxSweeps: 2,
          },
          {
            label: 'throttling as shipped',
            grants: 3,
            latencyMs: 0,
            throttling: true,
            maxSweeps: 1,
          },
        ];
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) results.push(await runScenario(scenario, context));
    return outcome(results, context.quick);
  },
};

function outcome(results: readonly ScenarioResult[], quick: boolean): BenchmarkOutcome {
  const rows: Cell[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    const s = r.scenario;
    const total = r.sweeps.reduce(
      (acc, run) => ({
        ms: acc.ms + run.ms,
        calls: acc.calls + run.calls,
        opened: acc.opened + run.opened,
      }),
      { ms: 0, calls: 0, opened: 0 },
    );
    const complete = r.sweeps.at(-1)?.remaining === false;
    const perPr = total.opened === 0 ? Number.NaN : total.ms / total.opened;
    const callsPerPr = total.opened === 0 ? Number.NaN : total.calls / total.opened;
    rows.push([
      s.label,
      s.grants,
      `${s.latencyMs} ms`,
      s.throttling ? 'on (shipped)' : 'off',
      r.sweeps.length + (complete ? '' : ' (stopped)'),
      total.opened,
      total.calls,
      callsPerPr.toFixed(2),
      ms(total.ms),
      ms(perPr),
      complete && s.grants === 1000 ? ms(total.ms) : `≈ ${ms(perPr * 1000)} (extrapolated)`,
      r.rerun === null ? '' : `${r.rerun.calls} calls, ${r.rerun.opened} opened, ${ms(r.rerun.ms)}`,
    ]);
    if (r.rerun !== null && s.grants >= 100) {
      notes.push(
        `The rerun, with every revocation PR open, makes ${r.rerun.calls} calls (the default ` +
          'branch, its tree, and the open PRs listed 100 per page) and opens nothing; its ' +
          `${ms(r.rerun.ms)} are spent in this process, not waiting for GitHub (served at 0 ms ` +
          'latency): for each grant with an open PR the sweeper re-checks its bookkeeping in the ' +
          'state store (ensureRevocationPr → record).',
      );
    }
    if (s.latencyMs === 50 && !s.throttling) {
      notes.push(
        `At 50 ms per request a revocation PR takes ${ms(perPr)}: the sweep handles grants one ` +
          `after another and each needs ${callsPerPr.toFixed(1)} calls, mostly in sequence ` +
          `(blob check, branch, deletion commit, PR, label). 1,000 grants would take about ` +
          `${ms(perPr * s.grants)} of sweeping, in ${Math.ceil(s.grants / DEFAULT_MAX_PER_SWEEP)} sweeps of ${DEFAULT_MAX_PER_SWEEP}.`,
      );
    }
    if (s.throttling) {
      notes.push(
        `With Probot's throttling as shipped, each revocation PR took ${ms(perPr)} here: the ` +
          'plugin spaces write requests at least 1 s apart and notifying ones (opening a PR) 3 s. ' +
          `At that pace 1,000 revocation PRs need about ${ms(perPr * 1000)}. GitHub itself allows ` +
          'about 80 content-creating requests per minute and 500 per hour ' +
          '(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits); ' +
          'each revocation PR makes 4 content-creating requests (branch, deletion commit, PR, ' +
          'label), so 1,000 of them need at least 8 hours of that budget: one PR per grant is ' +
          'correct and idempotent, but a mass expiry drains over hours (the budget per sweep ' +
          'keeps each run bounded; access itself ended at expiry, checked on every query).',
      );
    }
  }
  const full = results.find((r) => r.scenario.latencyMs === 0 && !r.scenario.throttling);
  const routeRows: Cell[][] =
    full === undefined
      ? []
      : Object.entries(full.byRoute)
          .sort((a, b) => b[1] - a[1])
          .map(([route, count]) => [
            route,
            count,
            (count / Math.max(1, full.openPulls)).toFixed(2),
          ]);
  return {
    summary:
      `${quick ? 'Quick run: 30' : '1,000'} request files merged on the default branch and as many expired grants in ` +
      'the SQLite state; `sweepExpired` with the shipped budget of ' +
      `${DEFAULT_MAX_PER_SWEEP} grants per sweep, repeated until nothing remains, then once more ` +
      "(the rerun must open nothing). API calls from the fake GitHub's request log; every " +
      'opened PR is checked to be open on the fake.',
    tables: [
      {
        title: 'Expiry sweeps',
        columns: [
          'scenario',
          'expired grants',
          'latency',
          'throttling',
          'sweeps',
          'PRs opened',
          'API calls',
          'calls per PR',
          'time',
          'time per PR',
          'time for 1,000',
          'rerun (baseline)',
        ],
        rows,
      },
      {
        title: `API calls by route (${full?.scenario.label ?? 'n/a'}, sweeps and rerun)`,
        columns: ['route', 'calls', 'per PR'],
        rows: routeRows,
      },
    ],
    targets: [],
    notes,
    data: { results },
  };
}
