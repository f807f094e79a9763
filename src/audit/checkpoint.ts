import type { AuditLog } from './audit-log.js';
import type { AuditRecord } from './audit-record.js';

/**
 * Appends an `audit.checkpoint` record. The log writes the head it extends into its details
 * (`headSeq`: records so far, `headHash`: the hash of record headSeq), and the record's own
 * `hash` commits to every record before it. Streamed to a SIEM, checkpoints leave the
 * database: an attacker who rewrites the whole chain (recomputing every hash) cannot make the
 * external copies match again. See docs/audit.md, "Proving no wholesale rewrite".
 */
export async function writeCheckpoint(audit: AuditLog): Promise<AuditRecord> {
  return audit.append({ type: 'audit.checkpoint', actor: 'gatehouse' });
}

/** A checkpoint as kept outside the database (e.g. from the SIEM stream). */
export interface ExternalCheckpoint {
  readonly seq: number;
  readonly hash: string;
}

export type CheckpointComparison =
  | { readonly ok: true; readonly checked: number }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Compares externally held checkpoints with the log: each must still be in the log with the
 * same hash. Run it together with `verify()` (which proves the log is internally consistent);
 * together they show the log was neither edited nor rewritten wholesale up to the last
 * checkpoint.
 */
export async function compareCheckpoints(
  audit: AuditLog,
  external: readonly ExternalCheckpoint[],
): Promise<CheckpointComparison> {
  let checked = 0;
  for (const checkpoint of [...external].sort((a, b) => a.seq - b.seq)) {
    const [record] = await audit.query({ afterSeq: checkpoint.seq - 1, limit: 1 });
    if (record === undefined || record.seq !== checkpoint.seq) {
      return { ok: false, seq: checkpoint.seq, reason: `record ${checkpoint.seq} is gone` };
    }
    if (record.hash !== checkpoint.hash) {
      return {
        ok: false,
        seq: checkpoint.seq,
        reason: `record ${checkpoint.seq} has hash ${record.hash}, the external copy says ${checkpoint.hash}: the log was rewritten`,
      };
    }
    checked++;
  }
  return { ok: true, checked };
}
