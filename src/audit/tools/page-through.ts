import type { AuditFilter, AuditLog } from '../audit-log.js';
import type { AuditRecord } from '../audit-record.js';
import { MAX_PAGE } from './audit-filter-input.js';

/**
 * Every record matching `filter`, in seq order, read a page at a time by keyset pagination
 * (`seq > last seen`), so memory stays flat however long the log is and records appended
 * meanwhile are picked up rather than skipped or repeated. `limit` caps the total (not the
 * page size); unset means all.
 */
export async function* pageThrough(
  audit: AuditLog,
  filter: AuditFilter,
  limit?: number,
): AsyncGenerator<AuditRecord> {
  let afterSeq = filter.afterSeq ?? 0;
  let remaining = limit ?? Number.POSITIVE_INFINITY;
  while (remaining > 0) {
    const requested = Math.min(MAX_PAGE, remaining);
    const page = await audit.query({ ...filter, afterSeq, limit: requested });
    for (const record of page) yield record;
    const last = page.at(-1);
    if (last === undefined || page.length < requested) return;
    remaining -= page.length;
    afterSeq = last.seq;
  }
}
