import type { PullRecord, ReviewRecord, ReviewState } from '../fake-state.js';
import { notFound, validationFailed } from '../http-error.js';
import { pullCommits, pullFiles } from '../pull-diff.js';
import { commitJson, diffEntryJson, pullJson, reviewJson } from '../representations.js';
import {
  actorAccount,
  bodyObject,
  json,
  optionalString,
  paginate,
  pullOf,
  repoOf,
  requiredString,
} from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** GitHub lists at most 3,000 files and 250 commits of a PR. See https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files */
const MAX_PULL_FILES = 3000;
const MAX_PULL_COMMITS = 250;

const REVIEW_EVENTS: Readonly<Record<string, ReviewState>> = {
  APPROVE: 'APPROVED',
  REQUEST_CHANGES: 'CHANGES_REQUESTED',
  COMMENT: 'COMMENTED',
};

/** Pull requests, their files, commits, reviews, review requests and merging. */
export function registerPullRoutes(router: Router): void {
  router.add('POST', '/repos/{owner}/{repo}/pulls', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const pull = ctx.ops.openPull(repo, {
      head: requiredString(body, 'head', 'PullRequest'),
      base: requiredString(body, 'base', 'PullRequest'),
      title: requiredString(body, 'title', 'PullRequest'),
      body: optionalString(body, 'body') ?? null,
      draft: body['draft'] === true,
      author: actorAccount(ctx),
    });
    return json(201, pullJson(ctx.urls, repo, ctx.state, pull, true));
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls', (ctx) => {
    const repo = repoOf(ctx);
    const state = ctx.query.get('state') ?? 'open';
    const head = ctx.query.get('head');
    const base = ctx.query.get('base');
    const direction = ctx.query.get('direction') ?? 'desc';
    const pulls = [...repo.pulls.values()].filter((pull) => {
      if (state !== 'all' && pull.issue.state !== state) return false;
      // `head` is `user:ref-name`; GitHub matches both parts.
      if (head !== null) {
        const [owner, ref] = head.includes(':') ? head.split(/:(.*)/s) : [repo.owner.login, head];
        if (owner?.toLowerCase() !== repo.owner.login.toLowerCase() || ref !== pull.headRef)
          return false;
      }
      return base === null || pull.baseRef === base;
    });
    pulls.sort((a, b) => (direction === 'asc' ? 1 : -1) * (a.issue.number - b.issue.number));
    return paginate(
      ctx,
      pulls.map((pull) => pullJson(ctx.urls, repo, ctx.state, pull, false)),
    );
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', (ctx) => {
    const repo = repoOf(ctx);
    return json(200, pullJson(ctx.urls, repo, ctx.state, pullOf(ctx, repo), true));
  });

  router.add('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const body = bodyObject(ctx);
    const state = body['state'];
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw validationFailed([{ resource: 'PullRequest', code: 'invalid', field: 'state' }]);
    }
    const changes: { title?: string; body?: string | null; state?: 'open' | 'closed' } = {};
    if (typeof body['title'] === 'string') changes.title = body['title'];
    if (typeof body['body'] === 'string' || body['body'] === null) changes.body = body['body'];
    if (state !== undefined) changes.state = state;
    ctx.ops.updatePull(repo, pull, changes, actorAccount(ctx));
    return json(200, pullJson(ctx.urls, repo, ctx.state, pull, true));
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const files = pullFiles(repo, pull).slice(0, MAX_PULL_FILES);
    return paginate(
      ctx,
      files.map((file) => diffEntryJson(ctx.urls, repo, pull.headSha, file)),
    );
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/commits', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const shas = pullCommits(repo, pull).slice(0, MAX_PULL_COMMITS);
    return paginate(
      ctx,
      shas.map((sha) => commitJson(ctx.urls, repo, ctx.state, sha)),
    );
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const me =
      ctx.actor.kind === 'user' || ctx.actor.kind === 'installation' ? ctx.actor.account.id : null;
    // A pending review is visible to its author only.
    const visible = pull.reviews.filter((r) => r.state !== 'PENDING' || r.user.id === me);
    return paginate(
      ctx,
      visible.map((r) => reviewJson(ctx.urls, repo, ctx.state, pull, r, false)),
    );
  });

  router.add('POST', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const body = bodyObject(ctx);
    const event = optionalString(body, 'event');
    const state = event === undefined ? 'PENDING' : REVIEW_EVENTS[event];
    if (state === undefined)
      throw validationFailed([{ resource: 'PullRequestReview', code: 'invalid', field: 'event' }]);
    const commitId = optionalString(body, 'commit_id');
    const review = ctx.ops.submitReview(repo, pull, {
      user: actorAccount(ctx),
      state,
      body: optionalString(body, 'body') ?? '',
      ...(commitId === undefined ? {} : { commitId }),
    });
    return json(200, reviewJson(ctx.urls, repo, ctx.state, pull, review, false));
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    return json(200, reviewJson(ctx.urls, repo, ctx.state, pull, reviewOf(ctx, pull), false));
  });

  router.add('PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const review = reviewOf(ctx, pull);
    const text = requiredString(bodyObject(ctx), 'body', 'PullRequestReview');
    ctx.ops.editReview(repo, pull, review, text, actorAccount(ctx));
    return json(200, reviewJson(ctx.urls, repo, ctx.state, pull, review, false));
  });

  // https://docs.github.com/en/rest/pulls/reviews#dismiss-a-review-for-a-pull-request
  router.add(
    'PUT',
    '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals',
    (ctx) => {
      const repo = repoOf(ctx);
      const pull = pullOf(ctx, repo);
      const review = reviewOf(ctx, pull);
      // GitHub requires a message; it is shown in the timeline, not returned anywhere.
      requiredString(bodyObject(ctx), 'message', 'PullRequestReview');
      ctx.ops.dismissReview(repo, pull, review, actorAccount(ctx));
      return json(200, reviewJson(ctx.urls, repo, ctx.state, pull, review, false));
    },
  );

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', (ctx) => {
    const repo = repoOf(ctx);
    return pullOf(ctx, repo).merged ? { status: 204 } : { status: 404 };
  });

  router.add('PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const body = bodyObject(ctx);
    const options: { method?: string; sha?: string; title?: string; message?: string } = {};
    const method = optionalString(body, 'merge_method');
    const sha = optionalString(body, 'sha');
    const title = optionalString(body, 'commit_title');
    const message = optionalString(body, 'commit_message');
    if (method !== undefined) options.method = method;
    if (sha !== undefined) options.sha = sha;
    if (title !== undefined) options.title = title;
    if (message !== undefined) options.message = message;
    const merged = ctx.ops.merge(repo, pull, actorAccount(ctx), options);
    return json(200, {
      sha: merged.sha,
      merged: true,
      message: 'Pull Request successfully merged',
    });
  });

  router.add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const full = pullJson(ctx.urls, repo, ctx.state, pull, false);
    return json(200, { users: full['requested_reviewers'], teams: full['requested_teams'] });
  });

  router.add('POST', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const body = bodyObject(ctx);
    const list = (key: string): string[] =>
      Array.isArray(body[key]) ? (body[key] as unknown[]).map(String) : [];
    ctx.ops.requestReviewers(
      repo,
      pull,
      list('reviewers'),
      list('team_reviewers'),
      actorAccount(ctx),
    );
    return json(201, pullJson(ctx.urls, repo, ctx.state, pull, false));
  });

  router.add('DELETE', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', (ctx) => {
    const repo = repoOf(ctx);
    const pull = pullOf(ctx, repo);
    const body = bodyObject(ctx);
    const logins = new Set(
      (Array.isArray(body['reviewers']) ? body['reviewers'] : []).map((l) =>
        String(l).toLowerCase(),
      ),
    );
    const slugs = new Set(
      (Array.isArray(body['team_reviewers']) ? body['team_reviewers'] : []).map((s) =>
        String(s).toLowerCase(),
      ),
    );
    pull.requestedReviewers = pull.requestedReviewers.filter(
      (r) => !logins.has(r.login.toLowerCase()),
    );
    pull.requestedTeams = pull.requestedTeams.filter((t) => !slugs.has(t.slug.toLowerCase()));
    return json(200, pullJson(ctx.urls, repo, ctx.state, pull, false));
  });
}

function reviewOf(ctx: RouteContext, pull: PullRecord): ReviewRecord {
  const review = pull.reviews.find((r) => r.id === Number(ctx.params['review_id']));
  if (review === undefined) throw notFound();
  return review;
}
