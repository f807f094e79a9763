import type { CheckRunRecord, RepoRecord } from '../fake-state.js';
import { FakeHttpError, notFound } from '../http-error.js';
import { checkRunJson } from '../representations.js';
import { actorAccount, bodyObject, json, paginate, repoOf } from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** Check runs. Only a GitHub App may write them. See https://docs.github.com/en/rest/checks/runs */
export function registerCheckRoutes(router: Router): void {
  router.add('POST', '/repos/{owner}/{repo}/check-runs', (ctx) => {
    requireApp(ctx);
    const repo = repoOf(ctx);
    const run = ctx.ops.createCheckRun(repo, bodyObject(ctx));
    return json(201, checkRunJson(ctx.urls, repo, ctx.state, run));
  });

  router.add('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}', (ctx) => {
    const repo = repoOf(ctx);
    return json(200, checkRunJson(ctx.urls, repo, ctx.state, runOf(ctx, repo)));
  });

  router.add('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', (ctx) => {
    requireApp(ctx);
    const repo = repoOf(ctx);
    const run = runOf(ctx, repo);
    ctx.ops.updateCheckRun(repo, run, bodyObject(ctx));
    return json(200, checkRunJson(ctx.urls, repo, ctx.state, run));
  });

  router.add('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations', (ctx) => {
    const repo = repoOf(ctx);
    const run = runOf(ctx, repo);
    return paginate(
      ctx,
      run.annotations.map((a) => ({
        path: a.path,
        start_line: a.start_line,
        end_line: a.end_line,
        start_column: a.start_column ?? null,
        end_column: a.end_column ?? null,
        annotation_level: a.annotation_level,
        title: a.title ?? null,
        message: a.message,
        raw_details: a.raw_details ?? null,
        blob_href: `${ctx.urls.web}/${repo.fullName}/blob/${run.headSha}/${a.path}`,
      })),
    );
  });

  router.add('POST', '/repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest', (ctx) => {
    requireApp(ctx);
    const repo = repoOf(ctx);
    ctx.ops.rerequestCheckRun(repo, runOf(ctx, repo), actorAccount(ctx));
    return json(201, {});
  });

  // https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
  router.add('GET', '/repos/{owner}/{repo}/commits/{+ref}/check-runs', (ctx) => {
    const repo = repoOf(ctx);
    const sha = ctx.ops.resolveCommit(repo, ctx.params['ref']!);
    if (sha === null) throw new FakeHttpError(422, `No commit found for SHA: ${ctx.params['ref']}`);
    const name = ctx.query.get('check_name');
    const status = ctx.query.get('status');
    let runs = [...repo.checkRuns.values()].filter((run) => run.headSha === sha);
    if (name !== null) runs = runs.filter((run) => run.name === name);
    if (status !== null) runs = runs.filter((run) => run.status === status);
    if ((ctx.query.get('filter') ?? 'latest') === 'latest') {
      // "latest" keeps the most recent run of each name.
      const newest = new Map<string, CheckRunRecord>();
      for (const run of runs) newest.set(run.name, run);
      runs = [...newest.values()];
    }
    runs.sort((a, b) => b.id - a.id);
    return paginate(
      ctx,
      runs.map((run) => checkRunJson(ctx.urls, repo, ctx.state, run)),
      (page, total) => ({ total_count: total, check_runs: page }),
    );
  });
}

function requireApp(ctx: RouteContext): void {
  if (ctx.actor.kind !== 'installation') {
    throw new FakeHttpError(403, 'You must authenticate via a GitHub App.');
  }
}

function runOf(ctx: RouteContext, repo: RepoRecord): CheckRunRecord {
  const run = repo.checkRuns.get(Number(ctx.params['check_run_id']));
  if (run === undefined) throw notFound();
  return run;
}
