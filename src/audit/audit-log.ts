import type { AuditEvent, AuditEventType, AuditRecord } from './audit-record.js';

export interface AuditFilter {
  readonly actor?: string;
  readonly database?: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly decision?: string;
  readonly grantId?: string;
  readonly prNumber?: number;
  readonly types?: readonly AuditEventType[];
  /** Keyset pagination: records with seq > afterSeq. */
  readonly afterSeq?: number;
  readonly limit?: number;
}

export type ChainVerification =
  | { readonly ok: true; readonly records: number; readonly head: string }
  | {
      readonly ok: false;
      readonly records: number;
      readonly firstBrokenSeq: number;
      readonly reason: string;
    };

/** Append-only, hash-chained. SQLite and PostgreSQL adapters pass one contract suite. */
export interface AuditLog {
  /** Durably appends (committed before the promise resolves). Throws GatehouseError
   * AUDIT_UNAVAILABLE when it cannot write. `at` defaults to the log's clock. */
  append(event: AuditEvent, at?: Date): Promise<AuditRecord>;
  query(filter: AuditFilter): Promise<readonly AuditRecord[]>;
  verify(): Promise<ChainVerification>;
}
