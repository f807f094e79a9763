import type { ProbotOctokit } from 'probot';
import type { CommitFact, ReviewFact } from '../approval/count-approvals.js';
import type {
  CheckRunResult,
  ExistingCheckRun,
  GatehouseComment,
  GithubGateway,
  PullRequestInfo,
  RepoRef,
} from '../github-gateway.js';
import type { ChangedFile } from '../pr-evaluation.js';

/**
 * The GitHub gateway over Probot's Octokit, which brings retries with backoff
 * (@octokit/plugin-retry) and rate-limit handling (@octokit/plugin-throttling). Every list is
 * paginated with `per_page: 100` (the maximum) to spend as few of the installation's
 * 5,000 requests/hour as possible.
 */
export interface OctokitGatewayOptions {
  /** The GitHub App's id: lets us find our own check runs and comments, not look-alikes
   * created by other apps or users. */
  readonly appId?: number;
}

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error
    ? Number((error as { status: unknown }).status)
    : undefined;
}

export function createOctokitGateway(
  octokit: ProbotOctokit,
  options: OctokitGatewayOptions = {},
): GithubGateway {
  return {
    async getPullRequest(repo: RepoRef, pullNumber: number): Promise<PullRequestInfo> {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
        ...repo,
        pull_number: pullNumber,
      });
      return {
        number: data.number,
        author: data.user.login,
        state: data.state === 'open' ? 'open' : 'closed',
        draft: data.draft === true,
        merged: data.merged,
        mergedAt: data.merged_at,
        mergeCommitSha: data.merge_commit_sha,
        headSha: data.head.sha,
        baseRef: data.base.ref,
        baseSha: data.base.sha,
        htmlUrl: data.html_url,
        labels: data.labels.map((label) => label.name),
        commitCount: data.commits,
        changedFileCount: data.changed_files,
        requestedTeams: (data.requested_teams ?? []).map((team) => team.slug),
        requestedUsers: (data.requested_reviewers ?? []).map((user) => user.login),
      };
    },

    async listPullRequestFiles(repo, pullNumber): Promise<readonly ChangedFile[]> {
      const files = await octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
        ...repo,
        pull_number: pullNumber,
        per_page: 100,
      });
      return files.map((file) => ({
        path: file.filename,
        status: file.status,
        ...(file.previous_filename === undefined ? {} : { previousPath: file.previous_filename }),
      }));
    },

    async listPullRequestCommits(repo, pullNumber): Promise<readonly CommitFact[]> {
      const commits = await octokit.paginate(
        'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits',
        { ...repo, pull_number: pullNumber, per_page: 100 },
      );
      // `author`/`committer` are the GitHub accounts linked to the commit's emails (null when
      // none is linked).
      return commits.map((commit) => ({
        sha: commit.sha,
        author: commit.author?.login ?? null,
        committer: commit.committer?.login ?? null,
      }));
    },

    async listReviews(repo, pullNumber): Promise<readonly ReviewFact[]> {
      const reviews = await octokit.paginate(
        'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews',
        { ...repo, pull_number: pullNumber, per_page: 100 },
      );
      return reviews.map((review) => ({
        id: review.id,
        user: review.user?.login ?? null,
        state: review.state,
        commitId: review.commit_id,
        submittedAt: review.submitted_at ?? null,
      }));
    },

    async readFile(repo, path, ref): Promise<Uint8Array | null> {
      try {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
          ...repo,
          path,
          ref,
        });
        if (Array.isArray(data) || data.type !== 'file') return null;
        if ('encoding' in data && data.encoding === 'base64' && typeof data.content === 'string') {
          return new Uint8Array(Buffer.from(data.content, 'base64'));
        }
        // Files over 1 MB come without content (encoding "none"). Every file we read is capped
        // far lower (64 KiB), so a buffer of the right size lets the validator refuse it by
        // size (FILE_TOO_LARGE) without downloading it.
        return new Uint8Array(data.size);
      } catch (error) {
        if (status(error) === 404) return null;
        throw error;
      }
    },

    async isActiveTeamMember(org, slug, login): Promise<boolean> {
      try {
        // https://docs.github.com/en/rest/teams/members#get-team-membership-for-a-user:
        // `state` is `pending` for an invitation not yet accepted; 404 for non-members.
        const { data } = await octokit.request(
          'GET /orgs/{org}/teams/{team_slug}/memberships/{username}',
          { org, team_slug: slug, username: login },
        );
        return data.state === 'active';
      } catch (error) {
        if (status(error) === 404) return false;
        throw error;
      }
    },

    async listPullRequestsForCommit(repo, sha): Promise<readonly number[]> {
      const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
        ...repo,
        commit_sha: sha,
        per_page: 100,
      });
      return pulls.filter((pull) => pull.state === 'open').map((pull) => pull.number);
    },

    async findCheckRun(repo, headSha, name): Promise<ExistingCheckRun | null> {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
        ...repo,
        ref: headSha,
        check_name: name,
        filter: 'latest',
        ...(options.appId === undefined ? {} : { app_id: options.appId }),
      });
      const run = data.check_runs[0];
      return run === undefined
        ? null
        : { id: Number(run.id), status: run.status, conclusion: run.conclusion ?? null };
    },

    async createCheckRun(repo, run): Promise<number> {
      const { data } = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
        ...repo,
        name: run.name,
        head_sha: run.headSha,
        status: 'in_progress',
        details_url: run.detailsUrl,
      });
      return Number(data.id);
    },

    async completeCheckRun(repo, checkRunId, result: CheckRunResult): Promise<void> {
      await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
        ...repo,
        check_run_id: checkRunId,
        status: 'completed',
        conclusion: result.conclusion,
        // GitHub: "When the conclusion is action_required, additional details should be
        // provided on the site specified by details_url"
        // (https://docs.github.com/en/rest/checks/runs#update-a-check-run). The PR itself is
        // where the missing approvals are given.
        details_url: result.detailsUrl,
        output: {
          title: result.title,
          summary: result.summary,
          annotations: result.annotations.slice(0, 50).map((a) => ({
            path: a.path,
            start_line: a.startLine,
            end_line: a.endLine,
            ...(a.startColumn === undefined ? {} : { start_column: a.startColumn }),
            ...(a.endColumn === undefined ? {} : { end_column: a.endColumn }),
            annotation_level: a.level,
            title: a.title,
            message: a.message,
          })),
        },
      });
    },

    async addLabels(repo, pullNumber, labels): Promise<void> {
      await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
        ...repo,
        issue_number: pullNumber,
        labels: [...labels],
      });
    },

    async removeLabel(repo, pullNumber, label): Promise<void> {
      try {
        await octokit.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', {
          ...repo,
          issue_number: pullNumber,
          name: label,
        });
      } catch (error) {
        // Already gone (a concurrent delivery removed it): the desired state holds.
        if (status(error) !== 404) throw error;
      }
    },

    async findComment(repo, pullNumber, marker): Promise<GatehouseComment | null> {
      const comments = await octokit.paginate(
        'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
        { ...repo, issue_number: pullNumber, per_page: 100 },
      );
      const ours = comments.find(
        (comment) =>
          comment.body?.includes(marker) === true &&
          (options.appId === undefined
            ? comment.user?.type === 'Bot'
            : comment.performed_via_github_app?.id === options.appId),
      );
      return ours === undefined ? null : { id: ours.id, body: ours.body ?? '' };
    },

    async createComment(repo, pullNumber, body): Promise<void> {
      await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...repo,
        issue_number: pullNumber,
        body,
      });
    },

    async updateComment(repo, commentId, body): Promise<void> {
      await octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
        ...repo,
        comment_id: commentId,
        body,
      });
    },

    async requestReviewers(repo, pullNumber, reviewers): Promise<void> {
      await octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', {
        ...repo,
        pull_number: pullNumber,
        reviewers: [...reviewers.users],
        team_reviewers: [...reviewers.teams],
      });
    },
  };
}
