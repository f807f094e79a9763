import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantId } from '../../src/grants/grant-id.js';
import { reconcile } from '../../src/grants/lifecycle/reconcile.js';
import type { State } from '../../src/state/open-state.js';
import { FULL_NAME, type FakeRepoGithub } from './support/fake-repo-github.js';
import {
  closedPayload,
  lifecycleDeps,
  lifecycleProbot,
  manualClock,
  newRepo,
  openSqliteState,
  requestYaml,
  startNock,
  stopNock,
} from './support/lifecycle-fixture.js';

const NOW = new Date('2026-03-02T12:00:00Z');
const ALICE = 'access/hr_prod/alice-inc42.yaml';
const BOB = 'access/hr_test/bob-all.yaml';
const CAROL = 'access/hr_prod/carol-bypass.yaml';
const DAVE = 'access/hr_prod/dave-direct.yaml';

describe('reconcile', () => {
  let repo: FakeRepoGithub;
  let state: State;
  let cleanup: () => Promise<void>;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    startNock();
    clock.set(NOW);
    repo = newRepo();
    repo.mount();
    ({ state, cleanup } = await openSqliteState(clock));
  });
  afterEach(async () => {
    stopNock();
    await cleanup();
  });

  it('activates a merge whose webhook was lost, once', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: requestYaml({ requester: 'alice', duration: '4h' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:30:00Z',
    });
    const deps = lifecycleDeps(state, clock);
    const report = await reconcile(deps);
    const id = grantId(FULL_NAME, ALICE, pull.mergeCommitSha!);
    expect(report).toMatchObject({ ran: true, files: 1, stoppedEarly: null, problems: [] });
    expect(report.activated.map((a) => a.grantId)).toEqual([id]);
    expect((await state.grants.get(id))?.expiresAt.toISOString()).toBe('2026-03-02T15:30:00.000Z');
    expect(repo.commentsOn(pull.number)).toHaveLength(1);

    // A second run, and the webhook arriving late, change nothing.
    const again = await reconcile(deps);
    expect(again.activated).toEqual([]);
    expect(again.revoked).toEqual([]);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'late',
      name: 'pull_request',
      payload: closedPayload(repo, pull),
    } as never);
    expect(await state.grants.list({})).toHaveLength(1);
    expect(await state.audit.query({ types: ['grant.activated'] })).toHaveLength(1);
    expect(repo.commentsOn(pull.number)).toHaveLength(1);
  });

  it('bootstraps an empty store after a restart from the repository alone', async () => {
    const alice = repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: requestYaml({ requester: 'alice', duration: '1d' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T09:00:00Z',
    });
    const bob = repo.mergedRequest({
      author: 'bob',
      changes: {
        [BOB]: requestYaml({
          requester: 'bob',
          database: 'hr_test',
          tables: ['*'],
          duration: '2d',
        }),
      },
      approvers: ['dora'],
      mergedAt: '2026-03-02T10:00:00Z',
    });
    // Merged by an admin without approval: grants nothing.
    const carol = repo.mergedRequest({
      author: 'carol',
      changes: { [CAROL]: requestYaml({ requester: 'carol' }) },
      approvers: [],
      mergedAt: '2026-03-02T10:30:00Z',
      mergedBy: 'admin',
    });
    // Pushed straight to main: no PR, grants nothing.
    repo.push('main', { [DAVE]: requestYaml({ requester: 'dave' }) }, 'admin');
    // Deleted again: nothing to activate.
    const gone = repo.mergedRequest({
      author: 'erin',
      changes: { 'access/hr_prod/erin.yaml': requestYaml({ requester: 'erin' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T08:00:00Z',
    });
    repo.mergedRequest({
      author: 'erin',
      changes: { 'access/hr_prod/erin.yaml': null },
      approvers: [],
      mergedAt: '2026-03-02T08:30:00Z',
    });

    const deps = lifecycleDeps(state, clock);
    const report = await reconcile(deps);
    expect(report.files).toBe(4);
    expect(report.activated.map((a) => a.path).sort()).toEqual([ALICE, BOB]);
    expect(report.refused).toEqual([
      expect.objectContaining({ path: CAROL, prNumber: carol.number }),
    ]);
    expect(report.unjustified.map((u) => u.path)).toEqual([DAVE]);
    expect(report.problems).toEqual([]);
    const grants = await state.grants.list({});
    expect(grants.map((g) => g.prNumber).sort()).toEqual([alice.number, bob.number].sort());
    expect(grants.some((g) => g.prNumber === gone.number)).toBe(false);

    // The refusal is recorded once; the next run does not evaluate that PR again.
    const callsBefore = repo.calls.length;
    const again = await reconcile(deps);
    expect(again.refused.map((r) => r.prNumber)).toEqual([carol.number]);
    expect(await state.audit.query({ types: ['grant.activation_refused'] })).toHaveLength(1);
    expect(
      repo.calls.slice(callsBefore).some((c) => c.includes(`/pulls/${carol.number}/reviews`)),
    ).toBe(false);
  });

  it('revokes grants whose file is gone or was replaced while webhooks were lost', async () => {
    const alice = repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:00:00Z',
    });
    const bob = repo.mergedRequest({
      author: 'bob',
      changes: { [BOB]: requestYaml({ requester: 'bob', database: 'hr_test', duration: '1d' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:05:00Z',
    });
    const deps = lifecycleDeps(state, clock);
    await reconcile(deps);
    expect(await state.grants.list({ unrevoked: true })).toHaveLength(2);

    // Lost webhooks: alice's file deleted, bob's file changed by a new approved merge.
    repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: null },
      approvers: [],
      mergedAt: '2026-03-02T11:10:00Z',
    });
    const bob2 = repo.mergedRequest({
      author: 'bob',
      changes: { [BOB]: requestYaml({ requester: 'bob', database: 'hr_test', duration: '2d' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:20:00Z',
    });
    const report = await reconcile(deps);
    const aliceId = grantId(FULL_NAME, ALICE, alice.mergeCommitSha!);
    const bobId = grantId(FULL_NAME, BOB, bob.mergeCommitSha!);
    const bob2Id = grantId(FULL_NAME, BOB, bob2.mergeCommitSha!);
    expect(report.activated.map((a) => a.grantId)).toEqual([bob2Id]);
    expect(report.revoked.map((r) => r.grantId).sort()).toEqual([aliceId, bobId].sort());
    expect((await state.grants.list({ unrevoked: true })).map((g) => g.id)).toEqual([bob2Id]);
    expect((await state.grants.get(aliceId))?.revokeReason).toContain('no longer on main');
    expect(await state.audit.query({ types: ['grant.revoked'] })).toHaveLength(2);
  });

  it('--dry-run reports what it would do and changes nothing', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:30:00Z',
    });
    const deps = lifecycleDeps(state, clock);
    const report = await reconcile(deps, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.activated.map((a) => a.grantId)).toEqual([
      grantId(FULL_NAME, ALICE, pull.mergeCommitSha!),
    ]);
    expect(await state.grants.list({})).toHaveLength(0);
    expect(await state.audit.query({})).toHaveLength(0);
    expect(repo.calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
  });

  it('stops early on a GitHub rate limit and finishes on the next run', async () => {
    repo.mergedRequest({
      author: 'alice',
      changes: { [ALICE]: requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:30:00Z',
    });
    const deps = lifecycleDeps(state, clock);
    repo.fail = (method, path) =>
      path.endsWith('/pulls') || path.includes('/commits/')
        ? {
            status: 403,
            headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1772456400' },
            message: 'API rate limit exceeded',
          }
        : undefined;
    const limited = await reconcile(deps);
    expect(limited.stoppedEarly).toMatchObject({
      code: 'LIFECYCLE_GITHUB_RATE_LIMITED',
      path: ALICE,
    });
    expect(await state.grants.list({})).toHaveLength(0);

    repo.fail = undefined;
    const resumed = await reconcile(deps);
    expect(resumed.stoppedEarly).toBeNull();
    expect(resumed.activated).toHaveLength(1);
  });
});
