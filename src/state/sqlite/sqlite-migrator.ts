import type BetterSqlite3 from 'better-sqlite3';
import { GatehouseError } from '../../errors/catalogue.js';
import {
  migrationChecksum,
  pendingMigrations,
  type AppliedMigration,
  type Migration,
} from '../migration.js';

/**
 * Applies pending migrations. Reads first without a write lock, so a database that is already
 * current opens even from a read-only file; pending work runs in one BEGIN IMMEDIATE
 * transaction that re-reads the applied versions, so two processes opening a fresh file at
 * once apply each migration exactly once.
 */
export function migrateSqlite(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[],
  now: Date,
): void {
  const plan = () => {
    const result = pendingMigrations(migrations, applied(db));
    if ('mismatch' in result) throw new GatehouseError('STATE_SCHEMA_MISMATCH', result.mismatch);
    return result.pending;
  };
  if (plan().length === 0) return;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      checksum   TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
    );
    for (const migration of plan()) {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migrationChecksum(migration), now.getTime());
    }
  }).immediate();
}

function applied(db: BetterSqlite3.Database): AppliedMigration[] {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (exists === undefined) return [];
  return db
    .prepare('SELECT version, checksum FROM schema_migrations ORDER BY version')
    .all() as AppliedMigration[];
}
