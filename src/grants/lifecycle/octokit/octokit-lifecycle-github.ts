import type { ProbotOctokit } from 'probot';
import { GatehouseError } from '../../../errors/catalogue.js';
import {
  createOctokitGateway,
  type OctokitGatewayOptions,
} from '../../../github/octokit/octokit-github-gateway.js';
import { mentions, statusOf } from '../github-failure.js';
import type { LifecycleGithub, PullSummary, TreeFile } from '../lifecycle-github.js';

/**
 * The lifecycle's GitHub calls over Probot's Octokit (retries with backoff and rate-limit
 * handling come with it), extending the review gate's adapter so that one object serves
 * `evaluatePullRequest` and the lifecycle. Lists are paginated with `per_page: 100`.
 */
interface RawPull {
  number: number;
  state: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  html_url: string;
  head: { ref: string; sha: string; repo?: { full_name?: string } | null };
  base: { ref: string };
  user: { login: string } | null;
}

function summary(pull: RawPull): PullSummary {
  return {
    number: pull.number,
    state: pull.state === 'open' ? 'open' : 'closed',
    mergedAt: pull.merged_at,
    mergeCommitSha: pull.merge_commit_sha,
    htmlUrl: pull.html_url,
    headRef: pull.head.ref,
    headSha: pull.head.sha,
    baseRef: pull.base.ref,
    author: pull.user?.login ?? '',
  };
}

export function createOctokitLifecycleGithub(
  octokit: ProbotOctokit,
  options: OctokitGatewayOptions = {},
): LifecycleGithub {
  const gateway = createOctokitGateway(octokit, options);

  async function blobSha(
    repo: { owner: string; repo: string },
    path: string,
    ref: string,
  ): Promise<string | null> {
    try {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
        ...repo,
        path,
        ref,
      });
      return Array.isArray(data) || data.type !== 'file' ? null : data.sha;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  return {
    ...gateway,

    async getDefaultBranch(repo) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}', { ...repo });
      return data.default_branch;
    },

    async getBranchHead(repo, branch) {
      try {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', {
          ...repo,
          ref: `heads/${branch}`,
        });
        return data.object.sha;
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },

    async listFiles(repo, commitSha, prefix): Promise<readonly TreeFile[]> {
      // One call for the whole tree (https://docs.github.com/en/rest/git/trees#get-a-tree):
      // cheaper than walking access/ directory by directory with the contents API.
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', {
        ...repo,
        tree_sha: commitSha,
        recursive: '1',
      });
      if (data.truncated) {
        // A partial list would make reconcile revoke grants whose files it did not see.
        throw new GatehouseError(
          'LIFECYCLE_TREE_TRUNCATED',
          `GitHub truncated the tree of ${repo.owner}/${repo.repo} at ${commitSha} (over 100,000 entries or 7 MB); keep the access repository small.`,
        );
      }
      return data.tree
        .filter((entry) => entry.type === 'blob' && entry.path?.startsWith(prefix) === true)
        .map((entry) => ({ path: entry.path ?? '', sha: entry.sha ?? '' }));
    },

    async lastCommitForPath(repo, ref, path) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits', {
        ...repo,
        sha: ref,
        path,
        per_page: 1,
      });
      return data[0]?.sha ?? null;
    },

    async getCommitParents(repo, sha) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', {
        ...repo,
        commit_sha: sha,
      });
      return data.parents.map((parent) => parent.sha);
    },

    async pullsForCommit(repo, sha) {
      const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
        ...repo,
        commit_sha: sha,
        per_page: 100,
      });
      return (pulls as unknown as RawPull[]).map(summary);
    },

    blobSha,

    async createBranch(repo, branch, sha) {
      try {
        await octokit.request('POST /repos/{owner}/{repo}/git/refs', {
          ...repo,
          ref: `refs/heads/${branch}`,
          sha,
        });
        return 'created';
      } catch (error) {
        // https://docs.github.com/en/rest/git/refs#create-a-reference
        if (statusOf(error) === 422 && mentions(error, 'Reference already exists')) return 'exists';
        throw error;
      }
    },

    async deleteFile(repo, input) {
      const sha = await blobSha(repo, input.path, input.branch);
      if (sha === null) return 'absent';
      try {
        await octokit.request('DELETE /repos/{owner}/{repo}/contents/{path}', {
          ...repo,
          path: input.path,
          message: input.message,
          sha,
          branch: input.branch,
        });
        return 'deleted';
      } catch (error) {
        // Deleted meanwhile by a concurrent run (404, or 409 because the blob we named is no
        // longer the branch's): the state we want, once the file is really gone.
        const status = statusOf(error);
        if (status === 404) return 'absent';
        if (status === 409 && (await blobSha(repo, input.path, input.branch)) === null) {
          return 'absent';
        }
        throw error;
      }
    },

    async pullsByHead(repo, branch) {
      const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', {
        ...repo,
        state: 'all',
        head: `${repo.owner}:${branch}`,
        per_page: 100,
      });
      return (pulls as unknown as RawPull[])
        .filter((pull) => pull.head.ref === branch)
        .map(summary)
        .sort((a, b) => b.number - a.number);
    },

    async openPullsWithHeadPrefix(repo, prefix) {
      const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', {
        ...repo,
        state: 'open',
        per_page: 100,
      });
      const fullName = `${repo.owner}/${repo.repo}`.toLowerCase();
      return (pulls as unknown as RawPull[])
        .filter(
          (pull) =>
            pull.head.ref.startsWith(prefix) &&
            (pull.head.repo?.full_name === undefined ||
              pull.head.repo.full_name.toLowerCase() === fullName),
        )
        .map(summary);
    },

    async createPull(repo, input) {
      try {
        const { data } = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
          ...repo,
          head: input.head,
          base: input.base,
          title: input.title,
          body: input.body,
        });
        return summary(data as unknown as RawPull);
      } catch (error) {
        if (statusOf(error) === 422 && mentions(error, 'A pull request already exists')) {
          return 'exists';
        }
        throw error;
      }
    },

    async reopenPull(repo, pullNumber) {
      try {
        await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
          ...repo,
          pull_number: pullNumber,
          state: 'open',
        });
        return true;
      } catch (error) {
        // GitHub cannot reopen a PR whose head branch was deleted or force-pushed.
        if (statusOf(error) === 422) return false;
        throw error;
      }
    },

    async mergePull(repo, pullNumber, input) {
      try {
        const { data } = await octokit.request(
          'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge',
          {
            ...repo,
            pull_number: pullNumber,
            sha: input.sha,
            commit_title: input.title,
            merge_method: 'squash',
          },
        );
        return { merged: data.merged, message: data.message };
      } catch (error) {
        // https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request: 405 "not
        // mergeable" (branch protection, required checks), 409 "head branch was modified".
        const status = statusOf(error);
        if (status === 405 || status === 409 || status === 422) {
          return { merged: false, message: `HTTP ${status}` };
        }
        throw error;
      }
    },
  };
}
