import type { EngineKind } from '../policy/databases.js';

/**
 * Schemas that hold server metadata rather than application data. They are never readable
 * through Gatehouse, not even under a `*` grant: `pg_stats` holds real column values and
 * `pg_stat_activity` / `performance_schema` show other people's SQL (anchors.md §6).
 */
const MYSQL_SYSTEM_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);
const POSTGRES_SYSTEM_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'pg_toast']);

/** MySQL compares case-insensitively here (fail closed: `MYSQL.user` is refused even on a
 * server where it would name a different database). PostgreSQL also refuses every `pg_*`
 * schema (`pg_temp_3`, `pg_toast_temp_1`), which PostgreSQL reserves for the system. */
export function isSystemSchema(engine: EngineKind, schema: string): boolean {
  const lower = schema.toLowerCase();
  if (engine === 'mysql') return MYSQL_SYSTEM_SCHEMAS.has(lower);
  return POSTGRES_SYSTEM_SCHEMAS.has(lower) || lower.startsWith('pg_');
}
