import type { Account, IssueRecord, PullRecord, RepoRecord } from './fake-state.js';
import { FakeHttpError, notFound, validationFailed } from './http-error.js';
import type { RouteContext, RouteResult } from './router.js';

/**
 * The repository named in the path, if the caller may see it. An installation token only
 * reaches repositories of the account the app is installed on; anything else is 404, which
 * is what GitHub answers for repositories you cannot see.
 */
export function repoOf(ctx: RouteContext): RepoRecord {
  const repo = ctx.state.repo(ctx.params['owner']!, ctx.params['repo']!);
  if (ctx.actor.kind === 'installation' && ctx.actor.installation.account.id !== repo.owner.id) {
    throw notFound();
  }
  return repo;
}

/** The account acting: the app's bot user for installation tokens. */
export function actorAccount(ctx: RouteContext): Account {
  if (ctx.actor.kind === 'user' || ctx.actor.kind === 'installation') return ctx.actor.account;
  throw new FakeHttpError(401, 'Requires authentication');
}

export function pullOf(ctx: RouteContext, repo: RepoRecord): PullRecord {
  const pull = repo.pulls.get(Number(ctx.params['pull_number']));
  if (pull === undefined) throw notFound();
  return pull;
}

export function issueOf(ctx: RouteContext, repo: RepoRecord): IssueRecord {
  const issue = repo.issues.get(Number(ctx.params['issue_number']));
  if (issue === undefined) throw notFound();
  return issue;
}

export function bodyObject(ctx: RouteContext): Record<string, unknown> {
  const body = ctx.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new FakeHttpError(400, 'Problems parsing JSON');
  }
  return body as Record<string, unknown>;
}

export function requiredString(
  body: Record<string, unknown>,
  field: string,
  resource: string,
): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw validationFailed([{ resource, code: 'missing_field', field }]);
  }
  return value;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' ? value : undefined;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): RouteResult {
  return headers === undefined ? { status, body } : { status, body, headers };
}

export function noContent(): RouteResult {
  return { status: 204 };
}

/**
 * Slices a list by `per_page` (default 30, at most 100) and `page`, and sets the `Link`
 * header with next/last/first/prev the way GitHub does, so Octokit's paginate() follows it.
 * `wrap` builds object responses such as `{ total_count, check_runs }`.
 * See https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
 */
export function paginate<T>(
  ctx: RouteContext,
  items: readonly T[],
  wrap?: (page: T[], total: number) => unknown,
): RouteResult {
  const perPage = Math.min(Math.max(Number(ctx.query.get('per_page') ?? 30) || 30, 1), 100);
  const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (n: number): string => {
    const url = new URL(ctx.requestUrl);
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('page', String(n));
    return url.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
  if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  if (page > 1) links.push(`<${link(1)}>; rel="first"`);
  const body = wrap === undefined ? slice : wrap(slice, items.length);
  return links.length === 0
    ? { status: 200, body }
    : { status: 200, body, headers: { link: links.join(', ') } };
}
