import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepExpired } from '../../src/grants/lifecycle/expiry-sweeper.js';
import { reconcile } from '../../src/grants/lifecycle/reconcile.js';
import type { State } from '../../src/state/open-state.js';
import type { FakeRepoGithub } from './support/fake-repo-github.js';
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

/** GitHub API calls per lifecycle event, as documented in docs/lifecycle.md ("API economy"). */
function shapes(calls: readonly string[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const call of calls) {
    const shape = call
      .replace(/[0-9a-f]{40}/g, '{sha}')
      .replace(/\/contents\/.+$/, '/contents/{path}')
      .replace(/\/memberships\/.+$/, '/memberships/{user}')
      .replace(/\/git\/ref\/.+$/, '/git/ref/{ref}')
      .replace(/\/\d+(?=\/|$)/g, '/{n}');
    summary[shape] = (summary[shape] ?? 0) + 1;
  }
  return summary;
}

describe('GitHub API calls per lifecycle event', () => {
  let repo: FakeRepoGithub;
  let state: State;
  let cleanup: () => Promise<void>;
  const clock = manualClock(new Date('2026-03-02T08:00:00Z'));

  beforeEach(async () => {
    startNock();
    clock.set('2026-03-02T08:00:00Z');
    repo = newRepo();
    repo.mount();
    ({ state, cleanup } = await openSqliteState(clock));
  });
  afterEach(async () => {
    stopNock();
    await cleanup();
  });

  it('merge webhook, reconcile and sweeps', async () => {
    const deps = lifecycleDeps(state, clock);
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { 'access/hr_prod/alice.yaml': requestYaml({ requester: 'alice' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T08:00:00Z',
    });
    const probot = await lifecycleProbot(deps);
    let mark = repo.calls.length;
    await probot.receive({
      id: 'm',
      name: 'pull_request',
      payload: closedPayload(repo, pull),
    } as never);
    const merge = repo.calls.slice(mark);
    expect(shapes(merge)).toEqual({
      'GET /repos/acme/access/pulls/{n}': 1,
      'GET /repos/acme/access/git/commits/{sha}': 1, // the merge's first parent
      'GET /repos/acme/access/pulls/{n}/files': 1,
      'GET /repos/acme/access/pulls/{n}/commits': 1,
      'GET /repos/acme/access/pulls/{n}/reviews': 1,
      'GET /repos/acme/access/contents/{path}': 4, // databases, risk, CODEOWNERS, the request
      'GET /orgs/acme/teams/dba/memberships/{user}': 1, // the approver
      'GET /repos/acme/access/issues/{n}/comments': 1,
      'POST /repos/acme/access/issues/{n}/comments': 1,
    });

    mark = repo.calls.length;
    await reconcile(deps);
    const steady = repo.calls.slice(mark);
    expect(shapes(steady)).toEqual({
      'GET /repos/acme/access': 1,
      'GET /repos/acme/access/git/ref/{ref}': 1,
      'GET /repos/acme/access/git/trees/{sha}': 1,
      'GET /repos/acme/access/commits': 1,
      'GET /repos/acme/access/commits/{sha}/pulls': 1,
    });

    clock.set('2026-03-02T12:30:00Z');
    mark = repo.calls.length;
    await sweepExpired(deps);
    const opening = repo.calls.slice(mark);
    expect(shapes(opening)).toEqual({
      'GET /repos/acme/access': 1,
      'GET /repos/acme/access/git/ref/{ref}': 1,
      'GET /repos/acme/access/git/trees/{sha}': 1,
      'GET /repos/acme/access/pulls': 2, // open revocation PRs; PRs with this grant's branch
      'GET /repos/acme/access/contents/{path}': 2, // blob at the merge; blob on the branch
      'POST /repos/acme/access/git/refs': 1,
      'DELETE /repos/acme/access/contents/{path}': 1,
      'POST /repos/acme/access/pulls': 1,
      'POST /repos/acme/access/issues/{n}/labels': 1,
    });

    mark = repo.calls.length;
    await sweepExpired(deps);
    expect(repo.calls.slice(mark)).toHaveLength(4); // a grant waiting for its PR costs nothing
  });
});
