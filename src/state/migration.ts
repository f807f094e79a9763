import { createHash } from 'node:crypto';

/**
 * One numbered schema step. Each adapter keeps its own ordered list (SQL differs); the runner
 * records `version`, `name` and `checksum` in `schema_migrations` and refuses to run against a
 * database that holds a version it does not know or whose SQL was edited after it ran.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface AppliedMigration {
  readonly version: number;
  readonly checksum: string;
}

export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql, 'utf8').digest('hex');
}

/** The migrations still to apply, after checking that what was applied is what we ship.
 * Returns a message (for STATE_SCHEMA_MISMATCH) when the database is not ours to migrate. */
export function pendingMigrations(
  known: readonly Migration[],
  applied: readonly AppliedMigration[],
): { readonly pending: readonly Migration[] } | { readonly mismatch: string } {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const row of applied) {
    const migration = byVersion.get(row.version);
    if (migration === undefined) {
      return {
        mismatch: `the state database has migration ${row.version}, which this build does not know (written by a newer Gatehouse?)`,
      };
    }
    if (migrationChecksum(migration) !== row.checksum) {
      return {
        mismatch: `migration ${row.version} (${migration.name}) differs from the one applied to the state database`,
      };
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return { pending: known.filter((m) => !done.has(m.version)) };
}
