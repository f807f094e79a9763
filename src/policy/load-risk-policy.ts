import { parseDuration } from '../requests/duration.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { FieldPath } from '../yaml/field-path.js';
import { loadPolicyDocument } from './policy-document.js';
import type { Databases } from './databases.js';
import type {
  ApprovalRequirement,
  ReviewerSpec,
  RiskLevel,
  RiskPolicy,
  RiskRule,
  RuleMatch,
} from './risk-policy.js';

/** The shape the schema guarantees (schemas/risk-policy.schema.json). */
interface RiskFile {
  levels: Record<string, LevelEntry>;
  rules: RuleEntry[];
  meta: { level: string };
  auditors?: string[];
  reminderLead?: string;
}
interface LevelEntry {
  approvals?: { count: number; from: string[] }[];
  maxDuration?: string;
  deny?: string;
}
interface RuleEntry {
  name: string;
  level: string;
  match: {
    environment?: string | string[];
    database?: string | string[];
    tables?: string | string[];
    durationOver?: string;
    requesters?: string | string[];
  };
}

const DEFAULT_REMINDER_LEAD = '30m';

/** Parses and validates policies/risk.yaml: schema, then the references between its parts
 * (levels named by rules and meta exist, rule names are unique, every level can be met) and,
 * given `databases`, the environments and databases its rules name. `policy` is present only
 * when there is no diagnostic. */
export function loadRiskPolicy(
  file: string,
  bytes: Uint8Array | string,
  options: { readonly databases?: Databases } = {},
): { policy?: RiskPolicy; diagnostics: Diagnostic[] } {
  const result = loadPolicyDocument(file, bytes, 'risk-policy');
  if (!('document' in result)) return { diagnostics: result.diagnostics };
  const { loaded, diagnostics } = result.document;
  const invalid = result.document.invalid;
  // The schema guarantees the format, so parseDuration cannot fail here.
  const duration = (text: string): number => parseDuration(text) ?? 0;

  const value = loaded.value as RiskFile;
  const levelNames = Object.keys(value.levels);
  const usedByRules = new Set(value.rules.map((rule) => rule.level));

  const levels = new Map<string, RiskLevel>();
  for (const [name, entry] of Object.entries(value.levels)) {
    const at: FieldPath = ['levels', name];
    if (entry.deny !== undefined) {
      if (entry.maxDuration !== undefined) {
        invalid(
          [...at, 'maxDuration'],
          `Level ${name} denies every request, so maxDuration has no effect; remove it.`,
          'key',
        );
      }
      levels.set(name, Object.freeze({ name, kind: 'deny', message: entry.deny }));
      continue;
    }
    const approvals: ApprovalRequirement[] = (entry.approvals ?? []).map((approval, index) => {
      const from = reviewers(approval.from);
      const onlyUsers = !from.codeowners && from.teams.length === 0;
      if (onlyUsers && approval.count > from.users.length) {
        invalid(
          [...at, 'approvals', index, 'count'],
          `Level ${name} asks for ${approval.count} approvals from ${from.users.length} listed user(s); it could never be met.`,
        );
      }
      return Object.freeze({ count: approval.count, from });
    });
    let maxDurationMs = 0;
    let maxDurationText = '';
    if (entry.maxDuration !== undefined) {
      maxDurationMs = duration(entry.maxDuration);
      maxDurationText = entry.maxDuration;
      if (maxDurationMs === 0) {
        invalid([...at, 'maxDuration'], `maxDuration of level ${name} must be longer than zero.`);
      }
    } else if (usedByRules.has(name)) {
      invalid(
        at,
        `Level ${name} is used by a rule, so it needs a maxDuration (like 8h): every grant ends.`,
        'key',
      );
    }
    levels.set(
      name,
      Object.freeze({
        name,
        kind: 'approve',
        approvals: Object.freeze(approvals),
        maxDurationMs,
        maxDurationText,
      }),
    );
  }

  const known = levelNames.join(', ');
  const ruleNames = new Map<string, number>();
  const rules: RiskRule[] = value.rules.map((entry, index) => {
    const at: FieldPath = ['rules', index];
    const earlier = ruleNames.get(entry.name);
    if (earlier !== undefined) {
      invalid(
        [...at, 'name'],
        `Rule name '${entry.name}' is already used by rules[${earlier}]; rule names must be unique.`,
      );
    } else {
      ruleNames.set(entry.name, index);
    }
    if (options.databases !== undefined) {
      checkNames(entry, options.databases, (field, message) =>
        invalid([...at, 'match', field], message),
      );
    }
    if (!levels.has(entry.level)) {
      invalid(
        [...at, 'level'],
        `Rule '${entry.name}' names level '${entry.level}', which is not declared under levels (declared: ${known}).`,
      );
    }
    return Object.freeze({ name: entry.name, level: entry.level, match: ruleMatch(entry.match) });
  });

  if (!levels.has(value.meta.level)) {
    invalid(
      ['meta', 'level'],
      `meta names level '${value.meta.level}', which is not declared under levels (declared: ${known}).`,
    );
  }

  const reminderLead = value.reminderLead ?? DEFAULT_REMINDER_LEAD;
  const auditors = principals(value.auditors ?? []);

  if (diagnostics.length > 0) return { diagnostics };
  const policy: RiskPolicy = Object.freeze({
    levels,
    rules: Object.freeze(rules),
    meta: Object.freeze({ level: value.meta.level }),
    auditors: Object.freeze(auditors),
    reminderLeadMs: duration(reminderLead),
  });
  return { policy, diagnostics };
}

function list(value: string | string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return Object.freeze(typeof value === 'string' ? [value] : [...value]);
}

function ruleMatch(match: RuleEntry['match']): RuleMatch {
  const environments = list(match.environment);
  const databases = list(match.database);
  const tables = list(match.tables);
  const requesters = list(match.requesters);
  return Object.freeze({
    ...(environments === undefined ? {} : { environments }),
    ...(databases === undefined ? {} : { databases }),
    ...(tables === undefined ? {} : { tables }),
    ...(match.durationOver === undefined
      ? {}
      : { durationOverMs: parseDuration(match.durationOver) ?? 0 }),
    ...(requesters === undefined ? {} : { requesters: principals(requesters) }),
  });
}

/** `@org/team` → team `org/team`; `@login` or `login` → user `login`. */
function principals(values: readonly string[]): { users: string[]; teams: string[] } {
  const users = new Set<string>();
  const teams = new Set<string>();
  for (const raw of values) {
    const name = raw.startsWith('@') ? raw.slice(1) : raw;
    (name.includes('/') ? teams : users).add(name);
  }
  return { users: [...users], teams: [...teams] };
}

/** `codeowners` is the keyword for the file's CODEOWNERS; a user literally named codeowners is
 * written `@codeowners`. */
function reviewers(values: readonly string[]): ReviewerSpec {
  const codeowners = values.includes('codeowners');
  const { users, teams } = principals(values.filter((v) => v !== 'codeowners'));
  return Object.freeze({
    codeowners,
    teams: Object.freeze(teams),
    users: Object.freeze(users),
  });
}

/**
 * A rule naming an environment or database that databases.yaml does not declare can never
 * match, so the requests it was written for fall through to a later, usually weaker, rule. A
 * typo with a security cost: refuse the policy instead.
 */
function checkNames(
  rule: RuleEntry,
  databases: Databases,
  report: (field: string, message: string) => void,
): void {
  const environments = new Set([...databases.values()].map((db) => db.environment));
  for (const environment of list(rule.match.environment) ?? []) {
    if (!environments.has(environment)) {
      report(
        'environment',
        `Rule '${rule.name}' matches environment '${environment}', which no database in policies/databases.yaml has (they have: ${[...environments].join(', ')}); the rule could never match.`,
      );
    }
  }
  for (const database of list(rule.match.database) ?? []) {
    if (!databases.has(database)) {
      report(
        'database',
        `Rule '${rule.name}' matches database '${database}', which policies/databases.yaml does not declare (it declares: ${[...databases.keys()].join(', ')}); the rule could never match.`,
      );
    }
  }
}
