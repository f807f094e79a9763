/**
 * An in-memory AuditLog that also offers the retention delete (AuditPruning), for testing the
 * prune flow end to end until the SQLite and PostgreSQL stores expose it. It follows the
 * stores' contract (buildRecord for appends, the same filters) and verifies from its anchor.
 */
import type { AuditFilter, AuditLog, ChainVerification } from '../../../src/audit/audit-log.js';
import type { AuditEvent, AuditRecord } from '../../../src/audit/audit-record.js';
import {
  buildRecord,
  chainHash,
  GENESIS_HASH,
  type ChainHead,
} from '../../../src/audit/hash-chain.js';
import type { AuditPruning } from '../../../src/audit/tools/prune.js';
import type { Clock } from '../../../src/util/clock.js';

export class MemoryAuditLog implements AuditLog, AuditPruning {
  records: AuditRecord[] = [];
  anchor: ChainHead = { seq: 0, hash: GENESIS_HASH };
  head: ChainHead = { seq: 0, hash: GENESIS_HASH };

  constructor(private readonly clock: Clock) {}

  async append(event: AuditEvent, at?: Date): Promise<AuditRecord> {
    const record = buildRecord(this.head, event, at ?? this.clock());
    this.records.push(record);
    this.head = { seq: record.seq, hash: record.hash };
    return record;
  }

  async query(filter: AuditFilter): Promise<readonly AuditRecord[]> {
    if (filter.types !== undefined && filter.types.length === 0) return [];
    return this.records
      .filter(
        (r) =>
          (filter.afterSeq === undefined || r.seq > filter.afterSeq) &&
          (filter.actor === undefined || r.actor === filter.actor) &&
          (filter.database === undefined || r.database === filter.database) &&
          (filter.since === undefined || r.at >= filter.since) &&
          (filter.until === undefined || r.at < filter.until) &&
          (filter.decision === undefined || r.decision === filter.decision) &&
          (filter.grantId === undefined || (r.grantIds ?? []).includes(filter.grantId)) &&
          (filter.prNumber === undefined || (r.prNumbers ?? []).includes(filter.prNumber)) &&
          (filter.types === undefined || filter.types.includes(r.type)),
      )
      .slice(0, Math.min(filter.limit ?? 100, 1000));
  }

  async verify(): Promise<ChainVerification> {
    let prev = this.anchor;
    let records = 0;
    for (const record of this.records) {
      const broken = (problem: 'missing' | 'unlinked' | 'edited', reason: string) =>
        ({ ok: false, records, firstBrokenSeq: prev.seq + 1, problem, reason }) as const;
      if (record.seq !== prev.seq + 1)
        return broken('missing', `record ${prev.seq + 1} is missing`);
      if (record.prevHash !== prev.hash) return broken('unlinked', `record ${record.seq} unlinked`);
      if (chainHash(prev.hash, record) !== record.hash) {
        return broken('edited', `record ${record.seq} was edited`);
      }
      prev = { seq: record.seq, hash: record.hash };
      records++;
    }
    return { ok: true, records, head: prev.hash };
  }

  async pruneBefore(checkpointSeq: number): Promise<{ deleted: number; anchor: ChainHead }> {
    const checkpoint = this.records.find((r) => r.seq === checkpointSeq);
    if (checkpoint?.type !== 'audit.checkpoint') throw new Error('not a checkpoint');
    const before = this.records.length;
    this.records = this.records.filter((r) => r.seq >= checkpointSeq);
    this.anchor = { seq: checkpointSeq - 1, hash: checkpoint.prevHash };
    return { deleted: before - this.records.length, anchor: this.anchor };
  }
}
