import { createHash } from 'node:crypto';

/** First key of every Gatehouse advisory lock ('Gate' in ASCII), so our locks never collide
 * with another application's single-key locks on a shared server. */
const NAMESPACE = 0x47617465;

/**
 * The two int4 keys of `pg_advisory_lock(key1, key2)` for a lock name: our namespace and 32
 * bits of sha256(name). https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 */
export function advisoryKey(name: string): [number, number] {
  return [NAMESPACE, createHash('sha256').update(name, 'utf8').digest().readInt32BE(0)];
}

export const MIGRATION_LOCK = 'gatehouse:migrations';

/** Leader names live in their own key space so no leader name can take the migration lock. */
export function leaderLockName(name: string): string {
  return `gatehouse:leader:${name}`;
}
