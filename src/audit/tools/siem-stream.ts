import type { AuditLog } from '../audit-log.js';
import { auditRecordJson } from './audit-record-json.js';
import { pageThrough } from './page-through.js';

export interface SiemStreamOptions {
  /** Emit records with seq > afterSeq (0: from the start). */
  readonly afterSeq: number;
  /** Keep polling for new records until `signal` aborts. */
  readonly follow: boolean;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal;
  /** Waits between polls; resolves early (or rejects) when the signal aborts. Injected so
   * tests never sleep. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Writes one JSON line; awaited, so a slow sink applies backpressure to the reader. */
  readonly write: (line: string) => Promise<void>;
}

/**
 * JSON lines of every audit record, in seq order, for a SIEM (issue 6). Each line is the
 * record's JSON form with its hashes, so the SIEM copy can be re-verified and, holding the
 * checkpoints, proves the database was not rewritten later (docs/audit.md). Resumable: the
 * caller passes the last seq it stored. Returns the last seq written (afterSeq if none).
 *
 * Following polls (keyset `seq > last`): the log is append-only and seq is gap-free, so
 * nothing is skipped or repeated, whichever replica appended.
 */
export async function streamAuditRecords(
  audit: AuditLog,
  options: SiemStreamOptions,
): Promise<{ readonly lastSeq: number; readonly written: number }> {
  let lastSeq = options.afterSeq;
  let written = 0;
  for (;;) {
    for await (const record of pageThrough(audit, { afterSeq: lastSeq })) {
      if (options.signal?.aborted) return { lastSeq, written };
      await options.write(`${JSON.stringify(auditRecordJson(record))}\n`);
      lastSeq = record.seq;
      written++;
    }
    if (!options.follow || options.signal?.aborted) return { lastSeq, written };
    try {
      await options.sleep(options.pollIntervalMs, options.signal);
    } catch (error) {
      if (options.signal?.aborted) return { lastSeq, written };
      throw error;
    }
    if (options.signal?.aborted) return { lastSeq, written };
  }
}
