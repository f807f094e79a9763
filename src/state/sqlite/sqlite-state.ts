import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAuditLog } from '../../audit/sqlite/sqlite-audit-log.js';
import { SqliteGrantStore } from '../../grants/sqlite/sqlite-grant-store.js';
import type { Clock } from '../../util/clock.js';
import type { State } from '../open-state.js';
import { storeFailure } from '../store-failure.js';
import { SqliteLeaderLock } from './sqlite-leader-lock.js';
import { migrateSqlite } from './sqlite-migrator.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

/** How long a writer waits for another connection's write lock before failing (and the
 * gateway answering 503): long enough for any single append, short enough to fail fast. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating it and its directory if needed) the SQLite state file. WAL lets readers run
 * beside the writer; synchronous=FULL fsyncs the WAL on every commit, so an append that has
 * resolved survives power loss (NORMAL could lose the last commits:
 * https://www.sqlite.org/pragma.html#pragma_synchronous). The cost is measured in bench/.
 */
export function openSqliteState(
  path: string,
  clock: Clock,
  auditWriter: 'inline' | 'thread' = 'inline',
): State {
  const file = resolve(path);
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrateSqlite(db, SQLITE_MIGRATIONS, clock());
    const opened = db;
    const audit = new SqliteAuditLog(opened, clock, { writer: auditWriter });
    return {
      grants: new SqliteGrantStore(opened),
      audit,
      leader: new SqliteLeaderLock(file),
      async close() {
        // Appends wait a turn of the event loop to be grouped (and may be committing in the
        // writer thread): commit them, and stop the thread, before closing.
        await audit.close();
        opened.close();
      },
    };
  } catch (error) {
    db?.close();
    throw storeFailure('STATE_UNAVAILABLE', `cannot open SQLite state ${file}`, error);
  }
}
