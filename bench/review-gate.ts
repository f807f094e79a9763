/**
 * Benchmark 5: the review gate's cost per evaluation, in wall time and GitHub API calls, for
 * pull requests with 1, 10 and 100 request files, against the fake GitHub (test/fake-github)
 * with 50 ms injected latency per request and with none.
 *
 *   - evaluation: `evaluatePullRequest(gateway, …)` through the Octokit adapter on Probot's
 *     installation Octokit as shipped (retry and throttling plugins on; throttling lets at
 *     most 10 requests run at once per process).
 *   - webhook event: the whole `pull_request.opened` handler (`registerReviewGate` via
 *     `probot.receive`): evaluation plus check run, labels and comment. Measured once per
 *     size at 50 ms, with throttling as shipped, which spaces writes (1 s, 3 s for those that
 *     notify, such as comments).
 * Baseline: the fixed calls an evaluation of a 1-file PR needs; the target is that each extra
 * file costs at most one more call (its content).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Probot, ProbotOctokit } from 'probot';
import { evaluatePullRequest } from '../src/github/evaluate-pull-request.js';
import { createOctokitGateway } from '../src/github/octokit/octokit-github-gateway.js';
import { registerReviewGate } from '../src/github/review-gate.js';
import {
  generateAppPrivateKey,
  startFakeGitHub,
  type FakeGitHub,
} from '../test/fake-github/fake-github.js';
import type {
  Benchmark,
  BenchContext,
  BenchmarkOutcome,
  Cell,
  TargetCheck,
} from './harness/benchmark.js';
import { ms } from './harness/format.js';

const OWNER = 'acme';
const NAME = 'access';
const REPO = `${OWNER}/${NAME}`;
const AUTHOR = 'dev-alice';
const DBA = 'dba-bob';
const APP_ID = 4242;
const SIZES = [1, 10, 100] as const;
const ROOT = new URL('..', import.meta.url).pathname;

function repoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function requestFile(i: number): string {
  return [
    '# yaml-language-server: $schema=../../schemas/access-request.schema.json',
    `requester: ${AUTHOR}`,
    'database: hr_test',
    'tables: [employee]',
    'access: read',
    'duration: 4h',
    `reason: Benchmark request ${i} for the review gate, checking the employee table.`,
    '',
  ].join('\n');
}

interface Sample {
  readonly files: number;
  readonly latencyMs: number;
  readonly kind: 'evaluation' | 'evaluation, throttling off' | 'webhook event';
  readonly wallMs: readonly number[];
  readonly calls: number;
  readonly byRoute: Readonly<Record<string, number>>;
  readonly conclusion: string;
}

interface Setup {
  readonly fake: FakeGitHub;
  readonly probot: Probot;
  /** The same app with Octokit's throttling plugin off, to show what it costs. */
  readonly unthrottled: Probot;
  readonly installationId: number;
  readonly pulls: ReadonlyMap<number, number>;
}

async function setUp(latencyMs: number): Promise<Setup> {
  const privateKey = generateAppPrivateKey();
  const fake = await startFakeGitHub({ latencyMs, appId: APP_ID, privateKeyPem: privateKey });
  await fake.addOrg(OWNER);
  await fake.addTeam(OWNER, 'dba');
  await fake.addTeam(OWNER, 'security');
  await fake.addTeam(OWNER, 'audit');
  await fake.addUser(AUTHOR);
  await fake.addUser(DBA);
  await fake.addTeamMember(OWNER, 'dba', DBA);
  await fake.createRepo(OWNER, NAME, {
    files: {
      'policies/databases.yaml': repoFile('policies/databases.yaml'),
      'policies/risk.yaml': repoFile('policies/risk.yaml'),
      '.github/CODEOWNERS': repoFile('.github/CODEOWNERS'),
    },
  });
  const installationId = fake.installationId(OWNER);
  const pulls = new Map<number, number>();
  for (const size of SIZES) {
    const files: Record<string, string> = {};
    for (let i = 0; i < size; i++) {
      files[`access/hr_test/${AUTHOR}-${size}-${String(i).padStart(3, '0')}.yaml`] = requestFile(i);
    }
    const branch = `bench-${size}`;
    await fake.pushCommit({ repo: REPO, branch, files, author: AUTHOR });
    const pr = await fake.openPullRequest({
      repo: REPO,
      head: branch,
      title: `Access: ${size} request(s)`,
      author: AUTHOR,
    });
    await fake.review({ repo: REPO, number: pr.number, reviewer: DBA, state: 'APPROVED' });
    pulls.set(size, pr.number);
  }
  const probot = new Probot({
    appId: APP_ID,
    privateKey,
    baseUrl: fake.apiUrl,
    logLevel: 'fatal',
    Octokit: ProbotOctokit,
  });
  // Probot always passes throttle options, so only a function default turns it off
  // (docs/testing.md).
  const unthrottled = new Probot({
    appId: APP_ID,
    privateKey,
    baseUrl: fake.apiUrl,
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      throttle: { ...(options['throttle'] as object), enabled: false },
    })),
  });
  return { fake, probot, unthrottled, installationId, pulls };
}

function routeCounts(fake: FakeGitHub, since: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of fake.requests.slice(since)) {
    const key = `${r.method} ${r.route ?? r.path}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export const reviewGate: Benchmark = {
  id: 'review',
  title: '5. Review gate: wall time and GitHub API calls per evaluation',
  async run(context: BenchContext): Promise<BenchmarkOutcome> {
    const iterations = context.quick ? 1 : 6;
    const samples: Sample[] = [];
    for (const latencyMs of [0, 50]) {
      const setup = await setUp(latencyMs);
      const { fake, probot, installationId, pulls } = setup;
      try {
        const variants: [Sample['kind'], Probot][] = [['evaluation', probot]];
        if (latencyMs === 50) variants.push(['evaluation, throttling off', setup.unthrottled]);
        for (const [kind, app] of variants) {
          const octokit = await app.auth(installationId);
          const gateway = createOctokitGateway(octokit, { appId: APP_ID });
          // Untimed: the first request also fetches the installation token (cached for 1 h).
          await evaluatePullRequest(gateway, {
            owner: OWNER,
            repo: NAME,
            pullNumber: pulls.get(1) as number,
            now: new Date(),
          });
          for (const size of SIZES) {
            const pullNumber = pulls.get(size) as number;
            const wall: number[] = [];
            let calls = 0;
            let byRoute: Record<string, number> = {};
            let conclusion = '';
            for (let i = 0; i < iterations; i++) {
              const since = fake.requests.length;
              const t0 = performance.now();
              const evaluation = await evaluatePullRequest(gateway, {
                owner: OWNER,
                repo: NAME,
                pullNumber,
                now: new Date(),
              });
              wall.push(performance.now() - t0);
              conclusion = evaluation.conclusion;
              if (evaluation.conclusion !== 'success') {
                throw new Error(
                  `${size}-file PR evaluated ${evaluation.conclusion}: ${evaluation.codes.join(', ')}`,
                );
              }
              calls = fake.requests.length - since;
              byRoute = routeCounts(fake, since);
            }
            samples.push({
              files: size,
              latencyMs,
              kind,
              wallMs: wall,
              calls,
              byRoute,
              conclusion,
            });
            context.log(
              `${kind}, ${size} file(s), ${latencyMs} ms latency: ${calls} calls, median ${ms(median(wall))}`,
            );
          }
        }
        if (latencyMs === 50 && !context.quick) {
          // The whole handler of one `pull_request.opened` delivery, as Probot runs it.
          probot.load((app) =>
            registerReviewGate(app, {
              config: {
                repository: { owner: OWNER, name: NAME },
                requestReviews: false,
                appId: APP_ID,
              },
              clock: () => new Date(),
            }),
          );
          for (const size of SIZES) {
            const pullNumber = pulls.get(size) as number;
            const delivery = fake
              .deliveriesOf('pull_request', 'opened')
              .find((d) => (d.payload as { number: number }).number === pullNumber);
            if (delivery === undefined) throw new Error(`no opened delivery for #${pullNumber}`);
            const since = fake.requests.length;
            const t0 = performance.now();
            await probot.receive({
              id: `bench-${size}`,
              name: 'pull_request',
              payload: delivery.payload,
            } as Parameters<Probot['receive']>[0]);
            const wallMs = performance.now() - t0;
            const check = fake.latestCheckRun(
              REPO,
              (fake.pullRequest(REPO, pullNumber) as { head: { sha: string } }).head.sha,
              'Gatehouse / access policy',
            );
            samples.push({
              files: size,
              latencyMs,
              kind: 'webhook event',
              wallMs: [wallMs],
              calls: fake.requests.length - since,
              byRoute: routeCounts(fake, since),
              conclusion: String((check as { conclusion?: unknown } | null)?.conclusion ?? 'none'),
            });
            context.log(
              `webhook event, ${size} file(s): ${fake.requests.length - since} calls, ${ms(wallMs)}`,
            );
          }
        }
        if (fake.unhandled.length > 0) {
          throw new Error(`the fake GitHub could not serve: ${JSON.stringify(fake.unhandled[0])}`);
        }
      } finally {
        await fake.close();
      }
    }
    return outcome(samples, iterations);
  },
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

const CONTENTS = 'GET /repos/{owner}/{repo}/contents/{+path}';

function outcome(samples: readonly Sample[], iterations: number): BenchmarkOutcome {
  const evaluations = samples.filter((s) => s.kind === 'evaluation');
  const unthrottled = samples.filter((s) => s.kind === 'evaluation, throttling off');
  const at = (files: number, latencyMs: number) =>
    evaluations.find((s) => s.files === files && s.latencyMs === latencyMs);
  const rows: Cell[][] = samples.map((s) => {
    const contents = s.byRoute[CONTENTS] ?? 0;
    // Only like with like: the 0 ms runs use the shipped (throttled) Octokit.
    const zero = s.kind === 'evaluation' ? at(s.files, 0) : undefined;
    return [
      s.kind,
      s.files,
      `${s.latencyMs} ms`,
      s.calls,
      contents,
      s.calls - contents,
      ms(median(s.wallMs)),
      ms(Math.max(...s.wallMs)),
      zero === undefined || s.latencyMs === 0 ? '' : ms(median(s.wallMs) - median(zero.wallMs)),
      s.conclusion,
    ];
  });
  const one = at(1, 50);
  const targets: TargetCheck[] = [];
  if (one !== undefined) {
    for (const n of [10, 100]) {
      const s = at(n, 50);
      if (s === undefined) continue;
      const extraCalls = s.calls - one.calls;
      targets.push({
        name: `API calls, ${n} files vs 1 file`,
        target: `at most one more call per extra file (+${n - 1})`,
        measured: `${s.calls} vs ${one.calls} calls (+${extraCalls}; ${((s.byRoute[CONTENTS] ?? 0) / n).toFixed(2)} content fetches per file incl. policy files)`,
        pass: extraCalls <= n - 1,
      });
    }
  }
  const routeTable: Cell[][] = [];
  const routes = new Set(evaluations.flatMap((s) => Object.keys(s.byRoute)));
  for (const route of [...routes].sort()) {
    routeTable.push([route, ...SIZES.map((n) => at(n, 50)?.byRoute[route] ?? 0)]);
  }
  const events = samples.filter((s) => s.kind === 'webhook event');
  const eventRoutes = new Set(events.flatMap((s) => Object.keys(s.byRoute)));
  const eventTable: Cell[][] = [...eventRoutes]
    .sort()
    .map((route) => [route, ...events.map((s) => s.byRoute[route] ?? 0)]);
  return {
    summary:
      'A PR by the requester adding N valid request files (hr_test, 4 h), approved by a member ' +
      "of the DBA team, against the repository's own policies/ and CODEOWNERS, served by the " +
      `fake GitHub over loopback HTTP. Evaluation: ${iterations} runs per cell (median and max). ` +
      'API calls are counted from the fake\'s request log. "Added by latency" is the median ' +
      'at 50 ms minus the median at 0 ms: the cost of round trips.',
    tables: [
      {
        title: 'Per evaluation and per webhook event',
        columns: [
          'what',
          'request files',
          'latency',
          'API calls',
          'of which contents',
          'other calls',
          'wall (median)',
          'wall (max)',
          'added by latency',
          'check',
        ],
        rows,
      },
      {
        title: 'API calls per evaluation by route (50 ms latency)',
        columns: ['route', ...SIZES.map((n) => `${n} file(s)`)],
        rows: routeTable,
      },
      {
        title: 'API calls of one pull_request.opened event by route (50 ms latency)',
        columns: ['route', ...events.map((s) => `${s.files} file(s)`)],
        rows: eventTable,
      },
    ],
    targets,
    notes: [
      'Calls per evaluation: the PR, its files, commits and reviews (one page each up to 100), ' +
        'the three policy files from the base branch (databases.yaml, risk.yaml, CODEOWNERS), ' +
        'one content fetch per request file at the head, and one team-membership check per ' +
        '(team, login) asked, cached for the evaluation.',
      "The wall time at 50 ms is set by round trips: the fetches run in parallel, but Probot's " +
        'throttling plugin lets at most 10 requests run at once per process (its global ' +
        'group), so 100 content fetches take at least 10 rounds of 50 ms.',
      `With the throttling plugin off, the same evaluations take ${unthrottled
        .map((s) => `${ms(median(s.wallMs))} (${s.files} file(s))`)
        .join(
          ', ',
        )} at 50 ms: the plugin's scheduler (Bottleneck) also adds time to every request.`,
      'The webhook event adds the check run (find, create, complete), labels and the comment. ' +
        "Probot's throttling spaces writes at least 1 s apart, 3 s for those that notify " +
        "(the comment), which dominates its wall time and does not depend on the PR's size.",
    ],
    data: { samples },
  };
}
