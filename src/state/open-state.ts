import type { AuditLog } from '../audit/audit-log.js';
import type { GrantStore } from '../grants/grant-store.js';
import type { Clock } from '../util/clock.js';
import type { LeaderLock } from './leader-lock.js';
import { openPostgresState } from './postgres/postgres-state.js';
import { openSqliteState } from './sqlite/sqlite-state.js';

export type StateConfig =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      /** Where audit append transactions run (GATEHOUSE_SQLITE_AUDIT_WRITER, docs/state.md):
       * on the event loop (default) or in a writer thread of their own. */
      readonly auditWriter?: 'inline' | 'thread';
    }
  | { readonly kind: 'postgres'; readonly url: string };

/** Default SQLite file, relative to the working directory (docs/state.md). */
export const DEFAULT_SQLITE_PATH = './data/gatehouse.db';

/** Everything Gatehouse persists: the grant index, the audit log and the leader lock. */
export interface State {
  readonly grants: GrantStore;
  readonly audit: AuditLog;
  readonly leader: LeaderLock;
  close(): Promise<void>;
}

/**
 * Opens the state store and brings its schema up to date (versioned migrations, serialised
 * across replicas on PostgreSQL). Throws GatehouseError STATE_UNAVAILABLE when the store cannot
 * be opened or reached, STATE_SCHEMA_MISMATCH when it was migrated by another build.
 */
export async function openState(config: StateConfig, clock: Clock): Promise<State> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteState(config.path, clock, config.auditWriter ?? 'inline');
    case 'postgres':
      return openPostgresState(config.url, clock);
  }
}
