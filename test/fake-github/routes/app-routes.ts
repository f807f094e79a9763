import { randomBytes } from 'node:crypto';
import { FakeHttpError, notFound } from '../http-error.js';
import { APP_PERMISSIONS, appJson, installationJson, repoJson } from '../representations.js';
import { json, paginate } from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** Installation tokens live one hour. See https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app */
const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

/** GitHub App endpoints: the app (JWT) finds its installations and mints installation tokens. */
export function registerAppRoutes(router: Router): void {
  router.add('GET', '/app', (ctx) => json(200, appJson(ctx.urls, ctx.state, undefined)), 'jwt');

  router.add(
    'GET',
    '/app/installations',
    (ctx) =>
      paginate(
        ctx,
        [...ctx.state.installations.values()].map((i) => installationJson(ctx.urls, ctx.state, i)),
      ),
    'jwt',
  );

  router.add(
    'GET',
    '/app/installations/{installation_id}',
    (ctx) => json(200, installationJson(ctx.urls, ctx.state, installationOf(ctx))),
    'jwt',
  );

  router.add(
    'POST',
    '/app/installations/{installation_id}/access_tokens',
    (ctx) => {
      const installation = installationOf(ctx);
      // Real installation tokens start with `ghs_`. See https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
      const token = `ghs_${randomBytes(18).toString('hex')}`;
      const expiresAt = new Date(Date.now() + TOKEN_LIFETIME_MS);
      ctx.state.credentials.set(token, {
        kind: 'installation',
        installationId: installation.id,
        expiresAt,
      });
      return json(201, {
        token,
        expires_at: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: APP_PERMISSIONS,
        repository_selection: 'all',
      });
    },
    'jwt',
  );

  const installationForAccount = (ctx: RouteContext, login: string) => {
    const account = ctx.state.findAccount(login);
    const installation = account === undefined ? undefined : ctx.state.installationFor(account);
    if (installation === undefined) throw notFound();
    return json(200, installationJson(ctx.urls, ctx.state, installation));
  };
  router.add(
    'GET',
    '/repos/{owner}/{repo}/installation',
    (ctx) => {
      const repo = ctx.state.repo(ctx.params['owner']!, ctx.params['repo']!);
      return installationForAccount(ctx, repo.owner.login);
    },
    'jwt',
  );
  router.add(
    'GET',
    '/orgs/{org}/installation',
    (ctx) => installationForAccount(ctx, ctx.params['org']!),
    'jwt',
  );
  router.add(
    'GET',
    '/users/{username}/installation',
    (ctx) => installationForAccount(ctx, ctx.params['username']!),
    'jwt',
  );

  router.add('GET', '/installation/repositories', (ctx) => {
    if (ctx.actor.kind !== 'installation') {
      throw new FakeHttpError(
        403,
        'You must authenticate with an installation access token in order to list repositories for an installation.',
      );
    }
    const accountId = ctx.actor.installation.account.id;
    const repos = [...ctx.state.repos.values()].filter((repo) => repo.owner.id === accountId);
    return paginate(
      ctx,
      repos.map((repo) => repoJson(ctx.urls, repo)),
      (page, total) => ({ total_count: total, repository_selection: 'all', repositories: page }),
    );
  });

  router.add(
    'GET',
    '/rate_limit',
    (ctx) => {
      const core = ctx.rateLimit;
      return json(200, { resources: { core }, rate: core });
    },
    'none',
  );
}

function installationOf(ctx: RouteContext) {
  const installation = ctx.state.installations.get(Number(ctx.params['installation_id']));
  if (installation === undefined) throw notFound();
  return installation;
}
