import type { Context, Probot, ProbotOctokit } from 'probot';
import type { AuditLog } from '../audit/audit-log.js';
import { isGrantActive, type Grant } from '../grants/grant.js';
import type { GrantStore } from '../grants/grant-store.js';
import type { Clock } from '../util/clock.js';
import { evaluatePullRequest } from './evaluate-pull-request.js';
import type { GithubGateway, PullRequestInfo, RepoRef } from './github-gateway.js';
import { createOctokitGateway } from './octokit/octokit-github-gateway.js';
import {
  failedEvaluation,
  type DeletedFileGrant,
  type EndedGrant,
  type PrEvaluation,
  type PrIdentity,
} from './pr-evaluation.js';
import { COMMENT_MARKER, MAX_ANNOTATIONS } from './pr-report.js';
import { CHECK_NAME, type ReviewGateConfig } from './review-gate-config.js';

/**
 * The review gate as a Probot app: on every PR and review event, evaluate the PR and report it
 * with ONE check run per head SHA (a check run, not a commit status: users with write access
 * can forge statuses; branch protection can require this check from this app; anchors.md §3),
 * ONE risk label and ONE comment, all updated in place so that a duplicate delivery changes
 * nothing (anchors.md §4: webhooks can arrive twice).
 */
export interface ReviewGateDeps {
  readonly config: ReviewGateConfig;
  readonly clock: Clock;
  readonly audit?: AuditLog;
  /** Defaults to the Octokit gateway over the event's installation client. */
  readonly gatewayFor?: (octokit: ProbotOctokit) => GithubGateway;
  /**
   * The grant index. With it, deleting a request file whose grant is no longer active needs
   * no approval (it removes no access); without it, every deletion by someone other than the
   * requester needs one CODEOWNER approval (issue 3's rule).
   */
  readonly grants?: GrantStore;
}

export const LABEL_PREFIX = 'gatehouse:risk-';

const PULL_REQUEST_EVENTS = [
  'pull_request.opened',
  'pull_request.synchronize',
  'pull_request.reopened',
  'pull_request.edited',
  'pull_request.ready_for_review',
] as const;

const REVIEW_EVENTS = [
  'pull_request_review.submitted',
  'pull_request_review.edited',
  'pull_request_review.dismissed',
] as const;

interface PayloadPr {
  readonly number: number;
  readonly head: { readonly sha: string };
  readonly user: { readonly login: string } | null;
  readonly html_url: string;
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = String((error as { status: unknown }).status);
    return `GitHub answered HTTP ${status}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function registerReviewGate(app: Probot, deps: ReviewGateDeps): void {
  const { config } = deps;
  const gatewayFor =
    deps.gatewayFor ??
    ((octokit: ProbotOctokit) =>
      createOctokitGateway(octokit, config.appId === undefined ? {} : { appId: config.appId }));

  const servesRepository = (repository: { owner: { login: string }; name: string }): boolean =>
    repository.owner.login.toLowerCase() === config.repository.owner.toLowerCase() &&
    repository.name.toLowerCase() === config.repository.name.toLowerCase();

  app.on([...PULL_REQUEST_EVENTS, ...REVIEW_EVENTS], async (context) => {
    const { repository, pull_request: pr } = context.payload as {
      repository: { owner: { login: string }; name: string };
      pull_request: PayloadPr;
    };
    if (!servesRepository(repository)) return;
    await gate(context, gatewayFor(context.octokit), fromPayload(pr));
  });

  app.on('check_run.rerequested', async (context) => {
    const { repository, check_run: run } = context.payload;
    if (!servesRepository(repository) || run.name !== CHECK_NAME) return;
    const gateway = gatewayFor(context.octokit);
    const repo = { owner: repository.owner.login, repo: repository.name };
    // The payload lists only PRs whose head is in this repository; for forks, ask GitHub.
    const listed = run.pull_requests
      .filter((pull) => pull.base.repo.id === repository.id)
      .map((pull) => pull.number);
    const numbers =
      listed.length > 0 ? listed : await gateway.listPullRequestsForCommit(repo, run.head_sha);
    for (const number of numbers) {
      await gate(context, gateway, {
        number,
        headSha: run.head_sha,
        author: '',
        htmlUrl: run.html_url ?? '',
      });
    }
  });

  function fromPayload(pr: PayloadPr): PrIdentity {
    return {
      number: pr.number,
      headSha: pr.head.sha,
      author: pr.user?.login ?? '',
      htmlUrl: pr.html_url,
    };
  }

  async function gate(context: Context, gateway: GithubGateway, hint: PrIdentity): Promise<void> {
    const { owner, name } = config.repository;
    const repo: RepoRef = { owner, repo: name };
    const log = context.log.child({ pr: hint.number, delivery: context.id });

    let pr: PullRequestInfo | undefined;
    let evaluation: PrEvaluation;
    let checkRunId: number;
    let previousConclusion: string | null = null;
    try {
      pr = await gateway.getPullRequest(repo, hint.number);
    } catch (error) {
      log.error({ err: error }, 'review gate: cannot read the pull request');
    }
    if (pr !== undefined && pr.state !== 'open') return; // merged/closed: the lifecycle's job
    const identity: PrIdentity =
      pr === undefined
        ? hint
        : { number: pr.number, headSha: pr.headSha, author: pr.author, htmlUrl: pr.htmlUrl };

    // Reuse this app's check run on the head SHA, if any: a redelivered event must not add a
    // second run. If this fails, nothing is reported and the required check stays absent or
    // pending, which blocks the merge (fail closed).
    const existing = await gateway.findCheckRun(repo, identity.headSha, CHECK_NAME);
    if (existing === null) {
      checkRunId = await gateway.createCheckRun(repo, {
        name: CHECK_NAME,
        headSha: identity.headSha,
        detailsUrl: identity.htmlUrl,
      });
    } else {
      checkRunId = existing.id;
      previousConclusion = existing.conclusion;
    }

    const store = deps.grants;
    const activeGrantsForPath =
      store === undefined
        ? undefined
        : async (path: string, now: Date): Promise<DeletedFileGrant> => {
            try {
              return await deletedFileGrant(store, `${owner}/${name}`, path, now);
            } catch (error) {
              // evaluatePullRequest turns this into `unknown` (treated as active).
              log.warn({ err: error, path }, 'review gate: grant store unreadable');
              throw error;
            }
          };
    try {
      if (pr === undefined) throw new Error('the pull request could not be read');
      evaluation = await evaluatePullRequest(gateway, {
        owner,
        repo: name,
        pullNumber: pr.number,
        now: deps.clock(),
        pullRequest: pr,
        ...(activeGrantsForPath === undefined ? {} : { activeGrantsForPath }),
      });
    } catch (error) {
      log.error({ err: error }, 'review gate: evaluation failed');
      evaluation = failedEvaluation(identity, describe(error));
    }

    await gateway.completeCheckRun(repo, checkRunId, {
      conclusion: evaluation.conclusion,
      detailsUrl: identity.htmlUrl,
      title: evaluation.title,
      summary: evaluation.summary,
      annotations: evaluation.annotations.slice(0, MAX_ANNOTATIONS),
    });
    log.info(
      { conclusion: evaluation.conclusion, level: evaluation.level, codes: evaluation.codes },
      'review gate: check completed',
    );
    if (pr === undefined || evaluation.codes.includes('PR_EVALUATION_FAILED')) return;

    // The check is the source of truth; labels, comment and review requests are conveniences,
    // so their failures are logged, not fatal.
    await bestEffort(log, 'labels', () => syncLabels(gateway, repo, pr, evaluation.label));
    await bestEffort(log, 'comment', () =>
      upsertComment(gateway, repo, pr.number, evaluation.comment),
    );
    if (config.requestReviews && evaluation.conclusion === 'action_required') {
      await bestEffort(log, 'review requests', () =>
        requestMissingReviews(gateway, repo, pr, evaluation),
      );
    }
    if (
      deps.audit !== undefined &&
      evaluation.conclusion === 'success' &&
      previousConclusion !== 'success'
    ) {
      const audit = deps.audit;
      await bestEffort(log, 'audit', () =>
        audit.append({
          type: 'grant.approved',
          actor: pr.author,
          prNumbers: [pr.number],
          prUrl: pr.htmlUrl,
          approvers: evaluation.approvers.map((a) => a.login),
          decision: 'approved',
          details: { headSha: pr.headSha, level: evaluation.level, delivery: context.id },
        }),
      );
    }
  }
}

/**
 * What the store says about the grants `path` backs in `repo` ("owner/name") at `now`: the
 * active ones (`list` with `activeAt` and `unrevoked`, the gateway's own test), else the latest
 * that ended, for the report. Grants of another repository with the same path are not this
 * file's. Throws when the store cannot be read (STATE_UNAVAILABLE).
 */
export async function deletedFileGrant(
  store: GrantStore,
  repo: string,
  path: string,
  now: Date,
): Promise<DeletedFileGrant> {
  const ours = (grant: Grant): boolean =>
    grant.repo === '' || grant.repo.toLowerCase() === repo.toLowerCase();
  const active = (await store.list({ filePath: path, activeAt: now, unrevoked: true })).filter(
    ours,
  );
  if (active.length > 0) {
    return { state: 'active', requesters: [...new Set(active.map((g) => g.requester))] };
  }
  const all = (await store.list({ filePath: path })).filter(ours);
  // A grant activated between the two reads is active after all.
  const raced = all.filter((grant) => isGrantActive(grant, now));
  if (raced.length > 0) {
    return { state: 'active', requesters: [...new Set(raced.map((g) => g.requester))] };
  }
  const last = all.reduce<Grant | undefined>(
    (latest, grant) =>
      latest === undefined || grant.activatedAt.getTime() >= latest.activatedAt.getTime()
        ? grant
        : latest,
    undefined,
  );
  return { state: 'inactive', last: last === undefined ? null : endOf(last) };
}

/** How a grant that is not active ended: revoked before its expiry, or expired (a revocation
 * PR merged after the expiry revokes it too, but access had ended at `expiresAt`). */
function endOf(grant: Grant): EndedGrant {
  const revokedFirst =
    grant.revokedAt !== null && grant.revokedAt.getTime() < grant.expiresAt.getTime();
  return {
    requester: grant.requester,
    ended: revokedFirst ? 'revoked' : 'expired',
    at: revokedFirst && grant.revokedAt !== null ? grant.revokedAt : grant.expiresAt,
  };
}

async function bestEffort(
  log: { warn: (obj: object, msg: string) => void },
  what: string,
  fn: () => Promise<unknown>,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log.warn({ err: error }, `review gate: could not update ${what}`);
  }
}

/** Exactly one `gatehouse:risk-*` label, the PR's strictest level; calls only for changes. */
export async function syncLabels(
  gateway: GithubGateway,
  repo: RepoRef,
  pr: PullRequestInfo,
  label: string | null,
): Promise<void> {
  for (const current of pr.labels) {
    if (current.startsWith(LABEL_PREFIX) && current !== label) {
      await gateway.removeLabel(repo, pr.number, current);
    }
  }
  if (label !== null && !pr.labels.includes(label)) {
    await gateway.addLabels(repo, pr.number, [label]);
  }
}

/** One comment per PR, found by its hidden marker and edited in place; untouched when the
 * text is the same (a duplicate delivery costs one list call and writes nothing). */
export async function upsertComment(
  gateway: GithubGateway,
  repo: RepoRef,
  pullNumber: number,
  body: string,
): Promise<void> {
  const existing = await gateway.findComment(repo, pullNumber, COMMENT_MARKER);
  if (existing === null) await gateway.createComment(repo, pullNumber, body);
  else if (existing.body !== body) await gateway.updateComment(repo, existing.id, body);
}

/** Requests reviews from the teams and users still needed. GitHub's team reviewers are slugs
 * of the repository's organization, so teams of other organizations are skipped. */
export async function requestMissingReviews(
  gateway: GithubGateway,
  repo: RepoRef,
  pr: PullRequestInfo,
  evaluation: PrEvaluation,
): Promise<void> {
  const org = repo.owner.toLowerCase();
  const requestedTeams = new Set(pr.requestedTeams.map((slug) => slug.toLowerCase()));
  const requestedUsers = new Set(pr.requestedUsers.map((login) => login.toLowerCase()));
  const teams = evaluation.missingReviewers.teams
    .filter((team) => team.startsWith(`${org}/`))
    .map((team) => team.slice(org.length + 1))
    .filter((slug) => !requestedTeams.has(slug));
  const users = evaluation.missingReviewers.users.filter(
    (login) => login !== pr.author.toLowerCase() && !requestedUsers.has(login),
  );
  if (teams.length + users.length > 0) {
    await gateway.requestReviewers(repo, pr.number, { teams, users });
  }
}
