import type { Team } from '../fake-state.js';
import { FakeHttpError, notFound } from '../http-error.js';
import { orgJson, profileJson, teamJson, userJson } from '../representations.js';
import { json, noContent, paginate } from '../route-helpers.js';
import type { RouteContext, Router } from '../router.js';

/** Users, organizations, teams and memberships. */
export function registerOrgRoutes(router: Router): void {
  router.add('GET', '/user', (ctx) => {
    // "Resource not accessible by integration": an installation token has no user behind it.
    if (ctx.actor.kind === 'installation')
      throw new FakeHttpError(403, 'Resource not accessible by integration');
    if (ctx.actor.kind !== 'user') throw new FakeHttpError(401, 'Requires authentication');
    return json(200, profileJson(ctx.urls, ctx.actor.account));
  });

  router.add('GET', '/users/{username}', (ctx) => {
    const account = ctx.state.account(ctx.params['username']!);
    return json(200, profileJson(ctx.urls, account));
  });

  router.add('GET', '/orgs/{org}', (ctx) => {
    const org = ctx.state.account(ctx.params['org']!);
    if (org.type !== 'Organization') throw notFound();
    return json(200, {
      ...orgJson(ctx.urls, org),
      name: org.name,
      type: 'Organization',
      html_url: `${ctx.urls.web}/${org.login}`,
    });
  });

  router.add('GET', '/orgs/{org}/members/{username}', (ctx) =>
    ctx.state.isOrgMember(ctx.params['org']!, ctx.params['username']!)
      ? noContent()
      : { status: 404 },
  );

  router.add('GET', '/orgs/{org}/teams', (ctx) => {
    const org = ctx.state.account(ctx.params['org']!);
    const teams = [...ctx.state.teams.values()].filter((team) => team.org.id === org.id);
    return paginate(
      ctx,
      teams.map((team) => teamJson(ctx.urls, team)),
    );
  });

  router.add('GET', '/orgs/{org}/teams/{team_slug}', (ctx) => {
    const team = teamOf(ctx);
    return json(200, {
      ...teamJson(ctx.urls, team),
      members_count: [...team.members.values()].filter((m) => m.state === 'active').length,
      repos_count: 0,
      organization: orgJson(ctx.urls, team.org),
    });
  });

  // Only active members are listed; pending invitations are not members yet.
  router.add('GET', '/orgs/{org}/teams/{team_slug}/members', (ctx) => {
    const team = teamOf(ctx);
    const role = ctx.query.get('role') ?? 'all';
    const members = [...team.members.entries()]
      .filter(([, m]) => m.state === 'active' && (role === 'all' || m.role === role))
      .map(([login]) => userJson(ctx.urls, ctx.state.account(login)));
    return paginate(ctx, members);
  });

  // https://docs.github.com/en/rest/teams/members#get-team-membership-for-a-user
  router.add('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}', (ctx) => {
    const team = teamOf(ctx);
    const membership = team.members.get(ctx.params['username']!.toLowerCase());
    if (membership === undefined) throw notFound();
    return json(200, {
      url: `${ctx.urls.api}/organizations/${team.org.id}/team/${team.id}/memberships/${ctx.params['username']}`,
      role: membership.role,
      state: membership.state,
    });
  });
}

function teamOf(ctx: RouteContext): Team {
  const team = ctx.state.team(ctx.params['org']!, ctx.params['team_slug']!);
  if (team === undefined) throw notFound();
  return team;
}
