import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/grants/grant.js';
import { isGrantActive } from '../../src/grants/grant.js';
import { sweepExpired } from '../../src/grants/lifecycle/expiry-sweeper.js';
import { runExpiry } from '../../src/grants/lifecycle/lifecycle-app.js';
import { reconcile } from '../../src/grants/lifecycle/reconcile.js';
import { sendReminders } from '../../src/grants/lifecycle/reminder.js';
import type { State } from '../../src/state/open-state.js';
import type { FakeRepoGithub } from './support/fake-repo-github.js';
import {
  CONFIG,
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

const MERGED_AT = '2026-03-02T08:00:00Z';
const EXPIRES_AT = new Date('2026-03-02T12:00:00Z'); // 4h after the merge
const AFTER = new Date('2026-03-02T12:30:00Z');
const pathOf = (who: string) => `access/hr_prod/${who}.yaml`;

describe('expiry sweep and reminders', () => {
  let repo: FakeRepoGithub;
  let state: State;
  let cleanup: () => Promise<void>;
  const clock = manualClock(new Date(MERGED_AT));

  beforeEach(async () => {
    startNock();
    clock.set(MERGED_AT);
    repo = newRepo();
    repo.mount();
    ({ state, cleanup } = await openSqliteState(clock));
  });
  afterEach(async () => {
    stopNock();
    await cleanup();
  });

  /** Merged, approved requests, activated through reconcile. */
  async function grantsFor(...who: string[]): Promise<Grant[]> {
    for (const login of who) {
      repo.mergedRequest({
        author: login,
        changes: { [pathOf(login)]: requestYaml({ requester: login, duration: '4h' }) },
        approvers: ['dora'],
        mergedAt: MERGED_AT,
      });
    }
    await reconcile(lifecycleDeps(state, clock));
    const grants = await state.grants.list({});
    expect(grants).toHaveLength(who.length);
    return [...grants].sort((a, b) => a.filePath.localeCompare(b.filePath));
  }

  const revocationPulls = () =>
    [...repo.pulls.values()].filter((p) => p.headRef.startsWith('gatehouse/revoke/'));

  it('expires at the instant: active at expires_at - 1 ms, not at expires_at', async () => {
    const [grant] = await grantsFor('alice');
    const justBefore = new Date(EXPIRES_AT.getTime() - 1);
    expect(grant!.expiresAt.toISOString()).toBe(EXPIRES_AT.toISOString());
    expect(isGrantActive(grant!, justBefore)).toBe(true);
    expect(isGrantActive(grant!, EXPIRES_AT)).toBe(false);
    expect(await state.grants.activeFor('alice', 'hr_prod', justBefore)).toHaveLength(1);
    expect(await state.grants.activeFor('alice', 'hr_prod', EXPIRES_AT)).toHaveLength(0);

    const deps = lifecycleDeps(state, clock);
    const early = await sweepExpired(deps, { now: justBefore });
    expect(early.items).toEqual([]);
    const onTime = await sweepExpired(deps, { now: EXPIRES_AT });
    expect(onTime.items.map((i) => i.outcome)).toEqual(['opened']);
  });

  it('opens one revocation PR per grant, however often it runs', async () => {
    const [grant] = await grantsFor('alice');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    const first = await sweepExpired(deps);
    const callsAfterFirst = repo.calls.length;
    const second = await sweepExpired(deps);
    expect(first.items.map((i) => i.outcome)).toEqual(['opened']);
    expect(second.items.map((i) => i.outcome)).toEqual(['existing']);

    const pulls = revocationPulls();
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr.headRef).toBe(`gatehouse/revoke/${grant!.id}`);
    expect(pr.labels).toEqual(['gatehouse:revocation']);
    expect(pr.body).toContain(`<!-- gatehouse:revoke=${grant!.id} -->`);
    expect(pr.body).toContain('@alice');
    expect(pr.body).toContain('@dora');
    expect(repo.file(grant!.filePath, pr.headRef)).toBeUndefined();
    expect(repo.file(grant!.filePath)).toBeDefined(); // main is untouched until the merge

    expect((await state.grants.get(grant!.id))?.revocationPrNumber).toBe(pr.number);
    expect(await state.audit.query({ types: ['grant.expired'] })).toHaveLength(1);
    const opened = await state.audit.query({ types: ['grant.revocation_pr_opened'] });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      grantIds: [grant!.id],
      prNumbers: [grant!.prNumber, pr.number],
    });
    // The second run spent no write call.
    expect(repo.calls.slice(callsAfterFirst).filter((c) => !c.startsWith('GET'))).toEqual([]);
  });

  it('reuses a branch left by an interrupted run ("Reference already exists" is success)', async () => {
    const [grant] = await grantsFor('alice');
    clock.set(AFTER);
    repo.branches.set(`gatehouse/revoke/${grant!.id}`, repo.head());
    const report = await sweepExpired(lifecycleDeps(state, clock));
    expect(report.items.map((i) => i.outcome)).toEqual(['opened']);
    expect(revocationPulls()).toHaveLength(1);
  });

  it('reopens a revocation PR closed without merging, and says so', async () => {
    const [grant] = await grantsFor('alice');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    await sweepExpired(deps);
    const pr = revocationPulls()[0]!;
    pr.state = 'closed'; // someone closed it

    const report = await sweepExpired(deps);
    expect(report.items).toEqual([
      expect.objectContaining({ outcome: 'reopened', prNumber: pr.number }),
    ]);
    expect(pr.state).toBe('open');
    expect(
      repo
        .commentsOn(pr.number)
        .map((c) => c.body)
        .join('\n'),
    ).toContain('closed without merging');
    expect(revocationPulls()).toHaveLength(1);

    // Closed again and its branch deleted: GitHub cannot reopen it, so a new PR is opened.
    pr.state = 'closed';
    repo.branches.delete(pr.headRef);
    const again = await sweepExpired(deps);
    expect(again.items).toEqual([expect.objectContaining({ outcome: 'recreated' })]);
    const pulls = revocationPulls();
    expect(pulls).toHaveLength(2);
    const fresh = pulls.find((p) => p.state === 'open')!;
    expect(repo.commentsOn(fresh.number)[0]!.body).toContain(
      `#${pr.number} was closed without merging`,
    );
    expect((await state.grants.get(grant!.id))?.revocationPrNumber).toBe(fresh.number);
    expect(await state.audit.query({ types: ['grant.revocation_pr_opened'] })).toHaveLength(2);
    expect(await state.audit.query({ types: ['grant.expired'] })).toHaveLength(1);
  });

  it('merging the revocation PR revokes the grant and audits the merge', async () => {
    const [grant] = await grantsFor('alice');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    await sweepExpired(deps);
    const pr = revocationPulls()[0]!;
    repo.approve(pr, 'dora', '2026-03-02T12:40:00Z');
    repo.merge(pr, '2026-03-02T12:45:00Z', 'dora');
    const probot = await lifecycleProbot(deps);
    await probot.receive({
      id: 'm1',
      name: 'pull_request',
      payload: closedPayload(repo, pr),
    } as never);
    await probot.receive({
      id: 'm1',
      name: 'pull_request',
      payload: closedPayload(repo, pr),
    } as never);

    const after = await state.grants.get(grant!.id);
    expect(after?.revokedAt?.toISOString()).toBe('2026-03-02T12:45:00.000Z');
    expect(await state.audit.query({ types: ['grant.revocation_pr_merged'] })).toHaveLength(1);
    expect(await state.audit.query({ types: ['grant.revoked'] })).toHaveLength(1);
    // Nothing left to sweep.
    expect((await sweepExpired(deps)).items).toEqual([]);
  });

  it('auto-merges revocation PRs when configured, and keeps a refused one open', async () => {
    const [alice, bob] = await grantsFor('alice', 'bob');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock, { config: { ...CONFIG, autoMergeRevocations: true } });
    // bob's PR will be blocked by branch protection.
    const originalRoute = repo.route.bind(repo);
    repo.route = (method, path, query, body) => {
      const reply = originalRoute(method, path, query, body);
      if (method === 'POST' && path.endsWith('/pulls') && String(body.head).endsWith(bob!.id)) {
        repo.pulls.get((reply[1] as { number: number }).number)!.mergeable = false;
      }
      return reply;
    };
    const report = await sweepExpired(deps);
    const byGrant = new Map(report.items.map((i) => [i.grantId, i]));
    expect(byGrant.get(alice!.id)?.autoMerge).toMatchObject({ merged: true });
    expect(byGrant.get(bob!.id)?.autoMerge).toMatchObject({ merged: false });
    expect(repo.file(alice!.filePath)).toBeUndefined();
    expect((await state.grants.get(alice!.id))?.revokedAt).not.toBeNull();
    expect((await state.grants.get(bob!.id))?.revokedAt).toBeNull();
    expect(await state.audit.query({ types: ['grant.revocation_pr_merged'] })).toHaveLength(1);

    // The next sweep retries the refused merge once GitHub allows it (e.g. the check is green).
    for (const pull of repo.pulls.values()) pull.mergeable = true;
    const again = await sweepExpired(deps);
    expect(again.items.find((i) => i.grantId === bob!.id)).toMatchObject({
      outcome: 'existing',
      autoMerge: { merged: true },
    });
    expect(repo.file(bob!.filePath)).toBeUndefined();
    expect((await state.grants.get(bob!.id))?.revokedAt).not.toBeNull();
    expect(await state.audit.query({ types: ['grant.revocation_pr_merged'] })).toHaveLength(2);
  });

  it('survives GitHub 5xx and a 403 rate limit mid-sweep, then resumes without duplicates', async () => {
    const grants = await grantsFor('alice', 'bob', 'carol', 'dave');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    // bob's PR creation fails with a 502; then the rate limit hits at carol's branch.
    let pullsCreated = 0;
    repo.fail = (method, path) => {
      if (method === 'POST' && path.endsWith('/pulls')) {
        pullsCreated += 1;
        if (pullsCreated === 2) return { status: 502, message: 'Bad Gateway' };
      }
      if (method === 'POST' && path.endsWith('/git/refs') && pullsCreated >= 2) {
        return {
          status: 403,
          message: 'API rate limit exceeded for installation ID 42.',
          headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1772456400' },
        };
      }
      return undefined;
    };
    const first = await sweepExpired(deps);
    // Grants come oldest first (same expiry here, so by id): positions, not names.
    expect(first.items.map((i) => i.outcome)).toEqual(['opened', 'failed', 'failed']);
    expect(first.items[1]!.problem?.code).toBe('LIFECYCLE_GITHUB_UNAVAILABLE');
    expect(first.items[2]!.problem?.code).toBe('LIFECYCLE_GITHUB_RATE_LIMITED');
    expect(first.stoppedEarly).toMatchObject({
      code: 'LIFECYCLE_GITHUB_RATE_LIMITED',
      retryAt: '2026-03-02T13:00:00.000Z',
    });
    expect(first.remaining).toBe(true);

    repo.fail = undefined;
    const second = await sweepExpired(deps);
    expect(second.stoppedEarly).toBeNull();
    const outcomes = Object.fromEntries(second.items.map((i) => [i.grantId, i.outcome]));
    expect(outcomes).toEqual({
      [first.items[0]!.grantId]: 'existing',
      [first.items[1]!.grantId]: 'opened', // its branch from the failed run is reused
      [first.items[2]!.grantId]: 'opened',
      [grants.map((g) => g.id).find((id) => !first.items.some((i) => i.grantId === id))!]: 'opened',
    });
    const pulls = revocationPulls();
    expect(pulls).toHaveLength(4);
    expect(new Set(pulls.map((p) => p.headRef)).size).toBe(4);
    for (const grant of grants) {
      expect((await state.grants.get(grant.id))?.revocationPrNumber).not.toBeNull();
    }
    expect(await state.audit.query({ types: ['grant.revocation_pr_opened'] })).toHaveLength(4);
  });

  it('bounds the work per sweep', async () => {
    await grantsFor('alice', 'bob', 'carol');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    const first = await sweepExpired(deps, { maxPerSweep: 2 });
    expect(first.items.map((i) => i.outcome)).toEqual(['opened', 'opened']);
    expect(first.remaining).toBe(true);
    const second = await sweepExpired(deps, { maxPerSweep: 2 });
    expect(second.items.map((i) => i.outcome).sort()).toEqual(['existing', 'existing', 'opened']);
  });

  it('leaves a file alone that a later request replaced', async () => {
    const [grant] = await grantsFor('alice');
    // A new approved request for the same file merged, its webhook lost.
    repo.mergedRequest({
      author: 'alice',
      changes: { [grant!.filePath]: requestYaml({ requester: 'alice', duration: '8h' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T11:00:00Z',
    });
    clock.set(AFTER);
    const report = await sweepExpired(lifecycleDeps(state, clock));
    expect(report.items.map((i) => i.outcome)).toEqual(['replaced']);
    expect(revocationPulls()).toHaveLength(0);
  });

  it('sends one reminder per grant with the exact command to extend', async () => {
    const [grant] = await grantsFor('alice');
    clock.set('2026-03-02T11:40:00Z'); // 20 min before expiry, within the policy's 30m lead
    const deps = lifecycleDeps(state, clock);
    const early = await sendReminders(deps, { now: new Date('2026-03-02T11:00:00Z') });
    expect(early.sent).toEqual([]);
    const first = await sendReminders(deps);
    const second = await sendReminders(deps);
    expect(first.leadMs).toBe(30 * 60_000);
    expect(first.sent.map((s) => s.grantId)).toEqual([grant!.id]);
    expect(second.sent).toEqual([]);
    const reminders = repo
      .commentsOn(grant!.prNumber)
      .filter((c) => c.body.includes('gatehouse:reminder='));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.body).toContain(
      'gatehouse request hr_prod --tables employee --for 4h --reason "Investigating INC-42, payroll export"',
    );
    expect((await state.grants.get(grant!.id))?.reminderSentAt?.toISOString()).toBe(
      '2026-03-02T11:40:00.000Z',
    );
    expect(await state.audit.query({ types: ['grant.reminder_sent'] })).toHaveLength(1);
  });

  it('gatehouse expire runs reminders and the sweep; --dry-run changes nothing', async () => {
    await grantsFor('alice');
    clock.set(AFTER);
    const deps = lifecycleDeps(state, clock);
    const before = repo.calls.length;
    const dry = await runExpiry(deps, { dryRun: true });
    expect(dry.sweep.items.map((i) => i.outcome)).toEqual(['would_open']);
    expect(revocationPulls()).toHaveLength(0);
    expect(repo.calls.slice(before).filter((c) => !c.startsWith('GET'))).toEqual([]);
    const real = await runExpiry(deps);
    expect(real.sweep.items.map((i) => i.outcome)).toEqual(['opened']);
  });
});
