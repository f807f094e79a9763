import { appendOnce } from './append-once.js';
import { repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub } from './lifecycle-github.js';
import { grantsEndedBy, revokeGrant } from './revoke-grant.js';

/**
 * A push to the default branch (issue 4): when it came from a merged PR, `pull_request.closed`
 * does the work and this does nothing. Otherwise (a direct push, e.g. by an admin past branch
 * protection) it activates nothing and is audited `push.ignored`; request files it touched no
 * longer hold the content their grants were approved for, so those grants end (ending access
 * is always safe; a new grant needs a reviewed PR).
 */
export interface PushInput {
  readonly ref: string;
  readonly before: string;
  readonly after: string;
  readonly deleted: boolean;
  readonly forced: boolean;
  readonly pusher: string;
  readonly defaultBranch: string;
  readonly commits: readonly {
    readonly id: string;
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly modified: readonly string[];
  }[];
  readonly deliveryId?: string;
}

export type PushOutcome =
  | { readonly kind: 'other_ref' }
  | { readonly kind: 'from_pull_request'; readonly prNumber: number }
  | {
      readonly kind: 'ignored';
      readonly recorded: boolean;
      readonly revoked: readonly string[];
    };

const IGNORED_LOOKBACK_MS = 7 * 24 * 3_600_000;

export async function processPush(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  input: PushInput,
): Promise<PushOutcome> {
  if (input.ref !== `refs/heads/${input.defaultBranch}` || input.deleted) {
    return { kind: 'other_ref' };
  }
  const repo = repoRef(deps.config);
  // https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit
  const pulls = await github.pullsForCommit(repo, input.after);
  const merged = pulls.find(
    (pull) => pull.mergedAt !== null && pull.baseRef === input.defaultBranch,
  );
  if (merged !== undefined) return { kind: 'from_pull_request', prNumber: merged.number };

  const now = deps.clock();
  const shas = new Set(input.commits.map((commit) => commit.id));
  const touched = [
    ...new Set(input.commits.flatMap((c) => [...c.added, ...c.removed, ...c.modified])),
  ]
    .filter((path) => path.startsWith('access/'))
    .sort();
  const revoked: string[] = [];
  for (const path of touched) {
    for (const grant of await grantsEndedBy(deps, path, now, shas)) {
      const done = await revokeGrant(deps, grant, {
        at: now,
        by: input.pusher,
        reason: `${path} changed by a direct push (${input.after.slice(0, 12)}), not by a reviewed pull request`,
        sha: input.after,
      });
      if (done) revoked.push(grant.id);
    }
  }
  const recorded = await appendOnce(
    deps.state.audit,
    {
      type: 'push.ignored',
      actor: input.pusher,
      mergeSha: input.after,
      grantIds: revoked,
      decision: 'ignored',
      details: {
        ref: input.ref,
        before: input.before,
        after: input.after,
        forced: input.forced,
        commits: input.commits.map((c) => c.id),
        accessFiles: touched,
        ...(input.deliveryId === undefined ? {} : { delivery: input.deliveryId }),
      },
    },
    {
      since: new Date(now.getTime() - IGNORED_LOOKBACK_MS),
      matches: (record) => record.mergeSha === input.after,
    },
  );
  if (recorded) {
    deps.log.warn(
      { after: input.after, pusher: input.pusher, accessFiles: touched },
      'lifecycle: push to the default branch without a merged pull request; nothing activated',
    );
  }
  return { kind: 'ignored', recorded, revoked };
}
