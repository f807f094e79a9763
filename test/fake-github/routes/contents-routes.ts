import type { Account, RepoRecord } from '../fake-state.js';
import { normalisePath } from '../git-objects.js';
import { FakeHttpError, notFound } from '../http-error.js';
import { branchSha } from '../pull-diff.js';
import { contentJson, gitCommitJson } from '../representations.js';
import { actorAccount, bodyObject, json, requiredString, repoOf } from '../route-helpers.js';
import type { RouteContext, RouteResult, Router } from '../router.js';

/** The contents API. See https://docs.github.com/en/rest/repos/contents */
export function registerContentsRoutes(router: Router): void {
  router.add('GET', '/repos/{owner}/{repo}/contents', (ctx) => getContents(ctx, ''));
  router.add('GET', '/repos/{owner}/{repo}/contents/{+path}', (ctx) =>
    getContents(ctx, ctx.params['path']!),
  );
  router.add('PUT', '/repos/{owner}/{repo}/contents/{+path}', putContents);
  router.add('DELETE', '/repos/{owner}/{repo}/contents/{+path}', deleteContents);
}

function getContents(ctx: RouteContext, rawPath: string): RouteResult {
  const repo = repoOf(ctx);
  const path = normalisePath(rawPath);
  const ref = ctx.query.get('ref') ?? repo.defaultBranch;
  const sha = ctx.ops.resolveCommit(repo, ref);
  if (sha === null) throw new FakeHttpError(404, `No commit found for the ref ${ref}`);
  const tree = repo.git.commit(sha)!.tree;
  const entry = repo.git.lookup(tree, path);
  if (entry === undefined) throw notFound();
  if (entry.type === 'tree') {
    const listing = repo.git
      .tree(entry.sha)!
      .entries.map((child) =>
        contentJson(
          ctx.urls,
          repo,
          ref,
          path === '' ? child.name : `${path}/${child.name}`,
          child,
          false,
        ),
      );
    return json(200, listing);
  }
  // `mediaType: { format: 'raw' }` in Octokit sends `Accept: application/vnd.github.v3.raw`.
  if (/application\/vnd\.github(\.v3)?\.raw/.test(String(ctx.headers.accept ?? ''))) {
    return {
      status: 200,
      raw: repo.git.blob(entry.sha)!.content,
      headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' },
    };
  }
  return json(200, contentJson(ctx.urls, repo, ref, path, entry, true));
}

function person(ctx: RouteContext, value: unknown, fallback: Account): Account {
  if (typeof value !== 'object' || value === null) return fallback;
  const email = (value as Record<string, unknown>)['email'];
  return (typeof email === 'string' ? ctx.state.accountByEmail(email) : undefined) ?? fallback;
}

function targetBranch(repo: RepoRecord, body: Record<string, unknown>): string {
  const branch = typeof body['branch'] === 'string' ? body['branch'] : repo.defaultBranch;
  if (branchSha(repo, branch) === undefined)
    throw new FakeHttpError(404, `Branch ${branch} not found`);
  return branch;
}

function putContents(ctx: RouteContext): RouteResult {
  const repo = repoOf(ctx);
  const path = normalisePath(ctx.params['path']!);
  const body = bodyObject(ctx);
  const message = requiredString(body, 'message', 'Commit');
  const content = requiredString(body, 'content', 'Commit');
  const branch = targetBranch(repo, body);
  const head = branchSha(repo, branch)!;
  const existing = repo.git.lookup(repo.git.commit(head)!.tree, path);
  if (existing?.type === 'tree') throw new FakeHttpError(422, `path cannot be a directory`);
  if (existing !== undefined) {
    if (typeof body['sha'] !== 'string') {
      throw new FakeHttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
    }
    if (body['sha'] !== existing.sha)
      throw new FakeHttpError(409, `${path} does not match ${body['sha']}`);
  }
  const actor = actorAccount(ctx);
  const author = person(ctx, body['author'], actor);
  const { sha } = ctx.ops.commitFiles(repo, {
    branch,
    files: { [path]: Buffer.from(content, 'base64') },
    message,
    author,
    committer: person(ctx, body['committer'], actor),
  });
  ctx.ops.moveRef(repo, `refs/heads/${branch}`, sha, actor);
  const entry = repo.git.lookup(repo.git.commit(sha)!.tree, path)!;
  const file = contentJson(ctx.urls, repo, branch, path, entry, false);
  return json(existing === undefined ? 201 : 200, {
    content: file,
    commit: gitCommitJson(ctx.urls, repo, sha),
  });
}

function deleteContents(ctx: RouteContext): RouteResult {
  const repo = repoOf(ctx);
  const path = normalisePath(ctx.params['path']!);
  const body = bodyObject(ctx);
  const message = requiredString(body, 'message', 'Commit');
  const expected = requiredString(body, 'sha', 'Commit');
  const branch = targetBranch(repo, body);
  const head = branchSha(repo, branch)!;
  const existing = repo.git.lookup(repo.git.commit(head)!.tree, path);
  if (existing === undefined || existing.type === 'tree') throw notFound();
  if (existing.sha !== expected) throw new FakeHttpError(409, `${path} does not match ${expected}`);
  const actor = actorAccount(ctx);
  const { sha } = ctx.ops.commitFiles(repo, {
    branch,
    files: { [path]: null },
    message,
    author: person(ctx, body['author'], actor),
    committer: person(ctx, body['committer'], actor),
  });
  ctx.ops.moveRef(repo, `refs/heads/${branch}`, sha, actor);
  return json(200, { content: null, commit: gitCommitJson(ctx.urls, repo, sha) });
}
