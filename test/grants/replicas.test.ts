import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepExpired } from '../../src/grants/lifecycle/expiry-sweeper.js';
import { reconcile } from '../../src/grants/lifecycle/reconcile.js';
import { openState, type State } from '../../src/state/open-state.js';
import type { LeaderLock } from '../../src/state/leader-lock.js';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.js';
import type { FakeRepoGithub } from './support/fake-repo-github.js';
import {
  closedPayload,
  lifecycleDeps,
  lifecycleProbot,
  manualClock,
  newRepo,
  requestYaml,
  startNock,
  stopNock,
} from './support/lifecycle-fixture.js';

/**
 * Several replicas on ONE PostgreSQL state (two State objects, as two processes would hold):
 * the leader lock keeps sweeps apart, and even without it (an external cron beside `serve`)
 * the fixed branch name and GitHub's own refusals leave one revocation PR.
 */
const MERGED_AT = '2026-03-02T08:00:00Z';
const AFTER = new Date('2026-03-02T12:30:00Z');

/** A lock that never excludes: what two processes with SQLite state (an in-process lock) get. */
const noLock: LeaderLock = {
  runExclusive: async (_name, fn) => ({ ran: true, value: await fn() }),
};

describe('two replicas on PostgreSQL state', () => {
  let db: TestDatabase;
  let repo: FakeRepoGithub;
  let a: State;
  let b: State;
  const clock = manualClock(new Date(MERGED_AT));

  beforeEach(async () => {
    db = await createPostgresDatabase('gh_lifecycle');
    startNock();
    clock.set(MERGED_AT);
    repo = newRepo();
    repo.mount();
    a = await openState({ kind: 'postgres', url: db.url }, clock);
    b = await openState({ kind: 'postgres', url: db.url }, clock);
  });
  afterEach(async () => {
    stopNock();
    await a.close();
    await b.close();
    await db.drop();
  });

  const revocationPulls = () =>
    [...repo.pulls.values()].filter((p) => p.headRef.startsWith('gatehouse/revoke/'));

  it('the same merge delivered to both replicas at once: one grant, one record, one comment', async () => {
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { 'access/hr_prod/alice-replicas.yaml': requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    const [pa, pb] = await Promise.all([
      lifecycleProbot(lifecycleDeps(a, clock)),
      lifecycleProbot(lifecycleDeps(b, clock)),
    ]);
    const payload = closedPayload(repo, pull);
    await Promise.all([
      pa.receive({ id: 'dup', name: 'pull_request', payload } as never),
      pb.receive({ id: 'dup', name: 'pull_request', payload } as never),
      reconcile(lifecycleDeps(b, clock)),
    ]);
    const grants = await a.grants.list({ prNumber: pull.number });
    expect(grants).toHaveLength(1);
    const records = await b.audit.query({ types: ['grant.activated'], grantId: grants[0]!.id });
    expect(records).toHaveLength(1);
    expect(repo.commentsOn(pull.number)).toHaveLength(1);
  });

  it('two sweepers at once open one revocation PR', async () => {
    repo.mergedRequest({
      author: 'bob',
      changes: { 'access/hr_prod/bob-replicas.yaml': requestYaml({ requester: 'bob' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    await reconcile(lifecycleDeps(a, clock));
    clock.set(AFTER);
    const [ra, rb] = await Promise.all([
      sweepExpired(lifecycleDeps(a, clock)),
      sweepExpired(lifecycleDeps(b, clock)),
    ]);
    const opened = [...ra.items, ...rb.items].filter((i) => i.outcome === 'opened');
    expect(opened).toHaveLength(1);
    expect(revocationPulls()).toHaveLength(1);
    expect(await a.audit.query({ types: ['grant.revocation_pr_opened'] })).toHaveLength(1);
    expect(await a.audit.query({ types: ['grant.expired'] })).toHaveLength(1);
  });

  it('even without the leader lock, concurrent sweeps leave one revocation PR', async () => {
    repo.mergedRequest({
      author: 'carol',
      changes: { 'access/hr_prod/carol-replicas.yaml': requestYaml({ requester: 'carol' }) },
      approvers: ['dora'],
      mergedAt: MERGED_AT,
    });
    await reconcile(lifecycleDeps(a, clock));
    clock.set(AFTER);
    const unlocked = (state: State) =>
      lifecycleDeps({ grants: state.grants, audit: state.audit, leader: noLock }, clock);
    const reports = await Promise.all([sweepExpired(unlocked(a)), sweepExpired(unlocked(b))]);
    expect(reports.every((r) => r.stoppedEarly === null)).toBe(true);
    expect(reports.flatMap((r) => r.items).filter((i) => i.outcome === 'failed')).toEqual([]);
    expect(revocationPulls()).toHaveLength(1);
  });
});
