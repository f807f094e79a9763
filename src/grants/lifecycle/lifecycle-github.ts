import type { GithubGateway, RepoRef } from '../../github/github-gateway.js';

/**
 * The GitHub calls of the grant lifecycle, on top of the review gate's gateway (whose
 * `getPullRequest`, `readFile`, comments and labels it reuses, and which `evaluatePullRequest`
 * needs). Declared here, the Kysely way, as the small slice of the API we use; the Octokit
 * adapter is `octokit/octokit-lifecycle-github.ts`.
 *
 * Methods throw on API failures (after Octokit's own retries); expected answers such as "no
 * such branch" or "the branch already exists" are values.
 */
export interface LifecycleGithub extends GithubGateway {
  /** `GET /repos/{owner}/{repo}`: the default branch's name. */
  getDefaultBranch(repo: RepoRef): Promise<string>;
  /** The SHA a branch points at; null when there is no such branch. */
  getBranchHead(repo: RepoRef, branch: string): Promise<string | null>;
  /** Files (blobs) under `prefix` at a commit, with their blob SHAs. */
  listFiles(repo: RepoRef, commitSha: string, prefix: string): Promise<readonly TreeFile[]>;
  /** The newest commit reachable from `ref` that changed `path`; null when none did. */
  lastCommitForPath(repo: RepoRef, ref: string, path: string): Promise<string | null>;
  /** The parents of a commit (a merge commit's first parent is the base at merge). */
  getCommitParents(repo: RepoRef, sha: string): Promise<readonly string[]>;
  /** Pull requests associated with a commit, open, closed and merged. */
  pullsForCommit(repo: RepoRef, sha: string): Promise<readonly PullSummary[]>;
  /** The blob SHA of `path` at `ref`; null when the file does not exist there. */
  blobSha(repo: RepoRef, path: string, ref: string): Promise<string | null>;
  /** `POST /git/refs`. 'exists' when GitHub answers 422 "Reference already exists": another
   * run or replica created it, which is success for an idempotent job (anchors.md §4). */
  createBranch(repo: RepoRef, branch: string, sha: string): Promise<'created' | 'exists'>;
  /** Commits the deletion of `path` on `branch`; 'absent' when the file is not there (an
   * earlier run already deleted it). */
  deleteFile(
    repo: RepoRef,
    input: { readonly branch: string; readonly path: string; readonly message: string },
  ): Promise<'deleted' | 'absent'>;
  /** Pull requests whose head is `branch` of this repository, any state, newest first. */
  pullsByHead(repo: RepoRef, branch: string): Promise<readonly PullSummary[]>;
  /** Open pull requests whose head branch starts with `prefix` (all pages). */
  openPullsWithHeadPrefix(repo: RepoRef, prefix: string): Promise<readonly PullSummary[]>;
  /** Opens a pull request; 'exists' when GitHub answers 422 "A pull request already exists". */
  createPull(
    repo: RepoRef,
    input: {
      readonly head: string;
      readonly base: string;
      readonly title: string;
      readonly body: string;
    },
  ): Promise<PullSummary | 'exists'>;
  /** Reopens a closed pull request; false when GitHub refuses (e.g. its branch is gone). */
  reopenPull(repo: RepoRef, pullNumber: number): Promise<boolean>;
  /** Merges a pull request; `merged: false` when GitHub refuses (405 not mergeable, 409 head
   * moved): branch protection still applies to the app. */
  mergePull(
    repo: RepoRef,
    pullNumber: number,
    input: { readonly sha: string; readonly title: string },
  ): Promise<{ readonly merged: boolean; readonly message: string }>;
}

export interface TreeFile {
  readonly path: string;
  readonly sha: string;
}

export interface PullSummary {
  readonly number: number;
  readonly state: 'open' | 'closed';
  readonly mergedAt: string | null;
  readonly mergeCommitSha: string | null;
  readonly htmlUrl: string;
  readonly headRef: string;
  readonly headSha: string;
  readonly baseRef: string;
  readonly author: string;
}
