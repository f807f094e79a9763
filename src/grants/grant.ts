import type { AccessKind } from '../requests/access-request.js';

export interface Approver {
  readonly login: string;
  readonly reviewId: number;
}

/** A grant: one merged, sufficiently approved request file. Derived from git; the store is an index. */
export interface Grant {
  /** Deterministic: `g_` + first 20 hex of sha256(`${repo}\n${filePath}\n${mergeSha}`). */
  readonly id: string;
  readonly repo: string;
  readonly requester: string;
  readonly database: string;
  readonly tables: readonly string[];
  readonly access: AccessKind;
  readonly level: string;
  readonly reason: string;
  readonly ticket: string | null;
  readonly filePath: string;
  readonly prNumber: number;
  readonly prUrl: string;
  readonly headSha: string;
  readonly mergeSha: string;
  readonly approvers: readonly Approver[];
  readonly activatedAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
  /** Expiry bookkeeping for the sweeper. */
  readonly reminderSentAt: Date | null;
  readonly revocationPrNumber: number | null;
}

export type NewGrant = Omit<
  Grant,
  'revokedAt' | 'revokedBy' | 'revokeReason' | 'reminderSentAt' | 'revocationPrNumber'
>;

/** A grant is usable while now < expiresAt and it is not revoked. Checked on every query. */
export function isGrantActive(grant: Grant, now: Date): boolean {
  return grant.revokedAt === null && now.getTime() < grant.expiresAt.getTime();
}
