import pg from 'pg';
import { PostgresAuditLog } from '../../audit/postgres/postgres-audit-log.js';
import { PostgresGrantStore } from '../../grants/postgres/postgres-grant-store.js';
import type { Clock } from '../../util/clock.js';
import type { State } from '../open-state.js';
import { storeFailure } from '../store-failure.js';
import { PostgresLeaderLock } from './postgres-leader-lock.js';
import { migratePostgres } from './postgres-migrator.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';

/** Connections per replica: appends queue on the chain head anyway, reads are short. */
const POOL_SIZE = 10;

/**
 * Opens the shared PostgreSQL state (the store for several replicas) and migrates it.
 * `url` is a libpq-style connection URL (postgres://user@host:5432/db?sslmode=…).
 */
export async function openPostgresState(url: string, clock: Clock): Promise<State> {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    // An unreachable server fails a request with 503 instead of hanging it.
    connectionTimeoutMillis: 5000,
    // A replica that dies mid-append must not hold the chain head (and every writer) forever.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
  });
  // An 'error' event without a listener crashes the process: the pool emits one for idle
  // clients (https://node-postgres.com/apis/pool#error) and a checked-out client emits its
  // own when the connection drops between queries. The failing query reports it instead.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await migratePostgres(pool, POSTGRES_MIGRATIONS);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw storeFailure('STATE_UNAVAILABLE', 'cannot open PostgreSQL state', error);
  }
  return {
    grants: new PostgresGrantStore(pool),
    audit: new PostgresAuditLog(pool, clock),
    leader: new PostgresLeaderLock(pool),
    async close() {
      await pool.end();
    },
  };
}
