import { evaluatePullRequest } from '../../github/evaluate-pull-request.js';
import type { GithubGateway, PullRequestInfo } from '../../github/github-gateway.js';
import {
  classifyChangedFiles,
  type ChangedFile,
  type FileEvaluation,
  type PrEvaluation,
} from '../../github/pr-evaluation.js';
import type { Lifetime } from '../../requests/access-request.js';
import type { NewGrant } from '../grant.js';
import { grantId } from '../grant-id.js';
import { appendOnce } from './append-once.js';
import { REVOCATION_BRANCH_PREFIX } from './lifecycle-config.js';
import { repoName, repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub } from './lifecycle-github.js';
import {
  activationComment,
  grantMarker,
  REFUSAL_MARKER,
  refusalComment,
} from './lifecycle-messages.js';
import { grantsEndedBy, revokeGrant } from './revoke-grant.js';
import { upsertMarkedComment } from './upsert-marked-comment.js';

/**
 * Activation on merge (issue 4): a merged pull request into the default branch is evaluated
 * again AS OF ITS MERGE, with the review gate's own engine (policy and CODEOWNERS from the
 * merge commit's first parent, reviews on the merged head SHA submitted before the merge).
 * - Satisfied: each added or modified request file becomes a grant, active from `merged_at`
 *   until `merged_at + duration` (or `expires`), never beyond the level's maximum.
 * - Not satisfied (an admin bypassed branch protection): nothing is activated, the PR says
 *   why, `grant.activation_refused` is audited once.
 * - Whatever the verdict, a file the merge deleted or changed ends the grants of its earlier
 *   merges: the content they were granted for is gone from the default branch, and ending
 *   access is always safe.
 * Idempotent: grant ids are derived from (repo, path, merge SHA), the store inserts once, and
 * audit records are written only for what this run changed.
 */
export interface MergeInput {
  readonly pullNumber: number;
  readonly defaultBranch: string;
  /** Who merged (the webhook's `merged_by`); the PR author when unknown. */
  readonly mergedBy?: string;
  /** The PR's head branch, when known (tells a revocation PR from others). */
  readonly headRef?: string;
  /** The PR as already fetched. */
  readonly pullRequest?: PullRequestInfo;
  /** Evaluate and report, write nothing (neither state nor GitHub). */
  readonly dryRun?: boolean;
  readonly source: 'webhook' | 'reconcile';
  readonly deliveryId?: string;
}

export interface ActivatedGrant {
  readonly grantId: string;
  readonly path: string;
  readonly prNumber: number;
  /** False when the grant existed already (a replay), or in a dry run when it exists. */
  readonly created: boolean;
  readonly activatedAt: Date;
  readonly expiresAt: Date;
  readonly clamped: boolean;
}

export interface RevokedGrant {
  readonly grantId: string;
  readonly path: string;
  readonly reason: string;
}

export type MergeOutcome =
  | { readonly kind: 'not_merged'; readonly prNumber: number }
  | { readonly kind: 'other_branch'; readonly prNumber: number; readonly baseRef: string }
  /** Another worker holds this PR's lock and does the same work. */
  | { readonly kind: 'busy'; readonly prNumber: number }
  | {
      readonly kind: 'processed';
      readonly prNumber: number;
      readonly mergeSha: string;
      readonly activated: readonly ActivatedGrant[];
      readonly refused: { readonly codes: readonly string[]; readonly title: string } | null;
      readonly revoked: readonly RevokedGrant[];
    };

export async function processMergedPullRequest(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  input: MergeInput,
): Promise<MergeOutcome> {
  const repo = repoRef(deps.config);
  const pr = input.pullRequest ?? (await github.getPullRequest(repo, input.pullNumber));
  if (!pr.merged || pr.mergedAt === null || pr.mergeCommitSha === null) {
    return { kind: 'not_merged', prNumber: pr.number };
  }
  if (pr.baseRef !== input.defaultBranch) {
    return { kind: 'other_branch', prNumber: pr.number, baseRef: pr.baseRef };
  }
  const work = () => activate(deps, github, pr, input);
  if (input.dryRun === true) return work();
  // One worker per PR at a time: a webhook and reconcile (or two replicas) seeing the same
  // merge do not race on the comment or the refusal record.
  const locked = await deps.state.leader.runExclusive(
    `merge:${repoName(deps.config)}#${pr.number}`,
    work,
  );
  return locked.ran ? locked.value : { kind: 'busy', prNumber: pr.number };
}

/** The gateway as of the merge: reviews submitted after `merged_at` never count (an approval
 * given after a bypassed merge must not activate it), and the PR's file list is fetched once
 * for both the evaluation and the revocations. */
function asOfMerge(github: GithubGateway, mergedAt: Date): GithubGateway {
  const files = new Map<number, Promise<readonly ChangedFile[]>>();
  const view: GithubGateway = Object.create(github) as GithubGateway;
  return Object.assign(view, {
    listReviews: async (repo: Parameters<GithubGateway['listReviews']>[0], n: number) =>
      (await github.listReviews(repo, n)).filter(
        (review) =>
          review.submittedAt === null || Date.parse(review.submittedAt) <= mergedAt.getTime(),
      ),
    listPullRequestFiles: (
      repo: Parameters<GithubGateway['listPullRequestFiles']>[0],
      n: number,
    ) => {
      let hit = files.get(n);
      if (hit === undefined) {
        hit = github.listPullRequestFiles(repo, n);
        files.set(n, hit);
      }
      return hit;
    },
  });
}

async function activate(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  pr: PullRequestInfo,
  input: MergeInput,
): Promise<MergeOutcome> {
  const repo = repoRef(deps.config);
  const log = deps.log;
  const mergedAt = new Date(pr.mergedAt ?? 0);
  const mergeSha = pr.mergeCommitSha ?? '';
  const dryRun = input.dryRun === true;
  const mergedBy = input.mergedBy ?? pr.author;

  // The base at merge is the merge commit's first parent (for squash and rebase merges too);
  // pr.baseSha is only where the base was when the PR was last updated.
  const parents = await github.getCommitParents(repo, mergeSha);
  const policyRef = parents[0] ?? pr.baseSha;
  const view = asOfMerge(github, mergedAt);
  const changes = classifyChangedFiles(await view.listPullRequestFiles(repo, pr.number));

  // 1. Files deleted or changed by this merge end the grants of earlier merges.
  const revoked: RevokedGrant[] = [];
  const ending = [
    ...changes.revocations.map((path) => ({ path, deleted: true })),
    ...changes.requests.map(({ path }) => ({ path, deleted: false })),
  ];
  for (const { path, deleted } of ending) {
    for (const grant of await grantsEndedBy(deps, path, mergedAt, new Set([mergeSha]))) {
      const byRevocationPr =
        grant.revocationPrNumber === pr.number ||
        input.headRef === `${REVOCATION_BRANCH_PREFIX}${grant.id}`;
      const reason = deleted
        ? byRevocationPr
          ? `expired; its revocation PR #${pr.number} deleted ${path}`
          : `${path} deleted by #${pr.number}`
        : `${path} changed by #${pr.number}; a changed request is a new request`;
      const done = dryRun
        ? true
        : await revokeGrant(deps, grant, {
            at: mergedAt,
            by: mergedBy,
            reason,
            pr: { number: pr.number, url: pr.htmlUrl },
            sha: mergeSha,
            byRevocationPr,
          });
      if (done) revoked.push({ grantId: grant.id, path, reason });
    }
  }

  if (changes.requests.length === 0) {
    return {
      kind: 'processed',
      prNumber: pr.number,
      mergeSha,
      activated: [],
      refused: null,
      revoked,
    };
  }

  // 2. Requests: the same engine as the review gate, as of the merge.
  const evaluation = await evaluatePullRequest(view, {
    owner: repo.owner,
    repo: repo.repo,
    pullNumber: pr.number,
    now: mergedAt,
    pullRequest: pr,
    policyRef,
  });

  if (evaluation.conclusion !== 'success') {
    await refuse(deps, github, pr, evaluation, input, mergedBy);
    return {
      kind: 'processed',
      prNumber: pr.number,
      mergeSha,
      activated: [],
      refused: { codes: evaluation.codes, title: evaluation.title },
      revoked,
    };
  }

  const activated: ActivatedGrant[] = [];
  for (const file of evaluation.files) {
    const planned = plannedGrant(deps, pr, file, mergedAt, mergeSha);
    if (planned === null) continue;
    const { grant, clamped, requestedUntil, maxDurationMs } = planned;
    let created: boolean;
    if (dryRun) {
      created = (await deps.state.grants.get(grant.id)) === null;
    } else {
      const inserted = await deps.state.grants.insert(grant);
      created = inserted.created;
      if (created) {
        await deps.state.audit.append({
          type: 'grant.activated',
          actor: grant.requester,
          database: grant.database,
          tables: grant.tables,
          grantIds: [grant.id],
          prNumbers: [pr.number],
          prUrl: pr.htmlUrl,
          mergeSha,
          approvers: grant.approvers.map((a) => a.login),
          decision: 'activated',
          code: clamped ? 'GRANT_DURATION_CLAMPED' : null,
          details: {
            filePath: grant.filePath,
            level: grant.level,
            headSha: grant.headSha,
            activatedAt: grant.activatedAt.toISOString(),
            expiresAt: grant.expiresAt.toISOString(),
            clamped,
            requestedUntil: requestedUntil.toISOString(),
            mergedBy,
            source: input.source,
            ...(input.deliveryId === undefined ? {} : { delivery: input.deliveryId }),
          },
        });
        log.info(
          { grant: grant.id, path: grant.filePath, expiresAt: grant.expiresAt, clamped },
          'lifecycle: grant activated',
        );
      }
      // The comment is a convenience: its failure is logged, the grant stands. A grant that
      // is already over (reconcile bootstrapping old merges) gets no comment: nothing to tell.
      const stored = inserted.grant;
      if (stored.expiresAt.getTime() > deps.clock().getTime()) {
        await bestEffort(deps, 'activation comment', () =>
          upsertMarkedComment(
            github,
            repo,
            pr.number,
            grantMarker(stored.id),
            activationComment(stored, { clamped, requestedUntil, maxDurationMs }),
          ),
        );
      }
    }
    activated.push({
      grantId: grant.id,
      path: grant.filePath,
      prNumber: pr.number,
      created,
      activatedAt: grant.activatedAt,
      expiresAt: grant.expiresAt,
      clamped,
    });
  }
  return { kind: 'processed', prNumber: pr.number, mergeSha, activated, refused: null, revoked };
}

export interface GrantWindow {
  readonly activatedAt: Date;
  readonly expiresAt: Date;
  /** True when the request asked for more than the level's maximum. */
  readonly clamped: boolean;
  readonly requestedUntil: Date;
}

/**
 * The clock starts at the merge, not at the request (anchors.md §2, Teleport #50011): active
 * from `merged_at` until `merged_at + duration` (or `expires`), and never beyond the level's
 * maximum. Validation already refuses longer lifetimes; the clamp is the last line, so a grant
 * can never outlive its level whatever the engine let through.
 */
export function grantWindow(
  lifetime: Lifetime,
  mergedAt: Date,
  maxDurationMs: number,
): GrantWindow {
  const start = mergedAt.getTime();
  const requestedUntil =
    lifetime.kind === 'duration' ? new Date(start + lifetime.ms) : new Date(lifetime.at.getTime());
  const maxUntil = start + maxDurationMs;
  const clamped = requestedUntil.getTime() > maxUntil;
  return {
    activatedAt: new Date(start),
    expiresAt: new Date(clamped ? maxUntil : requestedUntil.getTime()),
    clamped,
    requestedUntil,
  };
}

interface PlannedGrant {
  readonly grant: NewGrant;
  readonly clamped: boolean;
  readonly requestedUntil: Date;
  readonly maxDurationMs: number;
}

/** The grant an approved request file yields, its window clamped to the level's maximum. */
function plannedGrant(
  deps: LifecycleDeps,
  pr: PullRequestInfo,
  file: FileEvaluation,
  mergedAt: Date,
  mergeSha: string,
): PlannedGrant | null {
  const { request, decision } = file;
  if (file.kind !== 'request' || file.status !== 'approved') return null;
  if (request === undefined || decision === undefined || decision.kind !== 'approve') return null;
  const window = grantWindow(request.lifetime, mergedAt, decision.maxDurationMs);
  const { expiresAt, clamped, requestedUntil } = window;
  const repo = repoName(deps.config);
  return {
    grant: {
      id: grantId(repo, file.path, mergeSha),
      repo,
      requester: request.requester,
      database: request.database,
      tables: request.tables,
      access: request.access,
      level: decision.level,
      reason: request.reason,
      ticket: request.ticket ?? null,
      filePath: file.path,
      prNumber: pr.number,
      prUrl: pr.htmlUrl,
      headSha: pr.headSha,
      mergeSha,
      approvers: file.approvals.approvers,
      activatedAt: mergedAt,
      expiresAt,
    },
    clamped,
    requestedUntil,
    maxDurationMs: decision.maxDurationMs,
  };
}

async function refuse(
  deps: LifecycleDeps,
  github: LifecycleGithub,
  pr: PullRequestInfo,
  evaluation: PrEvaluation,
  input: MergeInput,
  mergedBy: string,
): Promise<void> {
  if (input.dryRun === true) return;
  const recorded = await appendOnce(
    deps.state.audit,
    {
      type: 'grant.activation_refused',
      actor: mergedBy,
      prNumbers: [pr.number],
      prUrl: pr.htmlUrl,
      mergeSha: pr.mergeCommitSha,
      approvers: evaluation.approvers.map((a) => a.login),
      decision: 'refused',
      code: 'GRANT_ACTIVATION_REFUSED',
      details: {
        reason: evaluation.title,
        codes: evaluation.codes,
        files: evaluation.files.map((f) => ({ path: f.path, status: f.status })),
        author: pr.author,
        headSha: pr.headSha,
        source: input.source,
        ...(input.deliveryId === undefined ? {} : { delivery: input.deliveryId }),
      },
    },
    { prNumber: pr.number, matches: (record) => record.mergeSha === pr.mergeCommitSha },
  );
  if (recorded) {
    deps.log.warn(
      { pr: pr.number, codes: evaluation.codes },
      'lifecycle: merged without sufficient approval; nothing activated',
    );
  }
  await bestEffort(deps, 'refusal comment', () =>
    upsertMarkedComment(
      github,
      repoRef(deps.config),
      pr.number,
      REFUSAL_MARKER,
      refusalComment(evaluation),
    ),
  );
}

export async function bestEffort(
  deps: LifecycleDeps,
  what: string,
  fn: () => Promise<unknown>,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    deps.log.warn({ err: error }, `lifecycle: could not update ${what}`);
  }
}
