import type { ErrorCode } from '../errors/catalogue.js';
import type { EngineKind } from '../policy/databases.js';

/** A table resolved to its schema, in the engine's canonical case. For MySQL the schema is
 * the database name on the server. */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export interface Reason {
  readonly code: ErrorCode;
  readonly message: string;
  /** 1-based offset into the SQL text, when known. */
  readonly position?: number;
}

export interface AnalysisInput {
  readonly engine: EngineKind;
  readonly sql: string;
  /** MySQL: the database name on the server. PostgreSQL: the default schema (`public`). */
  readonly defaultSchema: string;
}

/** What a statement is and reads. `ok: false` when it cannot be proved safe: fail closed. */
export interface Analysis {
  readonly ok: boolean;
  readonly statementType: string;
  readonly tables: readonly TableRef[];
  /** Lower-case function names called anywhere. */
  readonly functions: readonly string[];
  readonly reasons: readonly Reason[];
}

export interface AuthorizationInput {
  readonly analysis: Analysis;
  readonly engine: EngineKind;
  readonly defaultSchema: string;
  /** Table lists of the caller's active grants on this database (`*`, `t` or `schema.t`). */
  readonly grantedTables: readonly (readonly string[])[];
}

export interface Authorization {
  readonly allowed: boolean;
  readonly reasons: readonly Reason[];
  /** Tables the statement reads that no grant covers (what to request). */
  readonly missing: readonly TableRef[];
  /** Index into grantedTables of the grants that were used. */
  readonly usedGrants: readonly number[];
}
