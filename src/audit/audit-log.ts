import type { AuditEvent, AuditEventType, AuditRecord } from './audit-record.js';

/** Every field narrows the result (AND). Records come back in seq order. */
export interface AuditFilter {
  readonly actor?: string;
  readonly database?: string;
  /** Records with at >= since. */
  readonly since?: Date;
  /** Records with at < until (half-open, so consecutive windows never overlap). */
  readonly until?: Date;
  readonly decision?: string;
  /** Records whose grantIds hold this id. */
  readonly grantId?: string;
  /** Records whose prNumbers hold this number. */
  readonly prNumber?: number;
  /** Records of one of these types (an empty list matches nothing). */
  readonly types?: readonly AuditEventType[];
  /** Keyset pagination: records with seq > afterSeq. */
  readonly afterSeq?: number;
  /** Default 100, at most 1000 (larger values are clamped). */
  readonly limit?: number;
}

/** Why verification stopped; stable values for tools and tests (the reason is for humans). */
export type ChainProblem =
  | 'edited' // content no longer matches its hash
  | 'missing' // a seq gap, or records gone from the end (deleted)
  | 'inserted' // a forged record between others, or past the recorded head
  | 'reordered' // two records swapped places
  | 'unlinked' // prev_hash is not the previous record's hash (removed/rewritten before it)
  | 'head_mismatch' // the recorded head disagrees with the last record
  | 'checkpoint_mismatch' // a checkpoint names a head that is not the one it extends
  | 'unreadable'; // a row cannot even be decoded

export type ChainVerification =
  | { readonly ok: true; readonly records: number; readonly head: string }
  | {
      readonly ok: false;
      /** Records verified before the break. */
      readonly records: number;
      readonly firstBrokenSeq: number;
      readonly problem: ChainProblem;
      readonly reason: string;
    };

/** Append-only, hash-chained. SQLite and PostgreSQL adapters pass one contract suite. */
export interface AuditLog {
  /** Durably appends (committed before the promise resolves). Throws GatehouseError
   * AUDIT_UNAVAILABLE when it cannot write. `at` defaults to the log's clock, read once the
   * chain head is locked. For `audit.checkpoint` the log writes `headSeq` and `headHash` (the
   * head it extends) into details. Returned records have every field set (null, [] or {}). */
  append(event: AuditEvent, at?: Date): Promise<AuditRecord>;
  /** Throws GatehouseError STATE_UNAVAILABLE when the store cannot be read. */
  query(filter: AuditFilter): Promise<readonly AuditRecord[]>;
  /** Streams the whole log in seq order and reports the first broken record. */
  verify(): Promise<ChainVerification>;
}
