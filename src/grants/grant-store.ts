import type { Grant, NewGrant } from './grant.js';

export interface GrantFilter {
  readonly requester?: string;
  readonly database?: string;
  readonly prNumber?: number;
  readonly filePath?: string;
  /** Only grants active at this instant. */
  readonly activeAt?: Date;
  /** Only grants not revoked. */
  readonly unrevoked?: boolean;
  readonly limit?: number;
}

/** The derived index of grants. SQLite and PostgreSQL adapters pass one contract suite.
 * Every method throws GatehouseError STATE_UNAVAILABLE when the store cannot be reached. */
export interface GrantStore {
  /** Inserts the grant unless one with the same id exists. Idempotent across replicas. */
  insert(grant: NewGrant): Promise<{ readonly grant: Grant; readonly created: boolean }>;
  get(id: string): Promise<Grant | null>;
  /** Active grants of one user on one database at `now` (indexed). */
  activeFor(requester: string, database: string, now: Date): Promise<readonly Grant[]>;
  list(filter: GrantFilter): Promise<readonly Grant[]>;
  /** Unrevoked grants whose expiry is at or before `now`, oldest first. */
  expired(now: Date, limit: number): Promise<readonly Grant[]>;
  /** Unrevoked grants expiring in (now, now + leadMs] with no reminder sent yet. */
  expiringSoon(now: Date, leadMs: number, limit: number): Promise<readonly Grant[]>;
  /** Sets revokedAt etc. once; returns false when it was already revoked.
   * Throws GRANT_NOT_FOUND for an unknown id (as do the two setters below). */
  revoke(id: string, at: Date, by: string, reason: string): Promise<boolean>;
  /** Records the first reminder time; later calls keep it (idempotent across replicas). */
  markReminderSent(id: string, at: Date): Promise<void>;
  /** Records the open revocation PR (replaced when a closed one is recreated). */
  setRevocationPr(id: string, prNumber: number): Promise<void>;
}
