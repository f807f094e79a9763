/** Every kind of thing the audit log records. Dotted names; stable, documented in docs/audit.md. */
export type AuditEventType =
  | 'query.attempt'
  | 'query.outcome'
  | 'grant.requested'
  | 'grant.approved'
  | 'grant.activated'
  | 'grant.activation_refused'
  | 'grant.revoked'
  | 'grant.expired'
  | 'grant.reminder_sent'
  | 'grant.revocation_pr_opened'
  | 'grant.revocation_pr_merged'
  | 'push.ignored'
  | 'webhook.signature_refused'
  | 'config.reloaded'
  | 'audit.read'
  | 'audit.checkpoint';

/** What a writer hands to the log. Unset fields are stored as null. */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** GitHub login of the person (or `gatehouse` for the service itself). */
  readonly actor: string | null;
  readonly database?: string | null;
  readonly grantIds?: readonly string[];
  readonly prNumbers?: readonly number[];
  readonly prUrl?: string | null;
  readonly mergeSha?: string | null;
  readonly approvers?: readonly string[];
  readonly requestId?: string | null;
  readonly clientAddress?: string | null;
  readonly sql?: string | null;
  readonly sqlSha256?: string | null;
  readonly tables?: readonly string[];
  /** allowed | refused | failed | succeeded | … */
  readonly decision?: string | null;
  /** A catalogue code (src/errors/catalogue.ts) when there is one. */
  readonly code?: string | null;
  /** For query.outcome: the seq of the query.attempt it completes. */
  readonly parentSeq?: number | null;
  /** Anything else (row count, duration ms, reason text). Never result rows. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A stored record: the event plus its place and hashes in the chain. */
export interface AuditRecord extends AuditEvent {
  readonly seq: number;
  readonly at: Date;
  /** sha256 hex of the previous record's `hash` (64 zeros for the first). */
  readonly prevHash: string;
  /** sha256 hex over prevHash and the canonical JSON of this record's content. */
  readonly hash: string;
}
