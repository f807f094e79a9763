import type { AuditLog } from '../../audit/audit-log.js';
import type { AuditEvent, AuditRecord } from '../../audit/audit-record.js';

/**
 * Appends `event` unless the log already holds a record of the same type for the same key, so
 * a replayed webhook, a rerun job or reconcile racing a webhook leave ONE transition record
 * (issue 4: "one grant, one transition record"). Grant transitions that change the store are
 * already once-only (they are written only when `insert` says created or `revoke` says true);
 * this covers the transitions the grant store does not record (refusals, ignored pushes,
 * reminders, revocation PRs). Two writers racing between the query and the append can both
 * write; the leader lock and the per-PR lock make that window practically empty.
 */
export interface OnceKey {
  readonly grantId?: string;
  readonly prNumber?: number;
  readonly since?: Date;
  /** Further test on candidate records (e.g. the same pushed SHA). */
  readonly matches?: (record: AuditRecord) => boolean;
}

export async function appendOnce(
  audit: AuditLog,
  event: AuditEvent,
  key: OnceKey,
): Promise<boolean> {
  const found = await audit.query({
    types: [event.type],
    ...(key.grantId === undefined ? {} : { grantId: key.grantId }),
    ...(key.prNumber === undefined ? {} : { prNumber: key.prNumber }),
    ...(key.since === undefined ? {} : { since: key.since }),
    limit: 1000,
  });
  if (found.some((record) => key.matches?.(record) ?? true)) return false;
  await audit.append(event);
  return true;
}
