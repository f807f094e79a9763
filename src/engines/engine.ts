import type { EngineKind } from '../policy/databases.js';

export interface ColumnInfo {
  readonly name: string;
  /** The engine's type name, lower-case (e.g. `int`, `varchar`, `timestamptz`). */
  readonly type: string;
}

export interface ExecuteOptions {
  readonly maxRows: number;
  /** Cap on the JSON size of the rows returned, in bytes. */
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export interface QueryResult {
  readonly columns: readonly ColumnInfo[];
  /** Rows as arrays in column order; values JSON-safe (bigint and binary as strings). */
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly truncated: boolean;
  readonly durationMs: number;
}

/** One database, one pool of connections as the shared database user. Executes an already
 * authorised statement read-only; throws GatehouseError (QUERY_TIMEOUT, QUERY_FAILED,
 * QUERY_RESULT_TOO_LARGE, DATABASE_UNAVAILABLE, IAM_TOKEN_FAILED) on failure. */
export interface Engine {
  readonly kind: EngineKind;
  execute(sql: string, options: ExecuteOptions): Promise<QueryResult>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
