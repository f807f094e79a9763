import { GatehouseError } from '../../errors/catalogue.js';
import type { Clock } from '../../util/clock.js';

/** How long a login's auditor status is cached: a removed team member loses access within
 * this time (the same bound as the identity cache, docs/configuration.md). */
export const AUDITOR_CACHE_MS = 5 * 60_000;

/**
 * Who may read the audit log over HTTP: the users and teams listed under `auditors:` in the
 * risk policy (policies/). Team membership is asked of GitHub through `isTeamMember` (active
 * membership, https://docs.github.com/en/rest/teams/members#get-team-membership-for-a-user),
 * which throws when GitHub cannot answer: "cannot tell" is never "yes" (the check throws
 * GatehouseError AUTH_PROVIDER_UNAVAILABLE, so the route answers 503), and is not cached.
 *
 * Logins compare case-insensitively (GitHub logins are), a leading `@` is ignored, and teams
 * are `org/slug`. The answer per login is cached for five minutes.
 */
export function createAuditorCheck(
  auditors: { readonly users: readonly string[]; readonly teams: readonly string[] },
  isTeamMember: (org: string, slug: string, login: string) => Promise<boolean>,
  clock: Clock = () => new Date(),
): (login: string) => Promise<boolean> {
  const users = new Set(auditors.users.map((u) => normalise(u).toLowerCase()));
  const teams = auditors.teams
    .map((t) => normalise(t))
    .map((t) => {
      const slash = t.indexOf('/');
      return slash <= 0 || slash === t.length - 1
        ? null
        : { org: t.slice(0, slash), slug: t.slice(slash + 1) };
    })
    .filter((t): t is { org: string; slug: string } => t !== null);
  const cache = new Map<string, { readonly value: boolean; readonly until: number }>();

  return async function isAuditor(login: string): Promise<boolean> {
    const key = login.toLowerCase();
    if (users.has(key)) return true;
    if (teams.length === 0) return false;
    const now = clock().getTime();
    const cached = cache.get(key);
    if (cached !== undefined && cached.until > now) return cached.value;
    let value = false;
    for (const team of teams) {
      let member: boolean;
      try {
        member = await isTeamMember(team.org, team.slug, login);
      } catch (error) {
        if (error instanceof GatehouseError) throw error;
        throw new GatehouseError(
          'AUTH_PROVIDER_UNAVAILABLE',
          `cannot tell whether ${login} is in ${team.org}/${team.slug}`,
          { cause: error },
        );
      }
      if (member) {
        value = true;
        break;
      }
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { value, until: now + AUDITOR_CACHE_MS });
    return value;
  };
}

function normalise(name: string): string {
  const trimmed = name.trim();
  return trimmed.startsWith('@') ? trimmed.slice(1) : trimmed;
}
