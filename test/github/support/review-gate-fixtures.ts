import { createRequire } from 'node:module';
import { Probot, ProbotOctokit } from 'probot';
import { registerReviewGate } from '../../../src/github/review-gate.js';
import type { ReviewGateConfig } from '../../../src/github/review-gate-config.js';
import { BASE_SHA, HEAD_SHA, OWNER, REPO, putFile, type FakeState } from './fake-github-api.js';

/** Real payload shapes from @octokit/webhooks-examples, retargeted at the test repository. */
const require = createRequire(import.meta.url);
const EXAMPLES = require('@octokit/webhooks-examples') as {
  name: string;
  examples: { action?: string; [key: string]: unknown }[];
}[];

function example(name: string, action: string): Record<string, unknown> {
  const found = EXAMPLES.find((e) => e.name === name)?.examples.find((x) => x.action === action);
  if (found === undefined) throw new Error(`no webhook example ${name}.${action}`);
  return structuredClone(found) as Record<string, unknown>;
}

export const NOW = new Date('2026-03-02T09:00:00Z');

export const CONFIG: ReviewGateConfig = {
  repository: { owner: OWNER, name: REPO },
  requestReviews: false,
  appId: undefined,
};

function retarget(payload: Record<string, unknown>, repo = REPO): void {
  const repository = payload.repository as Record<string, unknown>;
  repository.name = repo;
  repository.full_name = `${OWNER}/${repo}`;
  (repository.owner as Record<string, unknown>).login = OWNER;
  payload.installation = { id: 42, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=' };
}

function retargetPr(pr: Record<string, unknown>, state: FakeState): void {
  pr.number = state.pr.number;
  pr.html_url = `https://github.com/${OWNER}/${REPO}/pull/${state.pr.number}`;
  (pr.user as Record<string, unknown>).login = state.pr.author;
  (pr.head as Record<string, unknown>).sha = state.pr.headSha;
  (pr.base as Record<string, unknown>).sha = BASE_SHA;
  (pr.base as Record<string, unknown>).ref = 'main';
}

export function pullRequestPayload(
  state: FakeState,
  action = 'opened',
  repo = REPO,
): Record<string, unknown> {
  const payload = example('pull_request', action === 'synchronize' ? 'synchronize' : 'opened');
  payload.action = action;
  payload.number = state.pr.number;
  retarget(payload, repo);
  retargetPr(payload.pull_request as Record<string, unknown>, state);
  return payload;
}

export function reviewPayload(
  state: FakeState,
  review: { id: number; user: string; state: string; commit_id: string },
  action = 'submitted',
): Record<string, unknown> {
  const payload = example('pull_request_review', 'submitted');
  payload.action = action;
  retarget(payload);
  retargetPr(payload.pull_request as Record<string, unknown>, state);
  const r = payload.review as Record<string, unknown>;
  r.id = review.id;
  (r.user as Record<string, unknown>).login = review.user;
  r.state = review.state.toLowerCase();
  r.commit_id = review.commit_id;
  return payload;
}

export function checkRunRerequestedPayload(
  state: FakeState,
  name: string,
): Record<string, unknown> {
  const payload = example('check_run', 'rerequested');
  retarget(payload);
  const run = payload.check_run as Record<string, unknown>;
  run.name = name;
  run.head_sha = state.pr.headSha;
  run.pull_requests = [];
  return payload;
}

export function testProbot(options: { retry?: boolean } = {}): Probot {
  return new Probot({
    githubToken: 'test-token',
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults({
      // Retries are off except where a test is about them; then the backoff is shrunk to ms.
      retry: { enabled: options.retry === true, retryAfterBaseValue: 1 },
      throttle: { enabled: false },
    }),
  });
}

export async function loadGate(
  probot: Probot,
  config: ReviewGateConfig = CONFIG,
  now: Date = NOW,
): Promise<void> {
  await probot.load((app) => registerReviewGate(app, { config, clock: () => now }));
}

// --- Repository contents -----------------------------------------------------------------

const SCHEMA = (name: string) => `# yaml-language-server: $schema=../schemas/${name}.schema.json\n`;

export const DATABASES_YAML = `${SCHEMA('databases')}databases:
  hr_prod:
    engine: mysql
    environment: prod
    host: hr-prod.example.internal
    port: 3306
    name: hr
    auth:
      iam:
        region: eu-west-1
        user: gatehouse
    tables: [employee, title, salary, department, ssn]
  hr_test:
    engine: mysql
    environment: test
    host: hr-test.example.internal
    port: 3306
    name: hr
    auth:
      iam:
        region: eu-west-1
        user: gatehouse
    tables: [employee, title, salary, department]
  hr_staging:
    engine: mysql
    environment: staging
    host: hr-staging.example.internal
    port: 3306
    name: hr
    auth:
      iam:
        region: eu-west-1
        user: gatehouse
`;

export const RISK_YAML = `${SCHEMA('risk-policy')}levels:
  low:
    approvals:
      - count: 1
        from: [codeowners]
    maxDuration: 7d
  high:
    approvals:
      - count: 1
        from: ['@acme/dba']
      - count: 1
        from: ['@acme/security']
    maxDuration: 8h
  denied:
    deny: Social security numbers are never granted; ask privacy@acme.example.
  policy-change:
    approvals:
      - count: 2
        from: ['@acme/security']
rules:
  - name: no-ssn
    match:
      tables: [ssn]
    level: denied
  - name: prod
    match:
      environment: prod
    level: high
  - name: test
    match:
      environment: test
    level: low
meta:
  level: policy-change
`;

/** What a PR would love the policy to say: prod needs one CODEOWNER (a DBA) only. */
export const LAX_RISK_YAML = RISK_YAML.replace(
  /- name: prod\n {4}match:\n {6}environment: prod\n {4}level: high/,
  '- name: prod\n    match:\n      environment: prod\n    level: low',
);

export const CODEOWNERS = `/access/ @acme/dba
/policies/ @acme/security
/.github/ @acme/security
`;

export function requestYaml(
  requester: string,
  database: string,
  tables: string[],
  duration = '4h',
): string {
  return `# yaml-language-server: $schema=../../schemas/access-request.schema.json
requester: ${requester}
database: ${database}
tables: [${tables.join(', ')}]
access: read
duration: ${duration}
reason: Investigating INC-4211, payroll export missing new hires.
`;
}

export function putBasePolicy(state: FakeState, risk = RISK_YAML): void {
  putFile(state, 'main', 'policies/databases.yaml', DATABASES_YAML);
  putFile(state, 'main', 'policies/risk.yaml', risk);
  putFile(state, 'main', '.github/CODEOWNERS', CODEOWNERS);
}

/** A PR that adds one request file (at the head SHA). */
export function addRequest(state: FakeState, path: string, content: string): void {
  state.files.push({ filename: path, status: 'added' });
  putFile(state, HEAD_SHA, path, content);
}

export { HEAD_SHA };
