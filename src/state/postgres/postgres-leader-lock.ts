import type pg from 'pg';
import type { LeaderLock } from '../leader-lock.js';
import { storeFailure } from '../store-failure.js';
import { advisoryKey, leaderLockName } from './advisory-key.js';

/**
 * A session advisory lock per name, taken with pg_try_advisory_lock on a connection checked
 * out for the whole of `fn` and unlocked after. If that connection dies, PostgreSQL releases
 * the lock with the session, so a crashed replica never blocks the others.
 * https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS
 */
export class PostgresLeaderLock implements LeaderLock {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ readonly ran: true; readonly value: T } | { readonly ran: false }> {
    const key = advisoryKey(leaderLockName(name));
    let client: pg.PoolClient;
    let locked: boolean;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', `leader lock ${name} failed`, error);
    }
    try {
      const result = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        key,
      );
      locked = result.rows[0]?.locked === true;
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw storeFailure('STATE_UNAVAILABLE', `leader lock ${name} failed`, error);
    }
    if (!locked) {
      client.release();
      return { ran: false };
    }
    let unlockFailure: Error | undefined;
    try {
      return { ran: true, value: await fn() };
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', key);
      } catch (error) {
        // Destroying the connection ends the session, which releases the lock anyway.
        unlockFailure = error instanceof Error ? error : new Error(String(error));
      }
      client.release(unlockFailure);
    }
  }
}
