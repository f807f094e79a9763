import type { AuditLog } from '../audit-log.js';
import type { AuditRecord } from '../audit-record.js';
import type { ChainHead } from '../hash-chain.js';
import { logAnchor } from './export-segment.js';
import { pageThrough } from './page-through.js';

/**
 * What retention needs from a store, beyond AuditLog: one controlled delete that bypasses the
 * append-only protection (the PostgreSQL migration reserves a SECURITY DEFINER function for
 * it; triggers are never dropped). A store that offers it:
 *
 * - deletes, in one transaction, every record with seq < `checkpointSeq` (and their lookup
 *   rows), where `checkpointSeq` is an `audit.checkpoint` record; the checkpoint itself stays,
 *   as the first record of the log;
 * - keeps the anchor `{ seq: checkpointSeq - 1, hash: <that checkpoint's prevHash> }`, and its
 *   `verify()` then checks the chain from that anchor instead of from genesis (the retained
 *   checkpoint's details name the same head, so the anchor is also provable from the record);
 * - refuses (throws) when `checkpointSeq` is not a checkpoint, or lies before the anchor.
 */
export interface AuditPruning {
  pruneBefore(
    checkpointSeq: number,
  ): Promise<{ readonly deleted: number; readonly anchor: ChainHead }>;
}

export function supportsPrune(audit: AuditLog): audit is AuditLog & AuditPruning {
  return typeof (audit as Partial<AuditPruning>).pruneBefore === 'function';
}

export type PruneOutcome =
  | {
      readonly pruned: true;
      readonly deleted: number;
      readonly anchor: ChainHead;
      /** The retained checkpoint, now the first record of the log. */
      readonly checkpoint: AuditRecord;
      /** The record that puts the prune itself on the record. */
      readonly audit: AuditRecord;
    }
  | {
      readonly pruned: false;
      readonly reason: 'no_checkpoint' | 'nothing_before';
      readonly message: string;
    };

/** The last `audit.checkpoint` with `at` at or before `until`, if any. */
export async function lastCheckpointAtOrBefore(
  audit: AuditLog,
  until: Date,
): Promise<AuditRecord | null> {
  let last: AuditRecord | null = null;
  for await (const record of pageThrough(audit, {
    types: ['audit.checkpoint'],
    until: new Date(until.getTime() + 1),
  })) {
    last = record;
  }
  return last;
}

/**
 * Deletes the records before the last checkpoint at or before `until`, keeping that
 * checkpoint, so the log stays verifiable from it; then appends a checkpoint that records
 * who pruned what (details.prune). Export the same `--until` first: the export holds every
 * record the prune removes (docs/audit.md, "Retention").
 */
export async function pruneAuditLog(
  audit: AuditLog & AuditPruning,
  until: Date,
  actor: string,
): Promise<PruneOutcome> {
  const checkpoint = await lastCheckpointAtOrBefore(audit, until);
  if (checkpoint === null) {
    return {
      pruned: false,
      reason: 'no_checkpoint',
      message: `no audit.checkpoint at or before ${until.toISOString()}: pruning without one would leave a chain nobody can anchor. Checkpoints are written periodically by the service.`,
    };
  }
  const anchor = await logAnchor(audit);
  if (checkpoint.seq <= anchor.seq + 1) {
    return {
      pruned: false,
      reason: 'nothing_before',
      message: `checkpoint ${checkpoint.seq} is already the first record: nothing to prune`,
    };
  }
  let result: { readonly deleted: number; readonly anchor: ChainHead };
  try {
    result = await audit.pruneBefore(checkpoint.seq);
  } catch (error) {
    // The stores refuse with a RangeError when another prune moved the anchor meanwhile.
    if (!(error instanceof RangeError)) throw error;
    return { pruned: false, reason: 'nothing_before', message: error.message };
  }
  const record = await audit.append({
    type: 'audit.checkpoint',
    actor,
    details: {
      prune: {
        until: until.toISOString(),
        deleted: result.deleted,
        retainedCheckpointSeq: checkpoint.seq,
        anchorSeq: result.anchor.seq,
        anchorHash: result.anchor.hash,
      },
    },
  });
  return {
    pruned: true,
    deleted: result.deleted,
    anchor: result.anchor,
    checkpoint,
    audit: record,
  };
}
