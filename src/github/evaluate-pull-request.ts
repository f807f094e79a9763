import { GatehouseError } from '../errors/catalogue.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { loadRepoContext } from '../policy/repo-context.js';
import type { RiskPolicy } from '../policy/risk-policy.js';
import { normalizeTeam } from './approval/count-approvals.js';
import type { GithubGateway, PullRequestInfo, RepoRef } from './github-gateway.js';
import {
  assessPullRequest,
  buildPrEvaluation,
  classifyChangedFiles,
  membershipQueriesFor,
  type DeletedFileGrant,
  type PrEvaluation,
  type PrIdentity,
} from './pr-evaluation.js';

/**
 * The I/O half of the review gate: fetch what the pure evaluation needs, each file once and
 * each team membership once per evaluation, then decide. Also used by the grant lifecycle to
 * re-evaluate a merged PR (reviews on the merged head SHA, policy from the base).
 */
export interface EvaluatePullRequestInput extends RepoRef {
  readonly pullNumber: number;
  readonly now: Date;
  /** The PR as already fetched (saves one call); fetched when absent. */
  readonly pullRequest?: PullRequestInfo;
  /**
   * Where policies/ and CODEOWNERS are read. Default: the base branch (`base.ref`) for an
   * open PR, so a PR is held to the bar that applies when it merges; `base.sha` for a closed
   * one. The lifecycle should pass the merge commit's first parent. Never the head: a PR must
   * not lower its own bar (anchors.md §3).
   */
  readonly policyRef?: string;
  /**
   * The grant store's fact about a deleted request file at `now` (see `DeletedFileGrant`).
   * Absent (the CLI, tests, the lifecycle at merge): every deleted file is taken to back an
   * active grant. Asked only for PRs that add or modify no request. A throw or rejection
   * counts as `unknown`, which is treated as active (fail closed).
   */
  readonly activeGrantsForPath?: (path: string, now: Date) => Promise<DeletedFileGrant>;
}

/** GitHub's list endpoints stop at these (docs: "List pull requests files", "List commits on
 * a pull request"); beyond them we cannot see every commit author, so we refuse. */
const MAX_LISTED_FILES = 3000;
const MAX_LISTED_COMMITS = 250;

function memoize<T>(fn: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = fn(key);
      cache.set(key, hit);
    }
    return hit;
  };
}

function rulesTeams(policy: RiskPolicy): readonly string[] {
  return [...new Set(policy.rules.flatMap((rule) => rule.match.requesters?.teams ?? []))];
}

export async function evaluatePullRequest(
  gateway: GithubGateway,
  input: EvaluatePullRequestInput,
): Promise<PrEvaluation> {
  const repo: RepoRef = { owner: input.owner, repo: input.repo };
  const pr = input.pullRequest ?? (await gateway.getPullRequest(repo, input.pullNumber));
  const identity: PrIdentity = {
    number: pr.number,
    author: pr.author,
    headSha: pr.headSha,
    htmlUrl: pr.htmlUrl,
  };
  const baseRef = input.policyRef ?? (pr.state === 'open' ? pr.baseRef : pr.baseSha);

  const [files, commits, reviews] = await Promise.all([
    gateway.listPullRequestFiles(repo, pr.number),
    gateway.listPullRequestCommits(repo, pr.number),
    gateway.listReviews(repo, pr.number),
  ]);

  // Each (ref, path) is fetched once per evaluation, and each (team, login) asked once.
  const read = memoize((key) => {
    const [ref, path] = key.split('\0') as [string, string];
    return gateway.readFile(repo, path, ref);
  });
  const readAt = (ref: string) => (path: string) => read(`${ref}\0${path}`);
  const isMember = memoize((key) => {
    const [team, login] = key.split('\0') as [string, string];
    const [org, slug] = team.split('/') as [string, string];
    return gateway.isActiveTeamMember(org, slug, login);
  });
  const memberOf = (team: string, login: string) =>
    isMember(`${normalizeTeam(team)}\0${login.toLowerCase()}`);

  const changes = classifyChangedFiles(files);
  const loaded = await loadRepoContext(readAt(baseRef));
  const context = loaded.context;

  const headFiles = new Map<string, Uint8Array | null>();
  const baseFiles = new Map<string, Uint8Array | null>();
  const hasRequests = changes.requests.length + changes.revocations.length > 0;
  let headPolicyDiagnostics: readonly Diagnostic[] = [];
  const requesterTeams = new Set<string>();
  const lookup = changes.requests.length === 0 ? input.activeGrantsForPath : undefined;
  const deletedFileGrants = lookup === undefined ? undefined : new Map<string, DeletedFileGrant>();
  if (context !== undefined) {
    await Promise.all([
      ...changes.requests.map(async ({ path, modified }) => {
        headFiles.set(path, await readAt(pr.headSha)(path));
        if (modified) baseFiles.set(path, await readAt(baseRef)(path));
      }),
      ...changes.revocations.map(async (path) => {
        baseFiles.set(path, await readAt(baseRef)(path));
      }),
      ...(lookup === undefined || deletedFileGrants === undefined
        ? []
        : changes.revocations.map(async (path) => {
            deletedFileGrants.set(path, await grantFact(lookup, path, input.now));
          })),
      ...(hasRequests
        ? rulesTeams(context.policy).map(async (team) => {
            if (await memberOf(team, pr.author)) requesterTeams.add(team);
          })
        : []),
    ]);
    if (!hasRequests && changes.meta.length > 0) {
      // Show what is wrong with the policy the PR would leave behind, so a broken policy
      // cannot be merged (it would refuse every later request).
      headPolicyDiagnostics = (await loadRepoContext(readAt(pr.headSha))).diagnostics;
    }
  }

  const assessed = assessPullRequest({
    pr: identity,
    changes,
    context,
    contextDiagnostics: loaded.diagnostics,
    headFiles,
    baseFiles,
    headPolicyDiagnostics,
    requesterTeams,
    ...(deletedFileGrants === undefined ? {} : { deletedFileGrants }),
    now: input.now,
  });
  const tooLarge: Diagnostic[] = [];
  if (pr.changedFileCount > files.length) {
    tooLarge.push(tooLargeDiagnostic(`${pr.changedFileCount} files`));
  }
  if (pr.commitCount > commits.length) {
    tooLarge.push(tooLargeDiagnostic(`${pr.commitCount} commits`));
  }
  const assessment =
    tooLarge.length === 0
      ? assessed
      : { ...assessed, diagnostics: [...assessed.diagnostics, ...tooLarge] };

  const teamMembers = new Map<string, Set<string>>();
  await Promise.all(
    membershipQueriesFor(identity, assessment, commits, reviews).map(async ({ team, login }) => {
      if (await memberOf(team, login)) {
        const members = teamMembers.get(team) ?? new Set<string>();
        members.add(login);
        teamMembers.set(team, members);
      }
    }),
  );

  return buildPrEvaluation({
    pr: identity,
    assessment,
    policy: context?.policy,
    commits,
    reviews,
    membership: { teamMembers },
  });
}

/** The store's answer, or `unknown` when it fails: an unreadable store must never read as
 * "no grant", which would let anyone delete a live grant's file without approval. The caller
 * logs the error itself (see registerReviewGate). */
async function grantFact(
  lookup: (path: string, now: Date) => Promise<DeletedFileGrant>,
  path: string,
  now: Date,
): Promise<DeletedFileGrant> {
  try {
    return await lookup(path, now);
  } catch (error) {
    // The cause is shown on the PR: a code, never a driver message (hosts, users).
    return {
      state: 'unknown',
      cause: error instanceof GatehouseError ? error.code : 'unexpected error',
    };
  }
}

function tooLargeDiagnostic(what: string): Diagnostic {
  return {
    file: '',
    line: 0,
    column: 0,
    field: '',
    code: 'PR_TOO_LARGE',
    message: `The pull request has ${what}, more than GitHub lists (${MAX_LISTED_FILES} files, ${MAX_LISTED_COMMITS} commits); split it.`,
  };
}
