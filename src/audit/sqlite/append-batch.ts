import type BetterSqlite3 from 'better-sqlite3';
import type { AuditEvent, AuditRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';
import { buildRecord, type ChainHead } from '../hash-chain.js';

export const AUDIT_COLUMNS = `seq, at, type, actor, "database", grant_ids, pr_numbers, pr_url,
  merge_sha, approvers, request_id, client_address, sql, sql_sha256, tables, decision, code,
  parent_seq, details, prev_hash, hash`;

/** One append waiting for a transaction; `at` is taken when the append is submitted. */
export interface PendingAppend {
  readonly event: AuditEvent;
  readonly at: Date;
}

/** Per append: its record, or why this one event was refused (a malformed event). */
export type AppendResult = { readonly record: AuditRecord } | { readonly refused: unknown };

/**
 * The append transaction, prepared on `db`: one BEGIN IMMEDIATE per batch, records chained in
 * submission order from the head read inside it, so the chain never forks even with other
 * connections or processes writing the same file (SQLite's single write lock serialises
 * them). Runs where the connection lives: inline on the event loop, or in the audit writer
 * thread (src/audit/sqlite/audit-writer-thread.ts). Throws when the transaction fails (it is
 * rolled back and the head does not move).
 */
export function prepareAppendBatch(
  db: BetterSqlite3.Database,
): (batch: readonly PendingAppend[]) => AppendResult[] {
  const head = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1');
  const insert = db.prepare(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (
    @seq, @at, @type, @actor, @database, @grantIds, @prNumbers, @prUrl, @mergeSha, @approvers,
    @requestId, @clientAddress, @sql, @sqlSha256, @tables, @decision, @code, @parentSeq,
    @details, @prevHash, @hash)`);
  const grantRef = db.prepare('INSERT INTO audit_grant_ref (grant_id, seq) VALUES (?, ?)');
  const prRef = db.prepare('INSERT INTO audit_pr_ref (pr_number, seq) VALUES (?, ?)');
  const advance = db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1');
  const tx = db.transaction((batch: readonly PendingAppend[]): AppendResult[] => {
    let current = head.get() as ChainHead;
    const results: AppendResult[] = [];
    for (const { event, at } of batch) {
      let record: AuditRecord;
      try {
        record = buildRecord(current, event, at);
      } catch (error) {
        // A malformed event (the caller's bug) is refused alone; the batch goes on.
        results.push({ refused: error });
        continue;
      }
      insert.run(toParams(record));
      for (const id of new Set(record.grantIds)) grantRef.run(id, record.seq);
      for (const pr of new Set(record.prNumbers)) prRef.run(pr, record.seq);
      // Per record: the head's trigger lets it advance by exactly one.
      advance.run(record.seq, record.hash);
      results.push({ record });
      current = record;
    }
    return results;
  });
  return (batch) => tx.immediate(batch);
}

function toParams(record: AuditRecord): Record<string, unknown> {
  return {
    seq: record.seq,
    at: record.at.getTime(),
    type: record.type,
    actor: record.actor,
    database: record.database ?? null,
    grantIds: JSON.stringify(record.grantIds ?? []),
    prNumbers: JSON.stringify(record.prNumbers ?? []),
    prUrl: record.prUrl ?? null,
    mergeSha: record.mergeSha ?? null,
    approvers: JSON.stringify(record.approvers ?? []),
    requestId: record.requestId ?? null,
    clientAddress: record.clientAddress ?? null,
    sql: record.sql ?? null,
    sqlSha256: record.sqlSha256 ?? null,
    tables: JSON.stringify(record.tables ?? []),
    decision: record.decision ?? null,
    code: record.code ?? null,
    parentSeq: record.parentSeq ?? null,
    details: canonicalJson(record.details ?? {}),
    prevHash: record.prevHash,
    hash: record.hash,
  };
}
