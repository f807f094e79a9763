import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantId } from '../../src/grants/grant-id.js';
import { isGrantActive } from '../../src/grants/grant.js';
import { grantWindow } from '../../src/grants/lifecycle/activation.js';
import type { State } from '../../src/state/open-state.js';
import { FULL_NAME, type FakeRepoGithub } from './support/fake-repo-github.js';
import {
  closedPayload,
  lifecycleDeps,
  lifecycleProbot,
  manualClock,
  newRepo,
  openSqliteState,
  pushPayload,
  requestYaml,
  startNock,
  stopNock,
} from './support/lifecycle-fixture.js';

const NOW = new Date('2026-03-02T12:00:00Z');
const MERGED_AT = '2026-03-02T11:30:00Z';
const PATH = 'access/hr_prod/alice-inc42.yaml';

describe('activation on merge', () => {
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

  it('activates an approved merge from merged_at for its duration, records approvers, comments', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice', duration: '4h', ticket: 'INC-42' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'delivery-1',
      name: 'pull_request',
      payload: closedPayload(repo, pull),
    } as never);

    const grants = await state.grants.list({});
    expect(grants).toHaveLength(1);
    const grant = grants[0]!;
    expect(grant.id).toBe(grantId(FULL_NAME, PATH, pull.mergeCommitSha!));
    expect(grant.activatedAt.toISOString()).toBe('2026-03-02T11:30:00.000Z');
    expect(grant.expiresAt.toISOString()).toBe('2026-03-02T15:30:00.000Z');
    expect(grant).toMatchObject({
      requester: 'alice',
      database: 'hr_prod',
      tables: ['employee'],
      level: 'medium',
      ticket: 'INC-42',
      prNumber: pull.number,
      mergeSha: pull.mergeCommitSha,
      headSha: repo.headOf(pull),
      approvers: [{ login: 'dora', reviewId: pull.reviews[0]!.id }],
    });

    const records = await state.audit.query({ grantId: grant.id });
    expect(records.map((r) => r.type)).toEqual(['grant.activated']);
    expect(records[0]).toMatchObject({
      actor: 'alice',
      approvers: ['dora'],
      mergeSha: pull.mergeCommitSha,
    });

    const comments = repo.commentsOn(pull.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(`<!-- gatehouse:grant=${grant.id} -->`);
    expect(comments[0]!.body).toContain('until 2026-03-02T15:30:00.000Z');
    expect(comments[0]!.body).toContain(
      'gatehouse query hr_prod "SELECT * FROM employee LIMIT 10"',
    );
    expect(comments[0]!.body).toContain(`deletes \`${PATH}\``);
  });

  it("judges the merge by the policy of the base at merge (the merge commit's first parent)", async () => {
    // Approved under the policy the PR was opened against (prod: 1 DBA approval) ...
    const pull = repo.openPull({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice' }) },
    });
    repo.approve(pull, 'dora', '2026-03-02T11:00:00Z');
    // ... but the policy on main was raised before the merge (prod: DBA + security).
    const risk = repo.file('policies/risk.yaml')!;
    const raised = risk.replace(
      /(- name: prod\n\s+match:\n\s+environment: prod\n\s+level:) medium/,
      '$1 high',
    );
    expect(raised).not.toBe(risk);
    repo.push('main', { 'policies/risk.yaml': raised }, 'sam');
    repo.merge(pull, MERGED_AT, 'admin');

    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'd',
      name: 'pull_request',
      payload: closedPayload(repo, pull),
    } as never);
    expect(await state.grants.list({})).toHaveLength(0);
    const [refused] = await state.audit.query({ types: ['grant.activation_refused'] });
    expect(refused?.details?.['reason']).toMatch(/High risk/i);
  });

  it('refuses a merge that bypassed the approvals: no grant, a comment, one audit record', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice' }) },
      approvers: [],
      mergedAt: MERGED_AT,
      mergedBy: 'admin',
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    const payload = closedPayload(repo, pull);
    await probot.receive({ id: 'delivery-1', name: 'pull_request', payload } as never);
    await probot.receive({ id: 'delivery-1', name: 'pull_request', payload } as never);

    expect(await state.grants.list({})).toHaveLength(0);
    const refused = await state.audit.query({ types: ['grant.activation_refused'] });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      actor: 'admin',
      code: 'GRANT_ACTIVATION_REFUSED',
      prNumbers: [pull.number],
      mergeSha: pull.mergeCommitSha,
    });
    expect(refused[0]!.details?.['codes']).toContain('PR_NOT_APPROVED');
    const comments = repo.commentsOn(pull.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('<!-- gatehouse:activation-refused -->');
    expect(comments[0]!.body).toContain('no access was granted');
  });

  it('does not count an approval given after the merge', async () => {
    const pull = repo.openPull({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice' }) },
    });
    repo.merge(pull, MERGED_AT, 'admin');
    repo.approve(pull, 'dora', '2026-03-02T11:45:00Z');
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'd',
      name: 'pull_request',
      payload: closedPayload(repo, pull),
    } as never);
    expect(await state.grants.list({})).toHaveLength(0);
    expect(await state.audit.query({ types: ['grant.activation_refused'] })).toHaveLength(1);
  });

  it('a duplicate delivery leaves one grant, one transition record and one comment', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    const payload = closedPayload(repo, pull);
    await probot.receive({ id: 'same-delivery', name: 'pull_request', payload } as never);
    const writesAfterFirst = repo.calls.filter((c) => !c.startsWith('GET')).length;
    await probot.receive({ id: 'same-delivery', name: 'pull_request', payload } as never);
    // And the same delivery twice at once (two replicas behind a load balancer).
    await Promise.all([
      probot.receive({ id: 'same-delivery', name: 'pull_request', payload } as never),
      probot.receive({ id: 'same-delivery', name: 'pull_request', payload } as never),
    ]);

    expect(await state.grants.list({})).toHaveLength(1);
    expect(await state.audit.query({ types: ['grant.activated'] })).toHaveLength(1);
    expect(repo.commentsOn(pull.number)).toHaveLength(1);
    expect(repo.calls.filter((c) => !c.startsWith('GET')).length).toBe(writesAfterFirst);
  });

  it('a deleted request file revokes its grant at merge time', async () => {
    const granted = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice', duration: '8h' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'd1',
      name: 'pull_request',
      payload: closedPayload(repo, granted),
    } as never);
    const [grant] = await state.grants.list({});
    expect(grant && isGrantActive(grant, NOW)).toBe(true);

    // alice gives up her access: her own deletion needs no approval.
    const revocation = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: null },
      approvers: [],
      mergedAt: '2026-03-02T12:10:00Z',
      mergedBy: 'alice',
    });
    await probot.receive({
      id: 'd2',
      name: 'pull_request',
      payload: closedPayload(repo, revocation),
    } as never);
    await probot.receive({
      id: 'd2',
      name: 'pull_request',
      payload: closedPayload(repo, revocation),
    } as never);

    const after = await state.grants.get(grant!.id);
    expect(after?.revokedAt?.toISOString()).toBe('2026-03-02T12:10:00.000Z');
    expect(after?.revokedBy).toBe('alice');
    expect(after?.revokeReason).toContain(`deleted by #${revocation.number}`);
    expect(isGrantActive(after!, new Date('2026-03-02T12:10:00Z'))).toBe(false);
    const revoked = await state.audit.query({ types: ['grant.revoked'] });
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ grantIds: [grant!.id], actor: 'alice' });
  });

  it('a changed request file replaces the grant of its earlier merge', async () => {
    const first = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice', duration: '4h' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'd1',
      name: 'pull_request',
      payload: closedPayload(repo, first),
    } as never);
    const second = repo.mergedRequest({
      author: 'alice',
      changes: {
        [PATH]: requestYaml({ requester: 'alice', duration: '8h', tables: ['employee', 'title'] }),
      },
      approvers: ['dan'],
      mergedAt: '2026-03-02T13:00:00Z',
    });
    await probot.receive({
      id: 'd2',
      name: 'pull_request',
      payload: closedPayload(repo, second),
    } as never);
    const unrevoked = await state.grants.list({ unrevoked: true });
    expect(unrevoked.map((g) => g.mergeSha)).toEqual([second.mergeCommitSha]);
    expect(unrevoked[0]!.tables).toEqual(['employee', 'title']);
  });

  it('a push to the default branch without a merged PR activates nothing and is recorded once', async () => {
    const before = repo.head();
    const after = repo.push('main', { [PATH]: requestYaml({ requester: 'alice' }) }, 'admin');
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    const payload = pushPayload(repo, { before, after, pusher: 'admin', changes: { [PATH]: 'x' } });
    await probot.receive({ id: 'p1', name: 'push', payload } as never);
    await probot.receive({ id: 'p1', name: 'push', payload } as never);

    expect(await state.grants.list({})).toHaveLength(0);
    const ignored = await state.audit.query({ types: ['push.ignored'] });
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ actor: 'admin', mergeSha: after });
    expect(ignored[0]!.details?.['accessFiles']).toEqual([PATH]);
  });

  it('the push of a merge commit is left to pull_request.closed', async () => {
    const before = repo.head();
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { [PATH]: requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const deps = lifecycleDeps(state, clock);
    const probot = await lifecycleProbot(deps);
    const payload = pushPayload(repo, {
      before,
      after: pull.mergeCommitSha!,
      pusher: 'dora',
      changes: { [PATH]: 'x' },
    });
    await probot.receive({ id: 'p1', name: 'push', payload } as never);
    expect(await state.audit.query({ types: ['push.ignored'] })).toHaveLength(0);
    expect(await state.grants.list({})).toHaveLength(0);
  });
});

describe('grantWindow', () => {
  const merged = new Date('2026-03-02T10:00:00Z');
  it('starts at the merge and lasts the requested duration', () => {
    const window = grantWindow(
      { kind: 'duration', text: '4h', ms: 4 * 3_600_000 },
      merged,
      86_400_000,
    );
    expect(window).toMatchObject({ clamped: false });
    expect(window.activatedAt.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    expect(window.expiresAt.toISOString()).toBe('2026-03-02T14:00:00.000Z');
  });
  it('never goes beyond the level maximum, and says so', () => {
    const window = grantWindow(
      { kind: 'duration', text: '2d', ms: 2 * 86_400_000 },
      merged,
      8 * 3_600_000,
    );
    expect(window.clamped).toBe(true);
    expect(window.expiresAt.toISOString()).toBe('2026-03-02T18:00:00.000Z');
    expect(window.requestedUntil.toISOString()).toBe('2026-03-04T10:00:00.000Z');
  });
  it('ends at `expires` when that is sooner than the maximum', () => {
    const at = new Date('2026-03-02T12:00:00Z');
    const window = grantWindow({ kind: 'expires', text: at.toISOString(), at }, merged, 86_400_000);
    expect(window).toMatchObject({ clamped: false });
    expect(window.expiresAt.toISOString()).toBe('2026-03-02T12:00:00.000Z');
  });
});
