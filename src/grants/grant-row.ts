import type { AccessKind } from '../requests/access-request.js';
import type { Approver, Grant } from './grant.js';

/** The `grants` table as both adapters store it: lists as JSON text, times as `T` (SQLite
 * INTEGER milliseconds, PostgreSQL timestamptz already decoded to Date by pg). */
export interface GrantRow<T> {
  id: string;
  repo: string;
  requester: string;
  database: string;
  tables: string;
  access: string;
  level: string;
  reason: string;
  ticket: string | null;
  file_path: string;
  pr_number: number;
  pr_url: string;
  head_sha: string;
  merge_sha: string;
  approvers: string;
  activated_at: T;
  expires_at: T;
  revoked_at: T | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  reminder_sent_at: T | null;
  revocation_pr_number: number | null;
}

export function grantFromRow<T>(row: GrantRow<T>, toDate: (value: T) => Date): Grant {
  const orNull = (value: T | null) => (value === null ? null : toDate(value));
  return {
    id: row.id,
    repo: row.repo,
    requester: row.requester,
    database: row.database,
    tables: JSON.parse(row.tables) as string[],
    access: row.access as AccessKind,
    level: row.level,
    reason: row.reason,
    ticket: row.ticket,
    filePath: row.file_path,
    prNumber: row.pr_number,
    prUrl: row.pr_url,
    headSha: row.head_sha,
    mergeSha: row.merge_sha,
    approvers: JSON.parse(row.approvers) as Approver[],
    activatedAt: toDate(row.activated_at),
    expiresAt: toDate(row.expires_at),
    revokedAt: orNull(row.revoked_at),
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
    reminderSentAt: orNull(row.reminder_sent_at),
    revocationPrNumber: row.revocation_pr_number,
  };
}
