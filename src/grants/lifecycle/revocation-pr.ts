import type { Grant } from '../grant.js';
import { appendOnce } from './append-once.js';
import { REVOCATION_BRANCH_PREFIX, REVOCATION_LABEL } from './lifecycle-config.js';
import { repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub, PullSummary } from './lifecycle-github.js';
import {
  reopenedComment,
  reopenMarker,
  revocationBody,
  revocationTitle,
} from './lifecycle-messages.js';
import { revokeGrant } from './revoke-grant.js';
import { upsertMarkedComment } from './upsert-marked-comment.js';

/**
 * The revocation PR of one expired grant: it deletes the request file on the FIXED branch
 * `gatehouse/revoke/<grant-id>`. Every step can be repeated by a rerun or a second replica
 * and ends in the same single PR (anchors.md §4):
 * - a merged PR with that head: the deletion is done; the grant is revoked (webhook lost);
 * - an open PR with that head: reused;
 * - a PR closed without merging: reopened (or, when GitHub cannot reopen it, recreated), with
 *   a comment saying so;
 * - otherwise the branch is created ("Reference already exists" is success), the file deleted
 *   on it (already absent is success) and the PR opened ("already exists" means a concurrent
 *   run opened it: it is looked up and reused).
 */
export type RevocationOutcome =
  | { readonly kind: 'opened' | 'existing' | 'reopened'; readonly pr: PullSummary }
  | { readonly kind: 'recreated'; readonly pr: PullSummary; readonly previous: number }
  | { readonly kind: 'already_merged'; readonly pr: PullSummary };

export interface RevocationContext {
  readonly grant: Grant;
  readonly defaultBranch: string;
  /** The default branch head the sweep saw (the revocation branch starts there). */
  readonly headSha: string;
  /** The PRs with this grant's head branch, when already listed (saves a call). */
  readonly knownPulls?: readonly PullSummary[];
}

export function revocationBranch(grantId: string): string {
  return `${REVOCATION_BRANCH_PREFIX}${grantId}`;
}

export async function ensureRevocationPr(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  context: RevocationContext,
): Promise<RevocationOutcome> {
  const { grant } = context;
  const repo = repoRef(deps.config);
  const branch = revocationBranch(grant.id);
  const pulls = context.knownPulls ?? (await github.pullsByHead(repo, branch));

  const merged = pulls.find((pull) => pull.mergedAt !== null);
  if (merged !== undefined) {
    await revokeGrant(deps, grant, {
      at: new Date(merged.mergedAt ?? 0),
      by: 'gatehouse',
      reason: `expired; its revocation PR #${merged.number} deleted ${grant.filePath}`,
      pr: { number: merged.number, url: merged.htmlUrl },
      ...(merged.mergeCommitSha === null ? {} : { sha: merged.mergeCommitSha }),
      byRevocationPr: true,
    });
    return { kind: 'already_merged', pr: merged };
  }

  const open = pulls.find((pull) => pull.state === 'open');
  if (open !== undefined) {
    await record(deps, grant, open);
    return { kind: 'existing', pr: open };
  }

  const closed = pulls[0];
  if (closed !== undefined) {
    // Closed without merging: the file is still on the default branch, so the PR comes back.
    if (
      (await github.getBranchHead(repo, branch)) !== null &&
      (await github.reopenPull(repo, closed.number))
    ) {
      const reopened: PullSummary = { ...closed, state: 'open' };
      await upsertMarkedComment(
        github,
        repo,
        closed.number,
        reopenMarker(grant.id, closed.number),
        reopenedComment(grant, 'reopened', closed.number),
      );
      await record(deps, grant, reopened);
      deps.log.info({ grant: grant.id, pr: closed.number }, 'lifecycle: revocation PR reopened');
      return { kind: 'reopened', pr: reopened };
    }
  }

  const created = await openNew(deps, github, context, branch);
  if (closed !== undefined && created.number !== closed.number) {
    await upsertMarkedComment(
      github,
      repo,
      created.number,
      reopenMarker(grant.id, closed.number),
      reopenedComment(grant, 'recreated', closed.number),
    );
    await record(deps, grant, created);
    return { kind: 'recreated', pr: created, previous: closed.number };
  }
  await record(deps, grant, created);
  return { kind: 'opened', pr: created };
}

async function openNew(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  context: RevocationContext,
  branch: string,
): Promise<PullSummary> {
  const { grant } = context;
  const repo = repoRef(deps.config);
  await github.createBranch(repo, branch, context.headSha);
  await github.deleteFile(repo, {
    branch,
    path: grant.filePath,
    message: `Revoke expired grant ${grant.id} (${grant.filePath})`,
  });
  const created = await github.createPull(repo, {
    head: branch,
    base: context.defaultBranch,
    title: revocationTitle(grant),
    body: revocationBody(grant),
  });
  let pr: PullSummary | undefined;
  if (created === 'exists') {
    // A concurrent run (another replica, or `gatehouse expire` beside `serve` on SQLite) opened
    // it between our look-up and now: use theirs.
    pr = (await github.pullsByHead(repo, branch)).find((pull) => pull.state === 'open');
    if (pr === undefined) throw new Error(`GitHub says a PR for ${branch} exists, but lists none`);
  } else {
    pr = created;
    deps.log.info({ grant: grant.id, pr: pr.number }, 'lifecycle: revocation PR opened');
  }
  await github.addLabels(repo, pr.number, [REVOCATION_LABEL]);
  return pr;
}

/** Bookkeeping once per grant and PR: the store points at the PR; `grant.expired` once per
 * grant and `grant.revocation_pr_opened` once per PR number. */
async function record(deps: LifecycleDeps, grant: Grant, pr: PullSummary): Promise<void> {
  const { grants, audit } = deps.state;
  if (grant.revocationPrNumber !== pr.number) await grants.setRevocationPr(grant.id, pr.number);
  await recordExpired(deps, grant);
  await appendOnce(
    audit,
    {
      type: 'grant.revocation_pr_opened',
      actor: 'gatehouse',
      database: grant.database,
      grantIds: [grant.id],
      prNumbers: [grant.prNumber, pr.number],
      prUrl: pr.htmlUrl,
      decision: 'opened',
      details: {
        revocationPrNumber: pr.number,
        branch: pr.headRef,
        filePath: grant.filePath,
        requester: grant.requester,
      },
    },
    { grantId: grant.id, prNumber: pr.number },
  );
}

export async function recordExpired(deps: LifecycleDeps, grant: Grant): Promise<void> {
  await appendOnce(
    deps.state.audit,
    {
      type: 'grant.expired',
      actor: 'gatehouse',
      database: grant.database,
      tables: grant.tables,
      grantIds: [grant.id],
      prNumbers: [grant.prNumber],
      prUrl: grant.prUrl,
      decision: 'expired',
      details: { expiresAt: grant.expiresAt.toISOString(), filePath: grant.filePath },
    },
    { grantId: grant.id },
  );
}
