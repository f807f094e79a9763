import { isGrantActive, type Grant } from '../grant.js';
import { REVOCATION_BRANCH_PREFIX } from './lifecycle-config.js';
import { repoName, repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub, PullSummary } from './lifecycle-github.js';
import {
  MAX_CONSECUTIVE_OUTAGES,
  problemOf,
  stopsAtOnce,
  type LifecycleProblem,
} from './lifecycle-problem.js';
import { ensureRevocationPr, recordExpired, revocationBranch } from './revocation-pr.js';
import { revocationTitle } from './lifecycle-messages.js';
import { revokeGrant } from './revoke-grant.js';

/**
 * The expiry sweep (issue 4): for each expired, unrevoked grant whose file is still on the
 * default branch, make sure ONE revocation PR deletes it (see revocation-pr.ts). Access
 * already ended at `expires_at` (the gateway checks it on every query); the PR only tidies git.
 *
 * Runs under the leader lock `expiry-sweep`, so replicas on PostgreSQL state do not sweep at
 * once; a rerun, a second replica or an external cron are harmless anyway (every step is
 * idempotent). Work is bounded: at most `maxPerSweep` grants that need GitHub calls per run.
 * A rate limit stops the sweep at once, three GitHub outages (5xx) in a row stop it too; the
 * report says so and the next run resumes where this one stopped.
 */
export interface SweepOptions {
  readonly now?: Date;
  /** Default: the config's `maxPerSweep` (GATEHOUSE_EXPIRY_MAX_PER_SWEEP, 50). */
  readonly maxPerSweep?: number;
  /** Look and report, change nothing. */
  readonly dryRun?: boolean;
}

export type SweepOutcome =
  /** A revocation PR was opened now. */
  | 'opened'
  /** An open revocation PR exists already. */
  | 'existing'
  /** A revocation PR closed without merging was reopened, or opened again. */
  | 'reopened'
  | 'recreated'
  /** The revocation PR had merged (its webhook was lost): the grant is revoked now. */
  | 'already_merged'
  /** The file is no longer on the default branch: the grant is revoked, no PR needed. */
  | 'file_gone'
  /** The file on the default branch holds a later request: left alone (reconcile ends this
   * grant); deleting it would end someone's newer access. */
  | 'replaced'
  /** Dry run: a PR would be opened (or reused). */
  | 'would_open'
  | 'failed';

export interface SweepItem {
  readonly grantId: string;
  readonly path: string;
  readonly outcome: SweepOutcome;
  readonly prNumber?: number;
  readonly prUrl?: string;
  /** With GATEHOUSE_AUTO_MERGE_REVOCATIONS: whether GitHub merged the PR. */
  readonly autoMerge?: { readonly merged: boolean; readonly message: string };
  readonly problem?: LifecycleProblem;
}

export interface SweepReport {
  /** False when another worker was sweeping (nothing was done). */
  readonly ran: boolean;
  readonly dryRun: boolean;
  readonly now: string;
  readonly items: readonly SweepItem[];
  /** Set when a rate limit or a GitHub outage stopped the sweep; the next run resumes. */
  readonly stoppedEarly: LifecycleProblem | null;
  /** True when expired grants were left for the next run (budget spent or stopped early). */
  readonly remaining: boolean;
}

export async function sweepExpired(
  deps: LifecycleDeps,
  options: SweepOptions = {},
): Promise<SweepReport> {
  const now = options.now ?? deps.clock();
  const dryRun = options.dryRun === true;
  const max = Math.max(1, options.maxPerSweep ?? deps.config.maxPerSweep);
  const locked = await deps.state.leader.runExclusive('expiry-sweep', () =>
    sweep(deps, now, max, dryRun),
  );
  return locked.ran
    ? locked.value
    : {
        ran: false,
        dryRun,
        now: now.toISOString(),
        items: [],
        stoppedEarly: null,
        remaining: true,
      };
}

async function sweep(
  deps: LifecycleDeps,
  now: Date,
  max: number,
  dryRun: boolean,
): Promise<SweepReport> {
  const repo = repoRef(deps.config);
  const items: SweepItem[] = [];
  const report = (stoppedEarly: LifecycleProblem | null, remaining: boolean): SweepReport => ({
    ran: true,
    dryRun,
    now: now.toISOString(),
    items,
    stoppedEarly,
    remaining,
  });

  let github: LifecycleGithub;
  let branch: string;
  let head: string;
  let files: Map<string, string>;
  let openByGrant: Map<string, PullSummary>;
  try {
    github = await deps.github();
    branch = await github.getDefaultBranch(repo);
    const sha = await github.getBranchHead(repo, branch);
    if (sha === null) throw new Error(`the default branch ${branch} has no head`);
    head = sha;
    // Two calls tell which files are still there and which grants have an open PR, so grants
    // waiting for their PR to be merged cost no call per sweep.
    files = new Map(
      (await github.listFiles(repo, head, 'access/')).map((file) => [file.path, file.sha]),
    );
    openByGrant = new Map(
      (await github.openPullsWithHeadPrefix(repo, REVOCATION_BRANCH_PREFIX)).map((pull) => [
        pull.headRef.slice(REVOCATION_BRANCH_PREFIX.length),
        pull,
      ]),
    );
  } catch (error) {
    return report(problemOf(error), true);
  }

  // Grants with an open PR cost nothing, so fetch enough to find `max` that need work.
  const limit = max + openByGrant.size;
  const fullName = repoName(deps.config);
  const expired = (await deps.state.grants.expired(now, limit)).filter(
    (grant) => grant.repo === fullName && !isGrantActive(grant, now),
  );
  let budget = max;
  let outages = 0;
  for (const grant of expired) {
    const open = openByGrant.get(grant.id);
    if (open !== undefined) {
      if (!dryRun) {
        try {
          await ensureRevocationPr(deps, github, {
            grant,
            defaultBranch: branch,
            headSha: head,
            knownPulls: [open],
          });
        } catch (error) {
          const problem = problemOf(error);
          items.push(item(grant, 'failed', open, { problem }));
          if (stopsAtOnce(problem)) return report(problem, true);
          continue;
        }
      }
      // An open PR from an earlier sweep: retry the auto-merge GitHub refused then.
      const merge =
        !dryRun && deps.config.autoMergeRevocations
          ? await autoMerge(deps, github, grant, open).catch((error: unknown) => {
              deps.log.warn(
                { grant: grant.id, pr: open.number, code: problemOf(error).code },
                'lifecycle: auto-merge of an open revocation PR failed; next sweep retries',
              );
              return undefined;
            })
          : undefined;
      items.push(item(grant, 'existing', open, merge === undefined ? {} : { autoMerge: merge }));
      continue;
    }
    if (budget === 0) return report(null, true);
    budget -= 1;
    try {
      const done = await handle(deps, github, { grant, branch, head, files, dryRun });
      items.push(done);
      outages = 0;
    } catch (error) {
      const problem = problemOf(error);
      items.push(item(grant, 'failed', undefined, { problem }));
      deps.log.warn(
        { grant: grant.id, code: problem.code, message: problem.message },
        'lifecycle: expiry sweep could not handle a grant',
      );
      outages = problem.code === 'LIFECYCLE_GITHUB_UNAVAILABLE' ? outages + 1 : 0;
      if (stopsAtOnce(problem) || outages >= MAX_CONSECUTIVE_OUTAGES) {
        return report(problem, true);
      }
    }
  }
  return report(null, expired.length >= limit);
}

function item(
  grant: Grant,
  outcome: SweepOutcome,
  pr?: PullSummary,
  extra: Partial<Pick<SweepItem, 'autoMerge' | 'problem'>> = {},
): SweepItem {
  return {
    grantId: grant.id,
    path: grant.filePath,
    outcome,
    ...(pr === undefined ? {} : { prNumber: pr.number, prUrl: pr.htmlUrl }),
    ...extra,
  };
}

async function handle(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  input: {
    readonly grant: Grant;
    readonly branch: string;
    readonly head: string;
    readonly files: ReadonlyMap<string, string>;
    readonly dryRun: boolean;
  },
): Promise<SweepItem> {
  const { grant, dryRun } = input;
  const repo = repoRef(deps.config);
  const atHead = input.files.get(grant.filePath);

  if (atHead === undefined) {
    // Gone from the default branch: by its revocation PR (whose webhook we missed) or by
    // another merge. Either way the grant ends now, without a PR.
    if (grant.revocationPrNumber !== null) {
      const pulls = await github.pullsByHead(repo, revocationBranch(grant.id));
      const merged = pulls.find((pull) => pull.mergedAt !== null);
      if (merged !== undefined) {
        if (!dryRun) {
          await ensureRevocationPr(deps, github, {
            grant,
            defaultBranch: input.branch,
            headSha: input.head,
            knownPulls: pulls,
          });
        }
        return item(grant, 'already_merged', merged);
      }
    }
    if (!dryRun) {
      await recordExpired(deps, grant);
      await revokeGrant(deps, grant, {
        at: deps.clock(),
        by: 'gatehouse',
        reason: `expired; ${grant.filePath} is no longer on ${input.branch}`,
        sha: input.head,
      });
    }
    return item(grant, 'file_gone');
  }

  // Only delete the content this grant was approved for: if a later merge replaced the file,
  // it belongs to a newer grant (reconcile ends this one).
  const atMerge = await github.blobSha(repo, grant.filePath, grant.mergeSha);
  if (atMerge !== atHead) return item(grant, 'replaced');
  if (dryRun) return item(grant, 'would_open');

  const outcome = await ensureRevocationPr(deps, github, {
    grant,
    defaultBranch: input.branch,
    headSha: input.head,
  });
  if (outcome.kind === 'already_merged' || outcome.kind === 'existing') {
    return item(grant, outcome.kind, outcome.pr);
  }
  if (!deps.config.autoMergeRevocations) return item(grant, outcome.kind, outcome.pr);
  const merge = await autoMerge(deps, github, grant, outcome.pr);
  return item(grant, outcome.kind, outcome.pr, { autoMerge: merge });
}

/**
 * A revocation only removes access, so it may merge without review (config). Branch
 * protection still applies to the app: if GitHub refuses (often because the required check
 * has not completed yet right after the PR was opened), the PR stays open and the next sweep
 * tries again; a human may merge it meanwhile.
 */
async function autoMerge(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  grant: Grant,
  pr: PullSummary,
): Promise<{ readonly merged: boolean; readonly message: string }> {
  const merge = await github.mergePull(repoRef(deps.config), pr.number, {
    // Merge exactly the deletion we pushed: GitHub refuses (409) if the branch moved since.
    sha: pr.headSha,
    title: revocationTitle(grant),
  });
  if (merge.merged) {
    await revokeGrant(deps, grant, {
      at: deps.clock(),
      by: 'gatehouse',
      reason: `expired; its revocation PR #${pr.number} deleted ${grant.filePath}`,
      pr: { number: pr.number, url: pr.htmlUrl },
      byRevocationPr: true,
    });
  } else {
    deps.log.warn(
      {
        grant: grant.id,
        pr: pr.number,
        code: 'LIFECYCLE_REVOCATION_NOT_MERGED',
        message: merge.message,
      },
      'lifecycle: GitHub refused to merge the revocation PR; it stays open',
    );
  }
  return merge;
}
