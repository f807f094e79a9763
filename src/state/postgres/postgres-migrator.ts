import type pg from 'pg';
import { GatehouseError } from '../../errors/catalogue.js';
import {
  migrationChecksum,
  pendingMigrations,
  type AppliedMigration,
  type Migration,
} from '../migration.js';
import { MIGRATION_LOCK, advisoryKey } from './advisory-key.js';

/**
 * Applies pending migrations while holding a session advisory lock, so replicas starting at
 * the same moment take turns: the first migrates, the others then find nothing to do. Each
 * migration commits in its own transaction with its schema_migrations row.
 */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly Migration[],
): Promise<void> {
  const client = await pool.connect();
  const key = advisoryKey(MIGRATION_LOCK);
  let broken: unknown;
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', key);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = await client.query<AppliedMigration>(
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      const plan = pendingMigrations(migrations, applied.rows);
      if ('mismatch' in plan) throw new GatehouseError('STATE_SCHEMA_MISMATCH', plan.mismatch);
      for (const migration of plan.pending) {
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
            [migration.version, migration.name, migrationChecksum(migration)],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', key).catch((error: unknown) => {
        broken = error;
      });
    }
  } catch (error) {
    broken ??= error;
    throw error;
  } finally {
    // A connection whose unlock failed is destroyed, which ends the session and its lock.
    client.release(broken instanceof Error ? broken : undefined);
  }
}
