/**
 * The query gateway's core: who may run what, with the audit record written BEFORE any data
 * is read. No HTTP here (the server translates), no driver (engines are injected), no wall
 * clock (the Clock is injected, so a grant that expires between two queries is testable).
 *
 * Order of a query (docs/http-api.md):
 *   1. unknown database            -> refused UNKNOWN_DATABASE (audited)
 *   2. analyse the SQL (pure)      -> refused with the analyser's code (audited)
 *   3. caller's ACTIVE grants now  -> refused SQL_NO_GRANT / SQL_TABLE_NOT_GRANTED + hint
 *   4. durable `query.attempt`     -> if it cannot be written: AUDIT_UNAVAILABLE, nothing runs
 *   5. execute through the engine with the limits
 *   6. `query.outcome` (rows, duration, truncated, error code; never the rows themselves)
 */
import { createHash } from 'node:crypto';
import { redactSqlLiterals } from '../audit/tools/redact-sql.js';
import type { AuditEvent, AuditRecord } from '../audit/audit-record.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { QueryLimits } from '../config/config.js';
import type { Engine, QueryResult } from '../engines/engine.js';
import { ERRORS, GatehouseError, type ErrorCode } from '../errors/catalogue.js';
import { isGrantActive, type Grant } from '../grants/grant.js';
import type { GrantStore } from '../grants/grant-store.js';
import type { Identity } from '../identity/identity-provider.js';
import type { DatabaseConfig, Databases } from '../policy/databases.js';
import { analyzeSql } from '../sql/analyze-sql.js';
import type { Reason, TableRef } from '../sql/analysis.js';
import { authorizeTables } from '../sql/authorize.js';
import { requestHint } from '../sql/request-hint.js';
import type { Clock } from '../util/clock.js';

export interface QueryRequest {
  readonly identity: Identity;
  readonly database: string;
  readonly sql: string;
  /** Clamped to limits.maxRowsCap; limits.defaultMaxRows when absent. */
  readonly maxRows?: number;
  readonly requestId: string;
  readonly clientAddress: string | null;
}

export type QueryOutcome =
  | { readonly ok: true; readonly result: QueryResult; readonly auditId: string }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly hint?: string;
      /** Absent only when no audit record could be written (AUDIT_UNAVAILABLE). */
      readonly auditId?: string;
    };

/** The small slice of a pino logger the service uses. */
export interface ServiceLog {
  error(details: object, message: string): void;
}

export interface QueryServiceDeps {
  /** The databases in force, read once per query: a policy reload swaps them between queries
   * (src/config/policy-holder.ts). */
  readonly databases: () => Databases;
  readonly grants: GrantStore;
  readonly audit: AuditLog;
  /** One engine per database id, created lazily by the wiring. May throw GatehouseError. */
  readonly engines: (databaseId: string) => Engine;
  readonly clock: Clock;
  readonly limits: QueryLimits;
  readonly log?: ServiceLog;
}

export interface QueryService {
  query(request: QueryRequest): Promise<QueryOutcome>;
  /** The caller's grants usable at the service clock's now (not revoked, now < expiresAt). */
  activeGrants(login: string): Promise<readonly Grant[]>;
}

/** The audit id a client sees: the seq of the `query.attempt` record (docs/audit.md). */
function auditIdOf(record: AuditRecord): string {
  return String(record.seq);
}

/** GitHub logins are case-insensitive: `Alice` and `alice` are one account. */
function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function tableName(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

/** MySQL: unqualified names belong to the connection's database. PostgreSQL: to the
 * configured schema (search_path is pinned by the engine to the same value). */
export function defaultSchemaOf(db: DatabaseConfig): string {
  return db.engine === 'mysql' ? db.name : (db.defaultSchema ?? 'public');
}

function failureOf(error: unknown): { code: ErrorCode; message: string; hint?: string } {
  if (error instanceof GatehouseError) {
    return error.hint === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, hint: error.hint };
  }
  return { code: 'INTERNAL', message: ERRORS.INTERNAL.summary };
}

export function createQueryService(deps: QueryServiceDeps): QueryService {
  const { grants, audit, engines, clock, limits } = deps;

  async function activeGrantsOn(login: string, database: string, now: Date): Promise<Grant[]> {
    const found = await grants.activeFor(login, database, now);
    // The store already filters; checking again here keeps the rule (now < expiresAt, not
    // revoked, this caller, this database) in one visible place and fails closed if an
    // adapter ever returns too much.
    return found.filter(
      (grant) =>
        sameLogin(grant.requester, login) &&
        grant.database === database &&
        isGrantActive(grant, now),
    );
  }

  /** With GATEHOUSE_AUDIT_REDACT_LITERALS the record keeps the shape of the statement, not
   * its values (docs/audit.md); an unknown database has no engine, so it is redacted as MySQL,
   * whose lexer treats more characters as quotes. */
  function sqlForAudit(request: QueryRequest, db: DatabaseConfig | undefined): string {
    if (!limits.redactSqlLiterals) return request.sql;
    return redactSqlLiterals(request.sql, db?.engine ?? 'mysql');
  }

  /** Appends the attempt; `null` means the audit store cannot write, and nothing may run. */
  async function recordAttempt(
    request: QueryRequest,
    db: DatabaseConfig | undefined,
    event: Omit<AuditEvent, 'type' | 'actor' | 'requestId' | 'clientAddress' | 'sql' | 'sqlSha256'>,
    at: Date,
  ): Promise<AuditRecord | null> {
    try {
      return await audit.append(
        {
          type: 'query.attempt',
          actor: request.identity.login,
          requestId: request.requestId,
          clientAddress: request.clientAddress,
          sql: sqlForAudit(request, db),
          sqlSha256: createHash('sha256').update(request.sql, 'utf8').digest('hex'),
          ...event,
        },
        at,
      );
    } catch (error) {
      deps.log?.error(
        { err: error, requestId: request.requestId },
        'audit append failed; the query was not run',
      );
      return null;
    }
  }

  const auditUnavailable: QueryOutcome = {
    ok: false,
    code: 'AUDIT_UNAVAILABLE',
    message: ERRORS.AUDIT_UNAVAILABLE.summary,
  };

  async function refuse(
    request: QueryRequest,
    db: DatabaseConfig | undefined,
    at: Date,
    refusal: {
      code: ErrorCode;
      message: string;
      hint?: string;
      tables?: readonly string[];
      reasons?: readonly Reason[];
      statementType?: string;
      decision?: 'refused' | 'failed';
    },
  ): Promise<QueryOutcome> {
    const attempt = await recordAttempt(
      request,
      db,
      {
        database: request.database,
        tables: refusal.tables ?? [],
        decision: refusal.decision ?? 'refused',
        code: refusal.code,
        details: {
          via: request.identity.via,
          message: refusal.message,
          ...(refusal.statementType === undefined ? {} : { statementType: refusal.statementType }),
          ...(refusal.reasons === undefined ? {} : { reasons: refusal.reasons }),
          ...(refusal.hint === undefined ? {} : { hint: refusal.hint }),
        },
      },
      at,
    );
    if (attempt === null) return auditUnavailable;
    return {
      ok: false,
      code: refusal.code,
      message: refusal.message,
      ...(refusal.hint === undefined ? {} : { hint: refusal.hint }),
      auditId: auditIdOf(attempt),
    };
  }

  async function query(request: QueryRequest): Promise<QueryOutcome> {
    const now = clock();
    const db = deps.databases().get(request.database);
    if (db === undefined) {
      return refuse(request, db, now, {
        code: 'UNKNOWN_DATABASE',
        message: `No database '${request.database}' is declared in policies/databases.yaml.`,
      });
    }
    const defaultSchema = defaultSchemaOf(db);
    const analysis = analyzeSql({ engine: db.engine, sql: request.sql, defaultSchema });
    const tables = analysis.tables.map(tableName);
    if (!analysis.ok) {
      const first = analysis.reasons[0];
      return refuse(request, db, now, {
        code: first?.code ?? 'SQL_UNRESOLVED',
        message: first?.message ?? ERRORS.SQL_UNRESOLVED.summary,
        tables,
        reasons: analysis.reasons,
        statementType: analysis.statementType,
      });
    }

    let active: Grant[];
    try {
      active = await activeGrantsOn(request.identity.login, db.id, now);
    } catch (error) {
      deps.log?.error({ err: error, requestId: request.requestId }, 'grant lookup failed');
      const failure =
        error instanceof GatehouseError
          ? { code: error.code, message: error.message }
          : { code: 'STATE_UNAVAILABLE' as const, message: ERRORS.STATE_UNAVAILABLE.summary };
      return refuse(request, db, now, { ...failure, tables, decision: 'failed' });
    }

    const authorization = authorizeTables({
      analysis,
      engine: db.engine,
      defaultSchema,
      grantedTables: active.map((grant) => grant.tables),
    });
    if (!authorization.allowed) {
      const first = authorization.reasons[0];
      const hint =
        authorization.missing.length > 0
          ? requestHint(db.id, authorization.missing, defaultSchema)
          : undefined;
      return refuse(request, db, now, {
        code: first?.code ?? (active.length === 0 ? 'SQL_NO_GRANT' : 'SQL_TABLE_NOT_GRANTED'),
        message: first?.message ?? ERRORS.SQL_TABLE_NOT_GRANTED.summary,
        ...(hint === undefined ? {} : { hint }),
        tables,
        reasons: authorization.reasons,
        statementType: analysis.statementType,
      });
    }

    // A statement that reads no table (`SELECT 1`, `SELECT now()`) uses no grant in
    // particular; it is allowed because the caller holds active grants on this database, and
    // those are what the audit record links to.
    const used =
      analysis.tables.length === 0
        ? active
        : authorization.usedGrants
            .map((index) => active[index])
            .filter((grant): grant is Grant => grant !== undefined);
    if (used.length === 0) {
      // An "allowed" with no grant behind it would be an analyser bug: fail closed.
      return refuse(request, db, now, {
        code: 'SQL_NO_GRANT',
        message: 'No active grant covers this statement.',
        tables,
        statementType: analysis.statementType,
      });
    }
    const maxRows = Math.min(
      Math.max(1, Math.floor(request.maxRows ?? limits.defaultMaxRows)),
      limits.maxRowsCap,
    );
    const grantIds = used.map((grant) => grant.id);
    const prNumbers = [...new Set(used.map((grant) => grant.prNumber))];

    const attempt = await recordAttempt(
      request,
      db,
      {
        database: db.id,
        tables,
        decision: 'allowed',
        code: null,
        grantIds,
        prNumbers,
        details: {
          via: request.identity.via,
          statementType: analysis.statementType,
          functions: analysis.functions,
          maxRows,
        },
      },
      now,
    );
    if (attempt === null) return auditUnavailable;

    const started = performance.now();
    let result: QueryResult | null = null;
    let failure: { code: ErrorCode; message: string; hint?: string } | null = null;
    try {
      const engine = engines(db.id);
      // The statement was analysed and authorised for `db`; a policy reload during the awaits
      // above may have removed or changed it (another engine, host or default schema). Run it
      // only on db's own engine: the wiring swaps databases and engines together, and this
      // check and the call below run with no await in between. Fail closed otherwise.
      const inForce = deps.databases().get(db.id);
      if (inForce !== db) {
        throw new GatehouseError(
          inForce === undefined ? 'UNKNOWN_DATABASE' : 'DATABASE_UNAVAILABLE',
          `The policy for '${db.id}' was reloaded while this query was checked; nothing ran. Send it again.`,
        );
      }
      result = await engine.execute(request.sql, {
        maxRows,
        maxBytes: limits.maxResultBytes,
        timeoutMs: limits.statementTimeoutMs,
      });
    } catch (error) {
      failure = failureOf(error);
      if (failure.code === 'INTERNAL') {
        deps.log?.error({ err: error, requestId: request.requestId }, 'engine failed unexpectedly');
      }
    }
    const durationMs = result?.durationMs ?? Math.round(performance.now() - started);

    try {
      await audit.append(
        {
          type: 'query.outcome',
          actor: request.identity.login,
          database: db.id,
          grantIds,
          prNumbers,
          requestId: request.requestId,
          clientAddress: request.clientAddress,
          parentSeq: attempt.seq,
          decision: result === null ? 'failed' : 'succeeded',
          code: failure?.code ?? null,
          details:
            result === null
              ? { durationMs }
              : { rows: result.rowCount, durationMs, truncated: result.truncated },
        },
        clock(),
      );
    } catch (error) {
      // The attempt is on record, but a result must not leave without its outcome record:
      // withhold it (fail closed) and say why.
      deps.log?.error(
        { err: error, requestId: request.requestId },
        'audit append of the outcome failed; the result was withheld',
      );
      return { ...auditUnavailable, auditId: auditIdOf(attempt) };
    }

    if (result === null) {
      const f = failure ?? { code: 'INTERNAL' as const, message: ERRORS.INTERNAL.summary };
      return { ok: false, ...f, auditId: auditIdOf(attempt) };
    }
    return { ok: true, result, auditId: auditIdOf(attempt) };
  }

  return {
    query,
    async activeGrants(login) {
      const now = clock();
      const found = await grants.list({ requester: login, activeAt: now, unrevoked: true });
      return found.filter(
        (grant) => sameLogin(grant.requester, login) && isGrantActive(grant, now),
      );
    },
  };
}
