import type { AccessRequest } from '../requests/access-request.js';
import { ownersOf, type Codeowners } from './codeowners.js';
import type { DatabaseConfig, Databases } from './databases.js';
import { compileTableGlob } from './glob.js';
import type { RiskDecision, RiskError, ResolvedRequirement } from './risk-decision.js';
import type { ApprovalRequirement, RiskLevel, RiskPolicy, RiskRule } from './risk-policy.js';

/**
 * The pure policy engine (issue 2, "Policy engine"): request + databases + risk policy +
 * CODEOWNERS → who must approve, for how long at most, or why not. No I/O, no clock.
 */
export interface RiskInput {
  readonly request: AccessRequest;
  readonly databases: Databases;
  readonly policy: RiskPolicy;
  readonly codeowners: Codeowners;
  readonly now: Date;
  /** Teams of the requester as `org/slug` (any case, `@` optional), ACTIVE memberships only.
   * Absent = not looked up: a rule whose outcome hinges on it yields POLICY_TEAMS_UNKNOWN. */
  readonly requesterTeams?: ReadonlySet<string>;
}

export interface MetaChangeInput {
  /** Changed paths under `policies/` or CODEOWNERS files. */
  readonly paths: readonly string[];
  readonly policy: RiskPolicy;
  readonly codeowners: Codeowners;
}

/** The rule name reported for policy changes, which the meta level classifies. */
export const META_RULE = 'meta';

/**
 * Rules are tried in order and the first whose every condition holds gives the level. Expected
 * outcomes are values; the engine never returns `approve` for a request it cannot vouch for:
 * an unknown database, a lifetime out of bounds, a level nobody can satisfy, or no rule at
 * all are errors (anchors.md §3: "If every rule is skipped, the result is an error, never
 * success").
 */
export function evaluateRisk(input: RiskInput): RiskDecision {
  const { request, policy, now } = input;
  const db = input.databases.get(request.database);
  if (db === undefined) {
    return error(
      'REQ_UNKNOWN_DATABASE',
      `Database ${request.database} is not declared in policies/databases.yaml.`,
    );
  }

  const lifetime = request.lifetime;
  const requestedMs =
    lifetime.kind === 'duration' ? lifetime.ms : lifetime.at.getTime() - now.getTime();
  if (!Number.isFinite(requestedMs) || requestedMs <= 0) {
    return lifetime.kind === 'duration'
      ? error('REQ_DURATION_ZERO', `The duration ${lifetime.text} is not longer than zero.`)
      : error('REQ_EXPIRES_PAST', `expires ${lifetime.text} is not in the future.`);
  }

  const teams = input.requesterTeams && new Set([...input.requesterTeams].map(normalizeTeam));
  for (const rule of policy.rules) {
    const outcome = ruleMatches(rule, { request, db, requestedMs, teams });
    if (outcome === 'no') continue;
    if (outcome === 'teams-unknown') {
      const teamList = (rule.match.requesters?.teams ?? []).join(', ');
      const message =
        `Rule ${rule.name} applies to members of ${teamList}, and the teams of ` +
        `${request.requester} were not looked up; the level cannot be decided without them.`;
      return error('POLICY_TEAMS_UNKNOWN', message, { rule: rule.name });
    }
    const level = policy.levels.get(rule.level);
    if (level === undefined) {
      const message = `Rule ${rule.name} names level ${rule.level}, which is not defined.`;
      return error('POLICY_INVALID', message, { rule: rule.name });
    }
    return decide(level, rule.name, ownersOf(input.codeowners, request.path), requestedMs);
  }

  return error(
    'POLICY_NO_RULE',
    `No rule of the risk policy applies to ${request.tables.join(', ')} on ${db.id} ` +
      `(environment ${db.environment}); the policy owners must add one.`,
  );
}

/**
 * A pull request that changes `policies/` or CODEOWNERS is classified by `policy.meta.level`,
 * never by the request rules (Common Fate #655, AWS TEAM #81: rule changes must be reviewed).
 * With several paths, the CODEOWNERS who qualify are those who own EVERY path: one approval
 * must cover all the rules it changes; if no one does, the level cannot be met (split the PR).
 */
export function evaluateMetaChange(input: MetaChangeInput): RiskDecision {
  const { policy } = input;
  const level = policy.levels.get(policy.meta.level);
  if (level === undefined) {
    return error(
      'POLICY_INVALID',
      `The meta rule names level ${policy.meta.level}, which is not defined.`,
      { rule: META_RULE },
    );
  }
  const owners = commonOwners(input.paths.map((path) => ownersOf(input.codeowners, path)));
  return decide(level, META_RULE, owners, 0);
}

interface RuleContext {
  readonly request: AccessRequest;
  readonly db: DatabaseConfig;
  readonly requestedMs: number;
  readonly teams: ReadonlySet<string> | undefined;
}

/** Conditions are ANDed; an absent condition matches anything, an empty list nothing. The
 * requester condition is checked last so that an unknown team only matters when it decides. */
function ruleMatches(rule: RiskRule, ctx: RuleContext): 'yes' | 'no' | 'teams-unknown' {
  const m = rule.match;
  if (m.environments !== undefined && !m.environments.includes(ctx.db.environment)) return 'no';
  if (m.databases !== undefined && !m.databases.includes(ctx.db.id)) return 'no';
  if (m.tables !== undefined && !tablesMatch(m.tables, ctx.request.tables, ctx.db)) return 'no';
  if (m.durationOverMs !== undefined && !(ctx.requestedMs > m.durationOverMs)) return 'no';
  if (m.requesters !== undefined) {
    const login = ctx.request.requester.toLowerCase();
    // GitHub logins and team slugs are case-insensitive.
    if (m.requesters.users.some((user) => normalizeUser(user) === login)) return 'yes';
    if (m.requesters.teams.length === 0) return 'no';
    if (ctx.teams === undefined) return 'teams-unknown';
    const teams = ctx.teams;
    return m.requesters.teams.some((team) => teams.has(normalizeTeam(team))) ? 'yes' : 'no';
  }
  return 'yes';
}

/**
 * The rule applies when ANY requested table matches ANY glob: a request cannot dodge a
 * sensitive-table rule by bundling the table with harmless ones. `*` (the whole database)
 * matches every glob. Each table is also tried bare and fully qualified (`salary`,
 * `hr.salary`, `public.salary`), so a rule written either way catches it (fail towards the
 * stricter rule, like the case-insensitive globs). A wildcard in a requested name is treated
 * like `*`.
 */
function tablesMatch(globs: readonly string[], tables: readonly string[], db: DatabaseConfig) {
  if (globs.length === 0) return false;
  if (tables.some((table) => table.includes('*'))) return true;
  const predicates = globs.map(compileTableGlob);
  return tables.some((table) => {
    const names = tableNames(table, db);
    return predicates.some((matches) => names.some(matches));
  });
}

function tableNames(table: string, db: DatabaseConfig): string[] {
  const dot = table.lastIndexOf('.');
  if (dot >= 0) return [table, table.slice(dot + 1)];
  // PostgreSQL resolves an unqualified name in the default schema; MySQL in the database.
  const qualifier = db.engine === 'postgres' ? (db.defaultSchema ?? 'public') : db.name;
  return [table, `${qualifier}.${table}`];
}

function decide(
  level: RiskLevel,
  rule: string,
  owners: readonly string[],
  requestedMs: number,
): RiskDecision {
  if (level.kind === 'deny') {
    return { kind: 'deny', level: level.name, rule, message: level.message };
  }
  if (requestedMs > level.maxDurationMs) {
    return error(
      'REQ_DURATION_TOO_LONG',
      `The request lasts ${formatMs(requestedMs)}, longer than the ${level.maxDurationText} ` +
        `allowed at level ${level.name} (rule ${rule}).`,
      { level: level.name, rule, maxDurationMs: level.maxDurationMs, requestedMs },
    );
  }
  const approvals = level.approvals.map((req) => resolve(req, owners));
  const unsatisfiable = approvals.find(
    (req) =>
      req.count > 0 && req.codeowners.length + req.from.teams.length + req.from.users.length === 0,
  );
  if (unsatisfiable !== undefined) {
    return error(
      'PR_NO_APPROVERS',
      `Level ${level.name} (rule ${rule}) needs approval from the code owners, and CODEOWNERS ` +
        `gives the file no owner; nobody could approve.`,
      { level: level.name, rule },
    );
  }
  return {
    kind: 'approve',
    level: level.name,
    rule,
    approvals,
    maxDurationMs: level.maxDurationMs,
    requestedMs,
  };
}

function resolve(req: ApprovalRequirement, owners: readonly string[]): ResolvedRequirement {
  return { count: req.count, from: req.from, codeowners: req.from.codeowners ? owners : [] };
}

/** Owners present for every path (case-insensitively, spelled as for the first path). */
function commonOwners(lists: readonly (readonly string[])[]): readonly string[] {
  const [first, ...rest] = lists;
  if (first === undefined) return [];
  return first.filter((owner) =>
    rest.every((list) => list.some((other) => other.toLowerCase() === owner.toLowerCase())),
  );
}

function normalizeTeam(team: string): string {
  return team.replace(/^@/u, '').toLowerCase();
}

function normalizeUser(user: string): string {
  return user.replace(/^@/u, '').toLowerCase();
}

function formatMs(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes % (24 * 60) === 0) return `${minutes / (24 * 60)}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

function error(
  code: RiskError['code'],
  message: string,
  extra: Omit<RiskError, 'kind' | 'code' | 'message'> = {},
): RiskError {
  return { kind: 'error', code, message, ...extra };
}
