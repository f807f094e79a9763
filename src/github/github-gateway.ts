import type { CommitFact, ReviewFact } from './approval/count-approvals.js';
import type { CheckAnnotation, ChangedFile } from './pr-evaluation.js';

/**
 * The few GitHub calls the review gate makes, as a small interface (the Kysely way: declare
 * the slice of the dependency we use). The Octokit adapter lives in
 * `octokit/octokit-github-gateway.ts`; tests can substitute their own.
 *
 * Methods throw on API failures (after Octokit's own retries); expected "absent" answers are
 * values (`null`, `false`).
 */
export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface PullRequestInfo {
  readonly number: number;
  readonly author: string;
  readonly state: 'open' | 'closed';
  readonly draft: boolean;
  readonly merged: boolean;
  readonly mergedAt: string | null;
  readonly mergeCommitSha: string | null;
  readonly headSha: string;
  readonly baseRef: string;
  readonly baseSha: string;
  readonly htmlUrl: string;
  readonly labels: readonly string[];
  /** As GitHub counts them; compared with what the list endpoints return (they cap). */
  readonly commitCount: number;
  readonly changedFileCount: number;
  /** Team slugs (within the repository's organization) and logins with pending requests. */
  readonly requestedTeams: readonly string[];
  readonly requestedUsers: readonly string[];
}

export interface ExistingCheckRun {
  readonly id: number;
  readonly status: string;
  readonly conclusion: string | null;
}

export interface CheckRunResult {
  readonly conclusion: 'success' | 'action_required' | 'failure';
  readonly detailsUrl: string;
  readonly title: string;
  readonly summary: string;
  /** At most 50 (GitHub's limit per request). */
  readonly annotations: readonly CheckAnnotation[];
}

export interface GatehouseComment {
  readonly id: number;
  readonly body: string;
}

export interface GithubGateway {
  getPullRequest(repo: RepoRef, pullNumber: number): Promise<PullRequestInfo>;
  /** All pages. GitHub lists at most 3000 files. */
  listPullRequestFiles(repo: RepoRef, pullNumber: number): Promise<readonly ChangedFile[]>;
  /** All pages. GitHub lists at most 250 commits. */
  listPullRequestCommits(repo: RepoRef, pullNumber: number): Promise<readonly CommitFact[]>;
  listReviews(repo: RepoRef, pullNumber: number): Promise<readonly ReviewFact[]>;
  /** File bytes at `ref` (branch, tag or SHA); null when there is no such file. */
  readFile(repo: RepoRef, path: string, ref: string): Promise<Uint8Array | null>;
  /** `GET /orgs/{org}/teams/{slug}/memberships/{user}`: true only for state `active`
   * (a pending invitation is not membership); 404 means not a member. */
  isActiveTeamMember(org: string, slug: string, login: string): Promise<boolean>;
  /** Open pull requests whose head is `sha` (for check_run events from forks, whose payload
   * lists no pull requests). */
  listPullRequestsForCommit(repo: RepoRef, sha: string): Promise<readonly number[]>;
  /** This app's latest check run called `name` on `headSha`, if any. */
  findCheckRun(repo: RepoRef, headSha: string, name: string): Promise<ExistingCheckRun | null>;
  createCheckRun(
    repo: RepoRef,
    run: { readonly name: string; readonly headSha: string; readonly detailsUrl: string },
  ): Promise<number>;
  completeCheckRun(repo: RepoRef, checkRunId: number, result: CheckRunResult): Promise<void>;
  addLabels(repo: RepoRef, pullNumber: number, labels: readonly string[]): Promise<void>;
  removeLabel(repo: RepoRef, pullNumber: number, label: string): Promise<void>;
  /** This app's comment carrying `marker`, if any (comments by others are ignored, so a user
   * cannot plant the marker and make us edit their comment). */
  findComment(repo: RepoRef, pullNumber: number, marker: string): Promise<GatehouseComment | null>;
  createComment(repo: RepoRef, pullNumber: number, body: string): Promise<void>;
  updateComment(repo: RepoRef, commentId: number, body: string): Promise<void>;
  requestReviewers(
    repo: RepoRef,
    pullNumber: number,
    reviewers: { readonly teams: readonly string[]; readonly users: readonly string[] },
  ): Promise<void>;
}
