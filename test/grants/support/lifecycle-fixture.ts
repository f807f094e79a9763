import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import type { LifecycleConfig } from '../../../src/grants/lifecycle/lifecycle-config.js';
import type {
  LifecycleDeps,
  LifecycleLogger,
} from '../../../src/grants/lifecycle/lifecycle-deps.js';
import { registerLifecycle } from '../../../src/grants/lifecycle/lifecycle-app.js';
import { createOctokitLifecycleGithub } from '../../../src/grants/lifecycle/octokit/octokit-lifecycle-github.js';
import { openState, type State, type StateConfig } from '../../../src/state/open-state.js';
import type { Clock } from '../../../src/util/clock.js';
import { FakeRepoGithub, OWNER, REPO, type FakePull } from './fake-repo-github.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** The repository's own example policy, CODEOWNERS and databases: realistic rules. */
export function policyFiles(): Record<string, string> {
  const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
  return {
    'policies/databases.yaml': read('policies/databases.yaml'),
    'policies/risk.yaml': read('policies/risk.yaml'),
    '.github/CODEOWNERS': read('.github/CODEOWNERS'),
    'README.md': '# access\n',
  };
}

export function requestYaml(input: {
  requester: string;
  database?: string;
  tables?: readonly string[];
  duration?: string;
  expires?: string;
  reason?: string;
  ticket?: string;
}): string {
  const lines = [
    `requester: ${input.requester}`,
    `database: ${input.database ?? 'hr_prod'}`,
    'tables:',
    ...(input.tables ?? ['employee']).map((t) => `  - '${t}'`),
    'access: read',
    input.expires === undefined
      ? `duration: ${input.duration ?? '4h'}`
      : `expires: ${input.expires}`,
    `reason: ${input.reason ?? 'Investigating INC-42, payroll export'}`,
    ...(input.ticket === undefined ? [] : [`ticket: ${input.ticket}`]),
  ];
  return `${lines.join('\n')}\n`;
}

export function newRepo(): FakeRepoGithub {
  const repo = new FakeRepoGithub(policyFiles());
  repo.teams.set(
    'acme/dba',
    new Map<string, 'active' | 'pending'>([
      ['dora', 'active'],
      ['dan', 'active'],
      ['pat', 'pending'],
    ]),
  );
  repo.teams.set(
    'acme/security',
    new Map<string, 'active' | 'pending'>([
      ['sam', 'active'],
      ['sue', 'active'],
    ]),
  );
  return repo;
}

export const CONFIG: LifecycleConfig = {
  repository: { owner: OWNER, name: REPO },
  autoMergeRevocations: false,
  maxPerSweep: 50,
  appId: undefined,
};

/** Octokit as in production but without retries and throttling, so failures surface at once. */
export const TestOctokit = ProbotOctokit.defaults({
  retry: { enabled: false },
  throttle: { enabled: false },
});

export interface Logged {
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string;
}

export function memoryLogger(): LifecycleLogger & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** A settable clock: tests move time by assignment, never by sleeping. */
export function manualClock(start: Date): Clock & { set(at: Date | string): void } {
  let now = start.getTime();
  const clock = (() => new Date(now)) as Clock & { set(at: Date | string): void };
  clock.set = (at) => {
    now = new Date(at).getTime();
  };
  return clock;
}

export interface SqliteFixture {
  readonly config: StateConfig;
  cleanup(): void;
}

export function sqliteStateConfig(): SqliteFixture {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lifecycle-'));
  return {
    config: { kind: 'sqlite', path: join(dir, 'gatehouse.db') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function lifecycleDeps(
  state: LifecycleDeps['state'],
  clock: Clock,
  overrides: Partial<LifecycleDeps> = {},
): LifecycleDeps & { readonly log: ReturnType<typeof memoryLogger> } {
  const log = memoryLogger();
  const octokit = new TestOctokit({ auth: 'test' });
  return {
    config: CONFIG,
    state,
    clock,
    log,
    github: async () => createOctokitLifecycleGithub(octokit),
    ...overrides,
  } as LifecycleDeps & { readonly log: ReturnType<typeof memoryLogger> };
}

export async function openSqliteState(
  clock: Clock,
): Promise<{ state: State; cleanup(): Promise<void> }> {
  const fixture = sqliteStateConfig();
  const state = await openState(fixture.config, clock);
  return {
    state,
    async cleanup() {
      await state.close();
      fixture.cleanup();
    },
  };
}

export function startNock(): void {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
}

export function stopNock(): void {
  nock.cleanAll();
  nock.enableNetConnect();
}

/** Probot with the lifecycle loaded, as the server runs it (token auth for tests). */
export async function lifecycleProbot(deps: LifecycleDeps): Promise<Probot> {
  const probot = new Probot({ githubToken: 'test', Octokit: TestOctokit });
  await probot.load((app) => registerLifecycle(app, deps));
  return probot;
}

// Real payload shapes from @octokit/webhooks-examples, retargeted at the test repository.
const require = createRequire(import.meta.url);
const EXAMPLES = require('@octokit/webhooks-examples') as {
  name: string;
  examples: { action?: string; ref?: string; [key: string]: unknown }[];
}[];

function example(name: string, pick: (e: { action?: string; ref?: string }) => boolean) {
  const found = EXAMPLES.find((e) => e.name === name)?.examples.find(pick);
  if (found === undefined) throw new Error(`no webhook example ${name}`);
  return structuredClone(found) as Record<string, unknown>;
}

function retarget(payload: Record<string, unknown>): void {
  const repository = payload.repository as Record<string, unknown>;
  repository.name = REPO;
  repository.full_name = `${OWNER}/${REPO}`;
  repository.default_branch = 'main';
  repository.master_branch = 'main';
  (repository.owner as Record<string, unknown>).login = OWNER;
  (repository.owner as Record<string, unknown>).name = OWNER;
  payload.installation = { id: 42, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=' };
}

/** `pull_request.closed` for a PR of the fake repository, as GitHub sends it after a merge. */
export function closedPayload(repo: FakeRepoGithub, pull: FakePull): Record<string, unknown> {
  const payload = example('pull_request', (e) => e.action === 'closed');
  retarget(payload);
  payload.number = pull.number;
  const json = repo.pullJson(pull);
  const pr = payload.pull_request as Record<string, unknown>;
  Object.assign(pr, {
    number: pull.number,
    state: 'closed',
    merged: json.merged,
    merged_at: json.merged_at,
    merge_commit_sha: json.merge_commit_sha,
    merged_by: pull.mergedBy === null ? null : { ...(pr.user as object), login: pull.mergedBy },
    html_url: json.html_url,
  });
  (pr.user as Record<string, unknown>).login = pull.author;
  Object.assign(pr.head as Record<string, unknown>, { ref: pull.headRef, sha: repo.headOf(pull) });
  Object.assign(pr.base as Record<string, unknown>, { ref: pull.baseRef, sha: pull.baseSha });
  return payload;
}

/** `push` to the default branch as GitHub sends it. */
export function pushPayload(
  repo: FakeRepoGithub,
  input: { before: string; after: string; pusher: string; changes: Record<string, string | null> },
): Record<string, unknown> {
  const payload = example('push', (e) => e.ref === 'refs/heads/master');
  retarget(payload);
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  const before = repo.tree(input.before);
  for (const [path, content] of Object.entries(input.changes)) {
    if (content === null) removed.push(path);
    else if (before.has(path)) modified.push(path);
    else added.push(path);
  }
  const commits = payload.commits as Record<string, unknown>[];
  const template = structuredClone(commits[0] ?? payload.head_commit) as Record<string, unknown>;
  const commit = { ...template, id: input.after, added, removed, modified };
  Object.assign(payload, {
    ref: 'refs/heads/main',
    before: input.before,
    after: input.after,
    created: false,
    deleted: false,
    forced: false,
    commits: [commit],
    head_commit: commit,
    pusher: { name: input.pusher, email: `${input.pusher}@example.com` },
  });
  return payload;
}
