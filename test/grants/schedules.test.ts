import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLifecycleSchedules } from '../../src/grants/lifecycle/lifecycle-app.js';
import type { State } from '../../src/state/open-state.js';
import type { FakeRepoGithub } from './support/fake-repo-github.js';
import {
  lifecycleDeps,
  manualClock,
  newRepo,
  openSqliteState,
  requestYaml,
  startNock,
  stopNock,
} from './support/lifecycle-fixture.js';

describe('startLifecycleSchedules', () => {
  let repo: FakeRepoGithub;
  let state: State;
  let cleanup: () => Promise<void>;
  const clock = manualClock(new Date('2026-03-02T09:00:00Z'));

  beforeEach(async () => {
    startNock();
    repo = newRepo();
    repo.mount();
    ({ state, cleanup } = await openSqliteState(clock));
  });
  afterEach(async () => {
    stopNock();
    await cleanup();
  });

  it('reconciles at start, and stops cleanly', async () => {
    repo.mergedRequest({
      author: 'alice',
      changes: { 'access/hr_prod/alice.yaml': requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T08:30:00Z',
    });
    const deps = lifecycleDeps(state, clock);
    const schedules = startLifecycleSchedules(deps, {
      reconcileEveryMs: 3_600_000,
      sweepEveryMs: 60_000,
    });
    await schedules.idle();
    schedules.stop();
    expect(await state.grants.list({})).toHaveLength(1);
    expect(deps.log.lines.some((l) => l.msg === 'lifecycle: reconcile finished')).toBe(true);
  });

  it('a failing run is logged, never thrown', async () => {
    const deps = lifecycleDeps(state, clock, {
      github: () => Promise.reject(new Error('GitHub App key rejected')),
    });
    const schedules = startLifecycleSchedules(deps, {
      reconcileEveryMs: 3_600_000,
      sweepEveryMs: 0,
    });
    await schedules.idle();
    schedules.stop();
    // reconcile reports the failure as a value (stoppedEarly); nothing escapes the timer.
    const finished = deps.log.lines.find((l) => l.msg === 'lifecycle: reconcile finished');
    expect(finished?.obj).toMatchObject({
      report: { stoppedEarly: { code: 'LIFECYCLE_GITHUB_UNAVAILABLE' } },
    });
  });
});
