import type { Pipeline } from './capped-query.js';

export interface SessionLimits {
  /** The schema unqualified names resolve in (the analyser resolved them there too). */
  readonly schema: string;
  readonly timeoutMs: number;
  /** How long the session may sit idle inside the transaction before the server ends it. */
  readonly idleTimeoutMs: number;
}

/**
 * Our statements around every query, run in the query's own pipeline (src/engines/postgres/
 * capped-query.ts).
 *
 * Prelude: a READ ONLY transaction and the settings the query runs under, LOCAL to it
 * (set_config with is_local = true is SET LOCAL:
 * https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-SET), in two
 * statements rather than one per setting, as the server's cost per statement is what limits
 * throughput. search_path pins unqualified names to the schema the analyser resolved them in;
 * standard_conforming_strings to how the analyser reads '\' in strings (on, the default since
 * 9.1), so a session default cannot change where a string ends.
 *
 * Epilogue, once the rows are in: ROLLBACK ends the transaction (and removes large objects it
 * created), then DISCARD ALL drops everything a statement could leave on the session before
 * it is reused: advisory locks, prepared statements, settings, LISTEN, temp tables, cursors
 * (https://www.postgresql.org/docs/15/sql-discard.html). DISCARD ALL refuses to run in a
 * transaction block or after another statement of the same pipeline; right after a
 * ROLLBACK it starts a fresh implicit transaction and is accepted (checked on PostgreSQL 15:
 * test/engines/postgres-pipeline.test.ts).
 */
export function sessionPipeline(limits: SessionLimits): Pipeline {
  const settings: readonly (readonly [string, string])[] = [
    ['statement_timeout', String(limits.timeoutMs)],
    ['idle_in_transaction_session_timeout', String(limits.idleTimeoutMs)],
    ['search_path', quoteIdentifier(limits.schema)],
    ['TimeZone', 'UTC'],
    ['DateStyle', 'ISO, YMD'],
    ['IntervalStyle', 'postgres'],
    ['bytea_output', 'hex'],
    ['standard_conforming_strings', 'on'],
  ];
  const calls = settings.map(
    ([name, value]) => `set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, true)`,
  );
  return {
    prelude: ['BEGIN READ ONLY', `SELECT ${calls.join(', ')}`],
    epilogue: ['ROLLBACK', 'DISCARD ALL'],
  };
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
