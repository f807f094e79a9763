import nock from 'nock';
import type { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECK_NAME } from '../../src/github/review-gate-config.js';
import { COMMENT_MARKER } from '../../src/github/pr-report.js';
import { registerReviewGate } from '../../src/github/review-gate.js';
import type { AuditEvent } from '../../src/audit/audit-record.js';
import {
  callSummary,
  HEAD_SHA,
  mountFakeGithub,
  newState,
  putFile,
  type FakeReview,
  type FakeState,
} from './support/fake-github-api.js';
import {
  addRequest,
  checkRunRerequestedPayload,
  CONFIG,
  DATABASES_YAML,
  CODEOWNERS,
  LAX_RISK_YAML,
  loadGate,
  NOW,
  pullRequestPayload,
  putBasePolicy,
  requestYaml,
  reviewPayload,
  testProbot,
} from './support/review-gate-fixtures.js';

const OLD_SHA = 'a'.repeat(40);
const PROD_FILE = 'access/hr_prod/alice-incident.yaml';

let state: FakeState;
let probot: Probot;
let delivery = 0;

beforeEach(async () => {
  nock.disableNetConnect();
  state = newState();
  putBasePolicy(state);
  mountFakeGithub(state);
  probot = testProbot();
  await loadGate(probot);
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

let reviewId = 500;
function review(
  user: string,
  reviewState: FakeReview['state'],
  over: Partial<FakeReview> = {},
): FakeReview {
  const r: FakeReview = {
    id: reviewId++,
    user,
    state: reviewState,
    commit_id: HEAD_SHA,
    submitted_at: `2026-03-02T08:${String(reviewId % 60).padStart(2, '0')}:00Z`,
    ...over,
  };
  state.reviews.push(r);
  return r;
}

async function receive(name: string, payload: Record<string, unknown>, id = `d-${delivery++}`) {
  state.calls.length = 0;
  await probot.receive({ id, name, payload } as Parameters<Probot['receive']>[0]);
}

async function openPr(): Promise<void> {
  await receive('pull_request', pullRequestPayload(state, 'opened'));
}

function check() {
  const runs = state.checkRuns.filter(
    (r) => r.name === CHECK_NAME && r.head_sha === state.pr.headSha,
  );
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

function prodRequest(): void {
  addRequest(state, PROD_FILE, requestYaml('alice', 'hr_prod', ['employee', 'salary']));
}

describe('review gate: what a PR shows', () => {
  it('a valid high-risk request waits for approvals: action_required, title, label, one comment', async () => {
    prodRequest();
    await openPr();
    const run = check();
    expect(run.status).toBe('completed');
    expect(run.conclusion).toBe('action_required');
    expect(run.details_url).toBe(`https://github.com/acme/access/pull/7`);
    expect(run.output.title).toBe('High risk: 0 of 2 approvals; needs @acme/dba, @acme/security');
    expect(run.output.summary).toContain('`hr_prod`');
    expect(run.output.summary).toContain('Matched rule | `prod`');
    expect(state.pr.labels).toEqual(['gatehouse:risk-high']);
    expect(state.comments).toHaveLength(1);
    expect(state.comments[0]!.body).toContain(COMMENT_MARKER);
  });

  it('counts a DBA and a security approval on the head: success', async () => {
    prodRequest();
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.title).toBe('High risk: 2 of 2 approvals');
  });

  it('title says who is still needed', async () => {
    prodRequest();
    review('dora', 'APPROVED');
    await openPr();
    expect(check().output.title).toBe('High risk: 1 of 2 approvals; needs @acme/security');
  });

  it('annotates the YAML line of a validation error and fails', async () => {
    addRequest(state, PROD_FILE, requestYaml('alice', 'hr_prod', ['employee', 'salaries']));
    await openPr();
    const run = check();
    expect(run.conclusion).toBe('failure');
    const annotations = run.output.annotations as {
      path: string;
      start_line: number;
      title: string;
    }[];
    expect(annotations.map((a) => [a.path, a.title])).toContainEqual([
      PROD_FILE,
      'REQ_UNKNOWN_TABLE',
    ]);
    expect(annotations.every((a) => a.start_line >= 1)).toBe(true);
  });

  it('a denied level fails and can never be approved', async () => {
    addRequest(state, 'access/hr_prod/alice-ssn.yaml', requestYaml('alice', 'hr_prod', ['ssn']));
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.title).toMatch(/^Denied \(denied\): Social security numbers/);
    expect(state.pr.labels).toEqual(['gatehouse:risk-denied']);
  });

  it('nothing in the policy applies: error, never success', async () => {
    addRequest(
      state,
      'access/hr_staging/alice.yaml',
      requestYaml('alice', 'hr_staging', ['employee']),
    );
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('POLICY_NO_RULE');
  });

  it('several requests: the strictest level governs, each file is shown', async () => {
    prodRequest();
    addRequest(state, 'access/hr_test/alice.yaml', requestYaml('alice', 'hr_test', ['employee']));
    review('dora', 'APPROVED');
    await openPr();
    const run = check();
    expect(run.conclusion).toBe('action_required');
    expect(state.pr.labels).toEqual(['gatehouse:risk-high']);
    expect(run.output.summary).toContain('access/hr_test/alice.yaml');
    expect(run.output.summary).toContain(PROD_FILE);
    expect(run.output.summary).toContain('The strictest level, **high**');
  });

  it('keeps the label in sync: a stale risk label is replaced', async () => {
    state.pr.labels = ['gatehouse:risk-low', 'bug'];
    prodRequest();
    await openPr();
    expect(state.pr.labels.sort()).toEqual(['bug', 'gatehouse:risk-high']);
  });

  it('requests reviews from the missing teams when configured', async () => {
    nock.cleanAll();
    mountFakeGithub(state);
    probot = testProbot();
    await loadGate(probot, { ...CONFIG, requestReviews: true });
    prodRequest();
    review('dora', 'APPROVED');
    await openPr();
    expect(state.reviewRequests).toEqual([{ reviewers: [], team_reviewers: ['security'] }]);
    await openPr();
    expect(state.reviewRequests).toHaveLength(1);
  });
});

describe('review gate: counting approvals (issue 3)', () => {
  it('author self-approval does not count', async () => {
    prodRequest();
    state.teams.get('acme/dba')!.set('alice', 'active');
    review('alice', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('by the pull request author');
  });

  it('approval by a co-committer does not count', async () => {
    prodRequest();
    state.commits.push({ sha: 'd'.repeat(40), author: 'alice', committer: 'dora' });
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('by an author or committer of a commit');
  });

  it('approval before the latest push does not count', async () => {
    prodRequest();
    review('dora', 'APPROVED', { commit_id: OLD_SHA });
    review('sam', 'APPROVED');
    await receive('pull_request', pullRequestPayload(state, 'synchronize'));
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('made before the latest push');
  });

  it('changes requested after an approval blocks', async () => {
    prodRequest();
    review('dora', 'APPROVED', { submitted_at: '2026-03-02T08:00:00Z' });
    review('sam', 'APPROVED', { submitted_at: '2026-03-02T08:01:00Z' });
    const blocking = review('dora', 'CHANGES_REQUESTED', { submitted_at: '2026-03-02T08:02:00Z' });
    await receive('pull_request_review', reviewPayload(state, blocking));
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toContain('changes requested by @dora');
  });

  it('a dismissed review does not count', async () => {
    prodRequest();
    const dismissed = review('dora', 'DISMISSED');
    review('sam', 'APPROVED');
    await receive('pull_request_review', reviewPayload(state, dismissed, 'dismissed'));
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('dismissed');
  });

  it('a non-member does not qualify', async () => {
    prodRequest();
    review('eve', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('reviewer does not qualify');
  });

  it('a pending team invitation does not qualify', async () => {
    prodRequest();
    review('pat', 'APPROVED'); // invited to acme/dba, not yet accepted
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toMatch(
      /@pat \(approved, review \d+\): reviewer does not qualify/,
    );
  });

  it('one person counts toward one requirement only', async () => {
    prodRequest();
    state.teams.get('acme/security')!.set('dora', 'active');
    review('dora', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toContain('1 of 2 approvals');
  });
});

describe('review gate: what a PR may contain', () => {
  it('takes the policy from the base, not from the head (a PR cannot lower its own bar)', async () => {
    prodRequest();
    putFile(state, HEAD_SHA, 'policies/risk.yaml', LAX_RISK_YAML);
    putFile(state, HEAD_SHA, 'policies/databases.yaml', DATABASES_YAML);
    putFile(state, HEAD_SHA, '.github/CODEOWNERS', CODEOWNERS);
    review('dora', 'APPROVED'); // enough under the lax head policy
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(state.pr.labels).toEqual(['gatehouse:risk-high']);
    expect(state.reads.filter((r) => r.includes('policies/') || r.includes('CODEOWNERS'))).toEqual(
      expect.arrayContaining(['main:policies/risk.yaml', 'main:.github/CODEOWNERS']),
    );
    expect(state.reads.some((r) => r.startsWith(`${HEAD_SHA}:policies/`))).toBe(false);
  });

  it('refuses policy changes mixed with an access request (PR_MIXED)', async () => {
    prodRequest();
    state.files.push({ filename: 'policies/risk.yaml', status: 'modified' });
    putFile(state, HEAD_SHA, 'policies/risk.yaml', LAX_RISK_YAML);
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('`PR_MIXED`');
  });

  it('refuses another path next to a request (PR_FOREIGN_PATH)', async () => {
    prodRequest();
    state.files.push({ filename: 'README.md', status: 'modified' });
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('`PR_FOREIGN_PATH`');
  });

  it('a policy change alone follows the meta rule (two security approvals)', async () => {
    state.files.push({ filename: 'policies/risk.yaml', status: 'modified' });
    putFile(state, HEAD_SHA, 'policies/risk.yaml', LAX_RISK_YAML);
    putFile(state, HEAD_SHA, 'policies/databases.yaml', DATABASES_YAML);
    putFile(state, HEAD_SHA, '.github/CODEOWNERS', CODEOWNERS);
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toBe(
      'Policy change (policy-change risk): 1 of 2 approvals; needs @acme/security',
    );
    review('sue', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(state.pr.labels).toEqual(['gatehouse:risk-policy-change']);
  });

  it('a policy change that leaves an invalid policy fails with annotations', async () => {
    state.files.push({ filename: 'policies/risk.yaml', status: 'modified' });
    putFile(state, HEAD_SHA, 'policies/risk.yaml', 'levels: {}\nrules: []\nmeta: {level: x}\n');
    putFile(state, HEAD_SHA, 'policies/databases.yaml', DATABASES_YAML);
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect((check().output.annotations ?? []).length).toBeGreaterThan(0);
  });

  it('refuses a modification of another person’s request file (PR_OTHERS_REQUEST)', async () => {
    const path = 'access/hr_prod/bob-incident.yaml';
    putFile(state, 'main', path, requestYaml('bob', 'hr_prod', ['employee']));
    state.files.push({ filename: path, status: 'modified' });
    // alice rewrites bob's file as her own request
    putFile(state, HEAD_SHA, path, requestYaml('alice', 'hr_prod', ['employee'], '8h'));
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('PR_OTHERS_REQUEST');
  });

  it('editing someone else’s file without changing the requester is refused too', async () => {
    const path = 'access/hr_prod/bob-incident.yaml';
    putFile(state, 'main', path, requestYaml('bob', 'hr_prod', ['employee']));
    state.files.push({ filename: path, status: 'modified' });
    putFile(state, HEAD_SHA, path, requestYaml('bob', 'hr_prod', ['employee', 'salary']));
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('REQ_REQUESTER_NOT_AUTHOR');
  });

  it('modifying one’s own file is a new request needing full approval', async () => {
    putFile(state, 'main', PROD_FILE, requestYaml('alice', 'hr_prod', ['employee']));
    state.files.push({ filename: PROD_FILE, status: 'modified' });
    putFile(state, HEAD_SHA, PROD_FILE, requestYaml('alice', 'hr_prod', ['employee', 'salary']));
    review('dora', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toBe('High risk: 1 of 2 approvals; needs @acme/security');
  });

  it('deletion by the requester needs no approval', async () => {
    putFile(state, 'main', PROD_FILE, requestYaml('alice', 'hr_prod', ['employee']));
    state.files.push({ filename: PROD_FILE, status: 'removed' });
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.title).toBe('Revocation by the requester: no approval needed');
    expect(state.pr.labels).toEqual([]);
  });

  it('deletion by someone else needs one CODEOWNER approval', async () => {
    state.pr.author = 'mallory';
    state.commits = [{ sha: HEAD_SHA, author: 'mallory', committer: 'mallory' }];
    putFile(state, 'main', PROD_FILE, requestYaml('alice', 'hr_prod', ['employee']));
    state.files.push({ filename: PROD_FILE, status: 'removed' });
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toContain('needs CODEOWNERS of the file (@acme/dba)');
    review('sam', 'APPROVED'); // security is no CODEOWNER of access/
    await openPr();
    expect(check().conclusion).toBe('action_required');
    review('dan', 'APPROVED');
    await openPr();
    expect(check().conclusion).toBe('success');
  });

  it('ignores events from other repositories (no API call)', async () => {
    prodRequest();
    await receive('pull_request', pullRequestPayload(state, 'opened', 'other-repo'));
    expect(state.calls).toEqual([]);
    expect(state.checkRuns).toEqual([]);
  });
});

describe('review gate: delivery and failures', () => {
  it('a duplicate delivery leaves one check, one comment, one label', async () => {
    prodRequest();
    review('dora', 'APPROVED');
    const payload = pullRequestPayload(state, 'opened');
    await receive('pull_request', payload, 'same-delivery');
    const first = { ...check(), output: { ...check().output } };
    await receive('pull_request', payload, 'same-delivery');
    expect(state.checkRuns).toHaveLength(1);
    expect(check().conclusion).toBe(first.conclusion);
    expect(check().output.title).toBe(first.output.title);
    expect(state.comments).toHaveLength(1);
    expect(state.pr.labels).toEqual(['gatehouse:risk-high']);
    // The redelivery writes nothing but the check (same content): no label, no comment call.
    expect(state.calls.filter((c) => !c.startsWith('GET'))).toEqual([
      expect.stringMatching(/^PATCH \/repos\/acme\/access\/check-runs\/\d+$/),
    ]);
  });

  it('an approval updates the one comment in place', async () => {
    prodRequest();
    await openPr();
    const before = state.comments[0]!.body;
    review('dora', 'APPROVED');
    const approval = review('sam', 'APPROVED');
    await receive('pull_request_review', reviewPayload(state, approval));
    expect(state.comments).toHaveLength(1);
    expect(state.comments[0]!.body).not.toBe(before);
    expect(check().conclusion).toBe('success');
  });

  it('check_run rerequested re-evaluates the PR of the head SHA', async () => {
    prodRequest();
    await openPr();
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    await receive('check_run', checkRunRerequestedPayload(state, CHECK_NAME));
    expect(check().conclusion).toBe('success');
    // Another app's check is not ours to re-run.
    await receive('check_run', checkRunRerequestedPayload(state, 'CI / build'));
    expect(state.calls).toEqual([]);
  });

  it('GitHub 5xx then success: retried, and the check completes normally', async () => {
    nock.cleanAll();
    mountFakeGithub(state);
    probot = testProbot({ retry: true });
    await loadGate(probot);
    prodRequest();
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    // The first call to each of these fails with a 5xx; plugin-retry repeats it.
    const flaky = new Set([
      'GET /repos/acme/access/pulls/7',
      'GET /repos/acme/access/pulls/7/reviews',
      'GET /orgs/acme/teams/security/memberships/sam',
      'POST /repos/acme/access/check-runs',
      'PATCH /repos/acme/access/check-runs/{id}',
    ]);
    const failed: string[] = [];
    state.fail = (method, path) => {
      const key = `${method} ${path.replace(/check-runs\/\d+$/, 'check-runs/{id}')}`;
      if (!flaky.has(key)) return undefined;
      flaky.delete(key);
      failed.push(key);
      return 502;
    };
    await openPr();
    expect(failed).toHaveLength(5);
    expect(check().conclusion).toBe('success');
  });

  it('GitHub failing during evaluation: the check fails and says so (PR_EVALUATION_FAILED)', async () => {
    prodRequest();
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    state.fail = (method, path) => (path.endsWith('/reviews') ? 503 : undefined);
    await openPr();
    expect(check().conclusion).toBe('failure');
    expect(check().output.summary).toContain('PR_EVALUATION_FAILED');
    expect(check().output.title).toMatch(/^Evaluation failed/);
  });

  it('GitHub failing throughout: the check is never success', async () => {
    prodRequest();
    review('dora', 'APPROVED');
    review('sam', 'APPROVED');
    state.fail = () => 500;
    await expect(openPr()).rejects.toThrow();
    expect(state.checkRuns).toEqual([]);
    state.fail = (method) => (method === 'GET' ? undefined : 500);
    await expect(openPr()).rejects.toThrow();
    expect(state.checkRuns.filter((r) => r.conclusion === 'success')).toEqual([]);
  });
});

describe('review gate: audit', () => {
  it('records grant.approved once, when the check turns success', async () => {
    const events: AuditEvent[] = [];
    const audit = {
      append: async (event: AuditEvent) => {
        events.push(event);
        return { ...event, seq: events.length, at: NOW, prevHash: '', hash: '' };
      },
      query: async () => [],
      verify: async () => ({ ok: true as const, records: 0, head: '' }),
    };
    nock.cleanAll();
    mountFakeGithub(state);
    probot = testProbot();
    await probot.load((app) =>
      registerReviewGate(app, { config: CONFIG, clock: () => NOW, audit }),
    );
    prodRequest();
    await openPr();
    review('dora', 'APPROVED');
    const approval = review('sam', 'APPROVED');
    await receive('pull_request_review', reviewPayload(state, approval));
    await receive('pull_request_review', reviewPayload(state, approval));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'grant.approved',
      actor: 'alice',
      prNumbers: [7],
      approvers: ['dora', 'sam'],
    });
  });
});

describe('review gate: API economy', () => {
  it('counts API calls per event type', async () => {
    prodRequest();
    await openPr();
    const opened = callSummary(state.calls);
    const openedTotal = state.calls.length;
    const approval = review('dora', 'APPROVED');
    await receive('pull_request_review', reviewPayload(state, approval));
    const reviewed = callSummary(state.calls);
    const reviewedTotal = state.calls.length;
    // Recorded in docs/github-app.md ("API calls per event"); update both together.
    expect(opened).toEqual({
      'GET /repos/acme/access/pulls/{n}': 1,
      'GET /repos/acme/access/pulls/{n}/files': 1,
      'GET /repos/acme/access/pulls/{n}/commits': 1,
      'GET /repos/acme/access/pulls/{n}/reviews': 1,
      'GET /repos/acme/access/contents/{path}': 4,
      'GET /repos/acme/access/commits/{sha}/check-runs': 1,
      'POST /repos/acme/access/check-runs': 1,
      'PATCH /repos/acme/access/check-runs/{n}': 1,
      'POST /repos/acme/access/issues/{n}/labels': 1,
      'GET /repos/acme/access/issues/{n}/comments': 1,
      'POST /repos/acme/access/issues/{n}/comments': 1,
    });
    expect(openedTotal).toBe(14);
    expect(reviewed).toEqual({
      'GET /repos/acme/access/pulls/{n}': 1,
      'GET /repos/acme/access/pulls/{n}/files': 1,
      'GET /repos/acme/access/pulls/{n}/commits': 1,
      'GET /repos/acme/access/pulls/{n}/reviews': 1,
      'GET /repos/acme/access/contents/{path}': 4,
      'GET /orgs/acme/teams/{slug}/memberships/{user}': 2,
      'GET /repos/acme/access/commits/{sha}/check-runs': 1,
      'PATCH /repos/acme/access/check-runs/{n}': 1,
      'GET /repos/acme/access/issues/{n}/comments': 1,
      'PATCH /repos/acme/access/issues/comments/{n}': 1,
    });
    expect(reviewedTotal).toBe(14);

    // A duplicate of that delivery: reads, one check PATCH, nothing else written.
    await receive('pull_request_review', reviewPayload(state, approval));
    expect(state.calls.length).toBe(13);

    // A push: new head SHA, so a new check run; the approval is now stale.
    const newHead = 'e'.repeat(40);
    putFile(state, newHead, PROD_FILE, requestYaml('alice', 'hr_prod', ['employee', 'salary']));
    state.pr.headSha = newHead;
    state.commits.push({ sha: newHead, author: 'alice', committer: 'alice' });
    await receive('pull_request', pullRequestPayload(state, 'synchronize'));
    expect(callSummary(state.calls)).toMatchObject({
      'GET /orgs/acme/teams/{slug}/memberships/{user}': 2,
      'POST /repos/acme/access/check-runs': 1,
      'PATCH /repos/acme/access/issues/comments/{n}': 1,
    });
    expect(state.calls.length).toBe(15);
  });
});
