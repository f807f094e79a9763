/**
 * The audit hash chain (issue 6, "Tamper evidence"), shared by every AuditLog adapter.
 *
 *   hash = sha256_hex(prevHash + "\n" + canonicalJson(content))
 *
 * where `content` is the record without `prevHash` and `hash` (seq and at included, every field
 * present, unset ones as null / [] / {}), `at` as an ISO 8601 UTC string with milliseconds, and
 * the first record's prevHash is 64 zeros. docs/audit.md shows how to recompute it by hand.
 */
import { createHash } from 'node:crypto';
import type { ChainProblem, ChainVerification } from './audit-log.js';
import type { AuditEvent, AuditRecord } from './audit-record.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The last record of the chain: its seq (0 when empty) and hash (GENESIS_HASH when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** A stored record as the verifier sees it: either readable, or a row an adapter could not
 * decode (e.g. JSON columns overwritten with garbage), which is a break in itself. */
export type StoredRow = AuditRecord | { readonly seq: number; readonly unreadable: string };

/** The hashed content of a record: everything except prevHash and hash. */
export function auditContent(record: AuditRecord): Record<string, unknown> {
  return {
    seq: record.seq,
    at: record.at.toISOString(),
    type: record.type,
    actor: record.actor,
    database: record.database ?? null,
    grantIds: record.grantIds ?? [],
    prNumbers: record.prNumbers ?? [],
    prUrl: record.prUrl ?? null,
    mergeSha: record.mergeSha ?? null,
    approvers: record.approvers ?? [],
    requestId: record.requestId ?? null,
    clientAddress: record.clientAddress ?? null,
    sql: record.sql ?? null,
    sqlSha256: record.sqlSha256 ?? null,
    tables: record.tables ?? [],
    decision: record.decision ?? null,
    code: record.code ?? null,
    parentSeq: record.parentSeq ?? null,
    details: record.details ?? {},
  };
}

export function chainHash(prevHash: string, record: AuditRecord): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson(auditContent(record))}`, 'utf8')
    .digest('hex');
}

/**
 * The record that extends `head` with `event`. Every field is filled (unset → null, [] or {}),
 * and details are normalised through JSON so the stored, re-read record hashes identically.
 * For `audit.checkpoint` the log itself writes the head it extends into details (headSeq,
 * headHash): exact even with concurrent writers, and carried to the SIEM with the record.
 */
export function buildRecord(head: ChainHead, event: AuditEvent, at: Date): AuditRecord {
  if (Number.isNaN(at.getTime())) throw new TypeError('audit: invalid date');
  const details = normaliseDetails(event.details);
  const record: AuditRecord = {
    seq: head.seq + 1,
    at: new Date(at.getTime()),
    type: event.type,
    actor: event.actor,
    database: event.database ?? null,
    grantIds: strings('grantIds', event.grantIds),
    prNumbers: integers('prNumbers', event.prNumbers),
    prUrl: event.prUrl ?? null,
    mergeSha: event.mergeSha ?? null,
    approvers: strings('approvers', event.approvers),
    requestId: event.requestId ?? null,
    clientAddress: event.clientAddress ?? null,
    sql: event.sql ?? null,
    sqlSha256: event.sqlSha256 ?? null,
    tables: strings('tables', event.tables),
    decision: event.decision ?? null,
    code: event.code ?? null,
    parentSeq: event.parentSeq ?? null,
    details:
      event.type === 'audit.checkpoint'
        ? { ...details, headSeq: head.seq, headHash: head.hash }
        : details,
    prevHash: head.hash,
    hash: '',
  };
  if (record.parentSeq !== null && !Number.isSafeInteger(record.parentSeq)) {
    throw new TypeError('audit: parentSeq must be an integer');
  }
  return { ...record, hash: chainHash(head.hash, record) };
}

function normaliseDetails(
  details: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> {
  if (details === undefined) return {};
  const plain: unknown = JSON.parse(JSON.stringify(details));
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new TypeError('audit: details must be an object');
  }
  return plain as Record<string, unknown>;
}

function strings(field: string, values: readonly string[] | undefined): readonly string[] {
  const out = [...(values ?? [])];
  if (!out.every((v) => typeof v === 'string')) {
    throw new TypeError(`audit: ${field} must hold strings`);
  }
  return out;
}

function integers(field: string, values: readonly number[] | undefined): readonly number[] {
  const out = [...(values ?? [])];
  if (!out.every((v) => Number.isSafeInteger(v))) {
    throw new TypeError(`audit: ${field} must hold integers`);
  }
  return out;
}

/** What verifyChain reads, supplied by the adapter (the octokit/webhooks pattern: the logic
 * takes its I/O as small functions). */
export interface ChainSource {
  /** Up to `limit` rows with seq > afterSeq (and <= upToSeq when given), in seq order. */
  rows(afterSeq: number, limit: number, upToSeq?: number): Promise<readonly StoredRow[]>;
  /** Where the retained log starts: EMPTY_HEAD, or after a retention prune the retained
   * checkpoint's predecessor (seq and hash), so the chain is verified from there. */
  anchor(): Promise<ChainHead>;
  /** The head as stored next to the log (updated in the same transaction as each append). */
  head(): Promise<ChainHead>;
}

const BATCH = 1000;

/**
 * Streams the log in seq order from its anchor and recomputes every hash; stops at the FIRST
 * broken record. The first retained record must link to the anchor (after a prune it is the
 * retained checkpoint, whose details name the same head, so the anchor is provable).
 *
 * Rows are read before the head; since a record and the head move in one transaction, the
 * head read afterwards covers every row seen, so records appended meanwhile are not mistaken
 * for tampering, and a head that is behind the rows means records were forged past it.
 */
export async function verifyChain(source: ChainSource): Promise<ChainVerification> {
  const anchor = await source.anchor();
  let expectedSeq = anchor.seq + 1;
  let prevHash = anchor.hash;
  let previous: AuditRecord | null = null;
  let records = 0;
  const broken = (firstBrokenSeq: number, problem: ChainProblem, reason: string) =>
    ({ ok: false, records, firstBrokenSeq, problem, reason }) as const;

  const pass = async (upToSeq?: number): Promise<ChainVerification | null> => {
    for (;;) {
      const batch = await source.rows(expectedSeq - 1, BATCH, upToSeq);
      if (batch.length === 0) return null;
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!;
        if (row.seq !== expectedSeq) {
          const last = row.seq - 1;
          return broken(
            expectedSeq,
            'missing',
            last === expectedSeq
              ? `record ${expectedSeq} is missing (deleted): ${expectedSeq - 1} is followed by ${row.seq}`
              : `records ${expectedSeq}..${last} are missing (deleted): ${expectedSeq - 1} is followed by ${row.seq}`,
          );
        }
        if ('unreadable' in row) {
          return broken(
            row.seq,
            'unreadable',
            `record ${row.seq} cannot be read: ${row.unreadable}`,
          );
        }
        if (row.prevHash !== prevHash) {
          const next = batch[i + 1];
          if (next !== undefined && !('unreadable' in next) && next.prevHash === prevHash) {
            return broken(
              row.seq,
              'reordered',
              `records ${row.seq} and ${next.seq} are out of order: ${next.seq} links to ${row.seq - 1}`,
            );
          }
          if (previous !== null && row.prevHash === previous.prevHash) {
            return broken(
              previous.seq,
              'inserted',
              `record ${previous.seq} was inserted: record ${row.seq} links to ${previous.seq - 1}`,
            );
          }
          return broken(
            row.seq,
            'unlinked',
            `record ${row.seq} does not link to record ${row.seq - 1} (prev_hash differs): a record ` +
              `was removed or inserted before it, or record ${row.seq - 1} was rewritten`,
          );
        }
        if (chainHash(prevHash, row) !== row.hash) {
          return broken(
            row.seq,
            'edited',
            `record ${row.seq} was edited: its content does not match its hash`,
          );
        }
        if (
          row.type === 'audit.checkpoint' &&
          (row.details?.['headSeq'] !== row.seq - 1 || row.details?.['headHash'] !== row.prevHash)
        ) {
          return broken(
            row.seq,
            'checkpoint_mismatch',
            `checkpoint ${row.seq} does not name the head it extends`,
          );
        }
        previous = row;
        prevHash = row.hash;
        expectedSeq++;
        records++;
      }
    }
  };

  const first = await pass();
  if (first) {
    // A prune that committed between reading the anchor and the first rows is not tampering.
    if (records === 0 && !first.ok && first.problem === 'missing') {
      const moved = await source.anchor();
      if (moved.seq !== anchor.seq) return verifyChain(source);
    }
    return first;
  }
  const head = await source.head();
  if (head.seq > expectedSeq - 1) {
    // Appended while we streamed, or removed from the tail: read up to the head and decide.
    const second = await pass(head.seq);
    if (second) return second;
    if (expectedSeq - 1 < head.seq) {
      return broken(
        expectedSeq,
        'missing',
        `records ${expectedSeq}..${head.seq} are missing (deleted from the end): the head is at ${head.seq}`,
      );
    }
  }
  if (head.seq < expectedSeq - 1) {
    return broken(
      head.seq + 1,
      'inserted',
      `record ${head.seq + 1} lies beyond the recorded head (${head.seq}): records were added outside the log`,
    );
  }
  if (head.hash !== prevHash) {
    return broken(
      head.seq,
      'head_mismatch',
      `the recorded head hash differs from record ${head.seq}'s hash: it was rewritten with a recomputed hash`,
    );
  }
  return { ok: true, records, head: prevHash };
}
