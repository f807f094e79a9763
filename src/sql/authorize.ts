import type { EngineKind } from '../policy/databases.js';
import type { Authorization, AuthorizationInput, Reason, TableRef } from './analysis.js';
import { isSystemSchema } from './system-schemas.js';

/**
 * Decides whether the caller's active grants cover every table an analysed statement reads.
 * Pure. Grant entries (from access requests) are `*`, `table` or `schema.table`:
 *
 * - `*`: MySQL: every table of the configured database (`defaultSchema`), nothing in other
 *   databases on the same server. PostgreSQL: every table of every non-system schema of the
 *   database the gateway connects to.
 * - `table`: `defaultSchema.table`.
 * - `schema.table`: that table. On MySQL only the configured database can be named: a grant
 *   approved for `hr_prod` never reaches into another database on the same server.
 *
 * Names are compared exactly, as the analysis resolved them (PostgreSQL: folded unless quoted;
 * MySQL: as written, case-sensitive as on Linux with lower_case_table_names=0). A grant for
 * `salary` does not cover `SALARY` on MySQL or `"Salary"` on PostgreSQL: those may be other
 * tables, and where they are not, the refusal only asks for a more precise request.
 * System schemas are never covered, not even by `*`.
 */
export function authorizeTables(input: AuthorizationInput): Authorization {
  const { analysis, engine, defaultSchema, grantedTables } = input;
  if (!analysis.ok) {
    return freeze({ allowed: false, reasons: analysis.reasons, missing: [], usedGrants: [] });
  }
  const catalogReasons: Reason[] = [];
  const coverable = analysis.tables.filter((table) => {
    if (!isSystemSchema(engine, table.schema)) return true;
    catalogReasons.push({
      code: 'SQL_SYSTEM_CATALOG',
      message: `The system schema '${table.schema}' cannot be queried.`,
    });
    return false;
  });
  if (grantedTables.length === 0) {
    return freeze({
      allowed: false,
      reasons: [
        ...catalogReasons,
        { code: 'SQL_NO_GRANT', message: 'You hold no active grant for this database.' },
      ],
      missing: coverable,
      usedGrants: [],
    });
  }
  const used = new Set<number>();
  const missing: TableRef[] = [];
  for (const table of coverable) {
    const index = grantedTables.findIndex((entries) =>
      entries.some((entry) => covers(engine, defaultSchema, entry, table)),
    );
    if (index < 0) missing.push(table);
    else used.add(index);
  }
  const reasons: Reason[] = [...catalogReasons];
  if (missing.length > 0) {
    const names = missing.map((t) => displayName(t, defaultSchema)).join(', ');
    reasons.push({
      code: 'SQL_TABLE_NOT_GRANTED',
      message: `No active grant of yours covers ${missing.length === 1 ? 'the table' : 'the tables'} ${names}.`,
    });
  }
  return freeze({
    allowed: reasons.length === 0,
    reasons,
    missing,
    usedGrants: [...used].sort((a, b) => a - b),
  });
}

function covers(
  engine: EngineKind,
  defaultSchema: string,
  entry: string,
  table: TableRef,
): boolean {
  if (isSystemSchema(engine, table.schema)) return false;
  if (entry === '*') return engine === 'postgres' || table.schema === defaultSchema;
  const dot = entry.indexOf('.');
  if (dot < 0) return table.schema === defaultSchema && table.name === entry;
  const schema = entry.slice(0, dot);
  const name = entry.slice(dot + 1);
  if (schema.length === 0 || name.length === 0 || name.includes('.') || name === '*') return false;
  if (engine === 'mysql' && schema !== defaultSchema) return false;
  return table.schema === schema && table.name === name;
}

/** `name` in the default schema, `schema.name` elsewhere. */
export function displayName(table: TableRef, defaultSchema: string): string {
  return table.schema === defaultSchema ? table.name : `${table.schema}.${table.name}`;
}

function freeze(authorization: Authorization): Authorization {
  return Object.freeze({
    allowed: authorization.allowed,
    reasons: Object.freeze([...authorization.reasons]),
    missing: Object.freeze([...authorization.missing]),
    usedGrants: Object.freeze([...authorization.usedGrants]),
  });
}
