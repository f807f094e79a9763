import Database from 'better-sqlite3';
import type { NewGrant } from '../../src/grants/grant.js';
import { SqliteGrantStore } from '../../src/grants/sqlite/sqlite-grant-store.js';

/**
 * Seeds grants into an SQLite state file (already migrated by openState) through the
 * adapter's own insert, in ONE transaction on a second connection: one fsync instead of one
 * per grant, so seeding 100,000 grants takes seconds.
 */
export function seedSqliteGrants(path: string, grants: readonly NewGrant[]): void {
  const db = new Database(path);
  try {
    const store = new SqliteGrantStore(db);
    db.exec('BEGIN');
    // The adapter's insert is synchronous up to its first await and awaits nothing before
    // writing, so every row lands inside this transaction.
    for (const grant of grants) void store.insert(grant);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}
