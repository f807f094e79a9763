import type { CommentRecord, IssueRecord, LabelRecord, RepoRecord } from '../fake-state.js';
import { notFound, validationFailed } from '../http-error.js';
import { commentJson, issueJson, labelJson } from '../representations.js';
import {
  actorAccount,
  bodyObject,
  issueOf,
  json,
  noContent,
  optionalString,
  paginate,
  repoOf,
  requiredString,
} from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** Issues (pull requests are issues too), issue comments and labels. */
export function registerIssueRoutes(router: Router): void {
  router.add('POST', '/repos/{owner}/{repo}/issues', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const issue = ctx.ops.createIssue(
      repo,
      requiredString(body, 'title', 'Issue'),
      optionalString(body, 'body') ?? null,
      actorAccount(ctx),
    );
    return json(201, issueJson(ctx.urls, repo, ctx.state, issue));
  });

  router.add('GET', '/repos/{owner}/{repo}/issues/{issue_number}', (ctx) => {
    const repo = repoOf(ctx);
    return json(200, issueJson(ctx.urls, repo, ctx.state, issueOf(ctx, repo)));
  });

  // --- comments: https://docs.github.com/en/rest/issues/comments
  router.add('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    const comments = [...repo.comments.values()].filter((c) => c.issueNumber === issue.number);
    return paginate(
      ctx,
      comments.map((c) => commentJson(ctx.urls, repo, ctx.state, c)),
    );
  });
  router.add('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    const text = requiredString(bodyObject(ctx), 'body', 'IssueComment');
    checkCommentLength(text);
    const comment = ctx.ops.addComment(repo, issue, text, actorAccount(ctx));
    return json(201, commentJson(ctx.urls, repo, ctx.state, comment));
  });
  router.add('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (ctx) => {
    const repo = repoOf(ctx);
    return json(200, commentJson(ctx.urls, repo, ctx.state, commentOf(ctx, repo)));
  });
  router.add('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (ctx) => {
    const repo = repoOf(ctx);
    const comment = commentOf(ctx, repo);
    const text = requiredString(bodyObject(ctx), 'body', 'IssueComment');
    checkCommentLength(text);
    ctx.ops.editComment(repo, comment, text, actorAccount(ctx));
    return json(200, commentJson(ctx.urls, repo, ctx.state, comment));
  });
  router.add('DELETE', '/repos/{owner}/{repo}/issues/comments/{comment_id}', (ctx) => {
    const repo = repoOf(ctx);
    ctx.ops.deleteComment(repo, commentOf(ctx, repo), actorAccount(ctx));
    return noContent();
  });

  // --- labels on an issue: https://docs.github.com/en/rest/issues/labels
  const issueLabels = (ctx: RouteContext, repo: RepoRecord, issue: IssueRecord, status = 200) =>
    json(
      status,
      issue.labels.flatMap((name) => {
        const label = repo.labels.get(name.toLowerCase());
        return label === undefined ? [] : [labelJson(ctx.urls, repo, label)];
      }),
    );
  router.add('GET', '/repos/{owner}/{repo}/issues/{issue_number}/labels', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    return paginate(
      ctx,
      issue.labels.flatMap((name) => {
        const label = repo.labels.get(name.toLowerCase());
        return label === undefined ? [] : [labelJson(ctx.urls, repo, label)];
      }),
    );
  });
  router.add('POST', '/repos/{owner}/{repo}/issues/{issue_number}/labels', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    ctx.ops.addLabels(repo, issue, labelNames(ctx), actorAccount(ctx));
    return issueLabels(ctx, repo, issue);
  });
  router.add('PUT', '/repos/{owner}/{repo}/issues/{issue_number}/labels', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    ctx.ops.setLabels(repo, issue, labelNames(ctx), actorAccount(ctx));
    return issueLabels(ctx, repo, issue);
  });
  router.add('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    ctx.ops.setLabels(repo, issue, [], actorAccount(ctx));
    return noContent();
  });
  router.add('DELETE', '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', (ctx) => {
    const repo = repoOf(ctx);
    const issue = issueOf(ctx, repo);
    ctx.ops.removeLabel(repo, issue, ctx.params['name']!, actorAccount(ctx));
    return issueLabels(ctx, repo, issue);
  });

  // --- repository labels
  router.add('GET', '/repos/{owner}/{repo}/labels', (ctx) => {
    const repo = repoOf(ctx);
    return paginate(
      ctx,
      [...repo.labels.values()].map((l) => labelJson(ctx.urls, repo, l)),
    );
  });
  router.add('POST', '/repos/{owner}/{repo}/labels', (ctx) => {
    const repo = repoOf(ctx);
    const body = bodyObject(ctx);
    const name = requiredString(body, 'name', 'Label');
    const color = (optionalString(body, 'color') ?? 'ededed').replace(/^#/, '');
    if (!/^[0-9a-fA-F]{6}$/.test(color))
      throw validationFailed([{ resource: 'Label', code: 'invalid', field: 'color' }]);
    const label = ctx.ops.createLabel(
      repo,
      name,
      color,
      optionalString(body, 'description') ?? null,
      actorAccount(ctx),
    );
    return json(201, labelJson(ctx.urls, repo, label));
  });
  router.add('GET', '/repos/{owner}/{repo}/labels/{name}', (ctx) => {
    const repo = repoOf(ctx);
    return json(200, labelJson(ctx.urls, repo, labelOf(ctx, repo)));
  });
  router.add('PATCH', '/repos/{owner}/{repo}/labels/{name}', (ctx) => {
    const repo = repoOf(ctx);
    const label = labelOf(ctx, repo);
    const body = bodyObject(ctx);
    const newName = optionalString(body, 'new_name');
    if (newName !== undefined && newName.toLowerCase() !== label.name.toLowerCase()) {
      if (repo.labels.has(newName.toLowerCase()))
        throw validationFailed([{ resource: 'Label', code: 'already_exists', field: 'name' }]);
      for (const issue of repo.issues.values()) {
        issue.labels = issue.labels.map((l) =>
          l.toLowerCase() === label.name.toLowerCase() ? newName : l,
        );
      }
      repo.labels.delete(label.name.toLowerCase());
      repo.labels.set(newName.toLowerCase(), label);
      label.name = newName;
    }
    const color = optionalString(body, 'color');
    if (color !== undefined) label.color = color.replace(/^#/, '');
    const description = optionalString(body, 'description');
    if (description !== undefined) label.description = description;
    return json(200, labelJson(ctx.urls, repo, label));
  });
  router.add('DELETE', '/repos/{owner}/{repo}/labels/{name}', (ctx) => {
    const repo = repoOf(ctx);
    const label = labelOf(ctx, repo);
    repo.labels.delete(label.name.toLowerCase());
    for (const issue of repo.issues.values()) {
      issue.labels = issue.labels.filter((l) => l.toLowerCase() !== label.name.toLowerCase());
    }
    return noContent();
  });
}

/** Accepts `{ labels: [...] }`, a bare array, and `[{ name }]`, as GitHub does. */
function labelNames(ctx: RouteContext): string[] {
  const raw = Array.isArray(ctx.body) ? ctx.body : bodyObject(ctx)['labels'];
  if (!Array.isArray(raw))
    throw validationFailed([{ resource: 'Label', code: 'missing_field', field: 'labels' }]);
  return raw.map((item: unknown) =>
    typeof item === 'object' && item !== null
      ? String((item as Record<string, unknown>)['name'])
      : String(item),
  );
}

/** GitHub refuses comment bodies over 65,536 characters ("Body is too long"). */
function checkCommentLength(text: string): void {
  if (text.length > 65_536) {
    throw validationFailed([
      {
        resource: 'IssueComment',
        code: 'custom',
        field: 'body',
        message: 'Body is too long (maximum is 65536 characters)',
      },
    ]);
  }
}

function commentOf(ctx: RouteContext, repo: RepoRecord): CommentRecord {
  const comment = repo.comments.get(Number(ctx.params['comment_id']));
  if (comment === undefined) throw notFound();
  return comment;
}

function labelOf(ctx: RouteContext, repo: RepoRecord): LabelRecord {
  const label = repo.labels.get(ctx.params['name']!.toLowerCase());
  if (label === undefined) throw notFound();
  return label;
}
