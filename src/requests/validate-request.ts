import type { ErrorCode } from '../errors/catalogue.js';
import type { DatabaseConfig } from '../policy/databases.js';
import { evaluateRisk } from '../policy/evaluate-risk.js';
import type { RepoContext } from '../policy/repo-context.js';
import type { RiskDecision } from '../policy/risk-decision.js';
import type { Diagnostic } from '../util/diagnostic.js';
import { checkSchema } from '../yaml/check-schema.js';
import { formatFieldPath, type FieldPath } from '../yaml/field-path.js';
import { loadYaml, type LoadedYaml } from '../yaml/load-yaml.js';
import type { AccessRequest, Lifetime } from './access-request.js';
import { formatDuration, parseDuration } from './duration.js';
import { parseTimestamp } from './parse-timestamp.js';

export interface ValidateRequestInput {
  /** Repository-relative path with forward slashes, e.g. `access/hr_prod/alice-incident.yaml`. */
  readonly path: string;
  readonly bytes: Uint8Array | string;
  readonly context: RepoContext;
  readonly now: Date;
  /** The pull request author; when given, the requester must be this login. */
  readonly author?: string;
  /** The requester's ACTIVE team memberships (`org/slug`), for rules on requesters' teams. */
  readonly requesterTeams?: ReadonlySet<string>;
}

export interface RequestValidation {
  /** Present when the file is well-formed and names declared things (even if the policy then
   * refuses it), so callers can show what was asked. */
  readonly request?: AccessRequest;
  /** The policy engine's answer, when the request got that far. */
  readonly decision?: RiskDecision;
  /** Empty exactly when the request is valid and its risk level can be approved. */
  readonly diagnostics: Diagnostic[];
}

/** What the file holds once the schema has passed (schemas/access-request.schema.json). */
interface RequestFile {
  requester: string;
  database: string;
  tables: string[];
  access: 'read';
  duration?: string;
  expires?: string;
  reason: string;
  ticket?: string;
}

/** `access/<database>/<name>.yaml`, nothing deeper: the directory is the database. */
const REQUEST_PATH =
  /^access\/([A-Za-z0-9_][A-Za-z0-9_-]{0,63})\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})\.yaml$/;

/** Schemas no grant may ever cover: they describe (or are) the server, not the data.
 * The query gateway refuses them too; refusing them here gives the requester the answer at
 * review time. */
const SYSTEM_SCHEMAS: Record<DatabaseConfig['engine'], readonly string[]> = {
  mysql: ['information_schema', 'mysql', 'performance_schema', 'sys'],
  postgres: ['information_schema', 'pg_catalog', 'pg_toast'],
};

/**
 * THE validation of an access-request file, shared by `gatehouse validate`, `gatehouse
 * request`, the review gate and activation on merge: path, YAML, schema, semantics against the
 * repository's databases, then the risk policy. Expected problems are diagnostics, never
 * exceptions.
 */
export function validateRequestFile(input: ValidateRequestInput): RequestValidation {
  const { path, context, now } = input;
  const file = path;
  const diagnostics: Diagnostic[] = [];

  const pathMatch = REQUEST_PATH.exec(path);
  if (pathMatch === null) {
    diagnostics.push({
      file,
      line: 0,
      column: 0,
      field: '',
      code: 'REQ_PATH',
      message: `A request file must be at access/<database>/<name>.yaml (a .yaml file directly inside the directory named after the database); ${path} is not.`,
    });
  }
  const directory = pathMatch?.[1];

  const loaded = loadYaml(file, input.bytes);
  if (loaded.diagnostics.length > 0)
    return { diagnostics: [...diagnostics, ...loaded.diagnostics] };
  const schemaErrors = checkSchema(file, loaded, 'access-request');
  if (schemaErrors.length > 0) return { diagnostics: [...diagnostics, ...schemaErrors] };

  const report = (field: FieldPath, code: ErrorCode, message: string): void => {
    diagnostics.push(at(file, loaded, field, code, message));
  };
  const value = loaded.value as RequestFile;

  // The database: declared, and the directory the file sits in.
  const db = context.databases.get(value.database);
  if (db === undefined) {
    const declared = [...context.databases.keys()];
    report(
      ['database'],
      'REQ_UNKNOWN_DATABASE',
      `Database '${value.database}' is not declared in policies/databases.yaml (declared: ${declared.join(', ')}).`,
    );
  }
  if (directory !== undefined && directory !== value.database) {
    report(
      ['database'],
      'REQ_DATABASE_MISMATCH',
      `database is '${value.database}' but the file is in access/${directory}/; the directory must be the database (move the file or fix the field).`,
    );
  }

  // Tables: `*` alone, no system schema, and declared when the database has a catalog.
  value.tables.forEach((table, index) => {
    if (table === '*') {
      if (value.tables.length > 1) {
        report(
          ['tables', index],
          'REQ_TABLE_NAME',
          '* means the whole database and must be the only entry of tables; remove it or the other tables.',
        );
      }
      return;
    }
    if (db === undefined) return;
    const schema = table.includes('.') ? table.slice(0, table.indexOf('.')) : undefined;
    if (schema !== undefined && SYSTEM_SCHEMAS[db.engine].includes(schema.toLowerCase())) {
      report(
        ['tables', index],
        'REQ_TABLE_NAME',
        `${table} is in the system schema ${schema}, which Gatehouse never grants.`,
      );
      return;
    }
    if (db.tables !== undefined && !isDeclared(table, db)) {
      const near = db.tables.find((t) => t.toLowerCase() === table.toLowerCase());
      const hint = near === undefined ? '' : ` Did you mean ${near}?`;
      report(
        ['tables', index],
        'REQ_UNKNOWN_TABLE',
        `Table ${table} is not declared for ${db.id} in policies/databases.yaml.${hint} Declared: ${db.tables.join(', ')}.`,
      );
    }
  });

  // Lifetime: exactly one is guaranteed by the schema; here its value.
  let lifetime: Lifetime | undefined;
  if (value.duration !== undefined) {
    const ms = parseDuration(value.duration) ?? 0;
    if (ms === 0) {
      report(
        ['duration'],
        'REQ_DURATION_ZERO',
        `duration ${value.duration} is zero; ask for the time you need, like 30m or 4h.`,
      );
    } else {
      lifetime = { kind: 'duration', text: value.duration, ms };
    }
  } else if (value.expires !== undefined) {
    const at = parseTimestamp(value.expires);
    if (at === null) {
      report(
        ['expires'],
        'REQ_EXPIRES_FORMAT',
        `expires ${value.expires} is not a real date and time; check the month, day and hour.`,
      );
    } else if (at.getTime() <= now.getTime()) {
      report(
        ['expires'],
        'REQ_EXPIRES_PAST',
        `expires ${value.expires} is in the past (it is now ${now.toISOString()}); choose a later time or use duration.`,
      );
    } else {
      lifetime = { kind: 'expires', text: value.expires, at };
    }
  }

  if (input.author !== undefined && value.requester.toLowerCase() !== input.author.toLowerCase()) {
    report(
      ['requester'],
      'REQ_REQUESTER_NOT_AUTHOR',
      `requester is ${value.requester} but the pull request is by ${input.author}; you can only request access for yourself.`,
    );
  }

  if (diagnostics.length > 0 || db === undefined || lifetime === undefined) return { diagnostics };

  const request: AccessRequest = Object.freeze({
    path,
    requester: value.requester,
    database: value.database,
    tables: Object.freeze([...value.tables]),
    access: value.access,
    lifetime: Object.freeze(lifetime),
    reason: value.reason,
    ...(value.ticket === undefined ? {} : { ticket: value.ticket }),
  });
  const decision = evaluateRisk({
    request,
    databases: context.databases,
    policy: context.policy,
    codeowners: context.codeowners,
    now,
    ...(input.requesterTeams === undefined ? {} : { requesterTeams: input.requesterTeams }),
  });
  const lifetimeField = lifetime.kind === 'duration' ? 'duration' : 'expires';
  switch (decision.kind) {
    case 'approve':
      break;
    case 'deny':
      report(
        [],
        'POLICY_DENIED',
        `The risk policy denies this request (level ${decision.level}, rule ${decision.rule}): ${decision.message}`,
      );
      break;
    case 'error':
      switch (decision.code) {
        case 'REQ_DURATION_TOO_LONG': {
          const max =
            decision.maxDurationMs === undefined
              ? ''
              : ` Ask for at most ${formatDuration(decision.maxDurationMs)}.`;
          report([lifetimeField], 'REQ_DURATION_TOO_LONG', `${decision.message}${max}`);
          break;
        }
        case 'REQ_DURATION_ZERO':
        case 'REQ_EXPIRES_PAST':
          report([lifetimeField], decision.code, decision.message);
          break;
        case 'REQ_UNKNOWN_DATABASE':
          report(['database'], decision.code, decision.message);
          break;
        default:
          report([], decision.code, decision.message);
      }
  }
  return { request, decision, diagnostics };
}

function at(
  file: string,
  loaded: LoadedYaml,
  field: FieldPath,
  code: ErrorCode,
  message: string,
): Diagnostic {
  const { line, column } = loaded.positionOf(field);
  return { file, line, column, field: formatFieldPath(field), code, message };
}

/** `table` and `schema.table` name the same table when the schema is the one unqualified
 * names resolve to: the database itself on MySQL, `defaultSchema` (public) on PostgreSQL. */
function isDeclared(table: string, db: DatabaseConfig): boolean {
  const home = db.engine === 'postgres' ? (db.defaultSchema ?? 'public') : db.name;
  const qualify = (name: string): string => (name.includes('.') ? name : `${home}.${name}`);
  const wanted = qualify(table);
  return (db.tables ?? []).some((declared) => qualify(declared) === wanted);
}
