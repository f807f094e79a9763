import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { GroupCommit } from '../../state/group-commit.js';
import { pageSize } from '../../state/page-size.js';
import { SQLITE_AUDIT_DELETE_GUARDS } from '../../state/sqlite/sqlite-migrations.js';
import { storeFailure } from '../../state/store-failure.js';
import type { Clock } from '../../util/clock.js';
import type { AuditFilter, AuditLog, ChainVerification } from '../audit-log.js';
import type { AuditPruning } from '../tools/prune.js';
import type { AuditEventType, AuditEvent, AuditRecord } from '../audit-record.js';
import { verifyChain, type ChainHead, type StoredRow } from '../hash-chain.js';
import {
  AUDIT_COLUMNS as COLUMNS,
  prepareAppendBatch,
  type AppendResult,
  type PendingAppend,
} from './append-batch.js';
import { AuditWriter } from './audit-writer.js';

interface AuditRow {
  seq: number;
  at: number;
  type: string;
  actor: string | null;
  database: string | null;
  grant_ids: string;
  pr_numbers: string;
  pr_url: string | null;
  merge_sha: string | null;
  approvers: string;
  request_id: string | null;
  client_address: string | null;
  sql: string | null;
  sql_sha256: string | null;
  tables: string;
  decision: string | null;
  code: string | null;
  parent_seq: number | null;
  details: string;
  prev_hash: string;
  hash: string;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** Appends waiting for the next transaction are committed together, up to this many (a
 * batch of gateway records is a few hundred KB of WAL at most). */
const MAX_BATCH = 256;

export interface SqliteAuditLogOptions {
  /** At most this many appends per transaction (default 256). */
  readonly maxBatch?: number;
  /** Called after each append transaction commits, with its number of records (tests and
   * benchmarks count transactions with it). */
  readonly onCommit?: (records: number) => void;
  /**
   * Where the append transactions run. 'inline' (the default, and always for an in-memory
   * database): on this connection, on the event loop. 'thread' (GATEHOUSE_SQLITE_AUDIT_WRITER
   * =thread): in the audit writer thread, on its own connection, so a COMMIT's fsync never
   * stops the event loop.
   */
  readonly writer?: 'inline' | 'thread';
}

/**
 * The audit log in SQLite, with group commit. Appends are queued and, once the event loop
 * has run the I/O callbacks already waiting (setImmediate), every queued append is written in
 * ONE BEGIN IMMEDIATE transaction (src/audit/sqlite/append-batch.ts): records chained in
 * submission order from the head read inside it, seqs contiguous. The database's single
 * write lock serialises writers across connections and processes, so the chain never forks.
 * With synchronous=FULL in WAL mode the COMMIT fsyncs the WAL, and each append's promise
 * resolves only after that COMMIT: an append is on disk when it resolves, and N concurrent
 * appends cost one fsync instead of N.
 *
 * Where the transaction runs (`writer`): better-sqlite3 is synchronous, so inline the event
 * loop stops for every COMMIT and its fsync (the default). With `writer: 'thread'` it runs
 * in the audit writer thread (audit-writer.ts) on a connection of its own: the loop keeps
 * serving requests while a batch commits, and the appends that arrive meanwhile form the
 * next batch. Which is faster depends on the cores to spare (docs/state.md, bench/).
 * A failed transaction is rolled back (the head does not move) and rejects every append of
 * its batch with AUDIT_UNAVAILABLE; so does a writer thread that stops.
 */
export class SqliteAuditLog implements AuditLog, AuditPruning {
  readonly #db: BetterSqlite3.Database;
  readonly #clock: Clock;
  readonly #batches: GroupCommit<PendingAppend, AppendResult>;
  readonly #rows: BetterSqlite3.Statement;
  readonly #rowsUpTo: BetterSqlite3.Statement;
  readonly #head: BetterSqlite3.Statement;
  readonly #anchor: BetterSqlite3.Statement;
  readonly #writer: AuditWriter | undefined;

  constructor(db: BetterSqlite3.Database, clock: Clock, options: SqliteAuditLogOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    const head = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1');
    const useThread = options.writer === 'thread' && !db.memory;
    this.#writer = useThread
      ? new AuditWriter({
          path: db.name,
          busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
          synchronous: Number(db.pragma('synchronous', { simple: true })),
        })
      : undefined;
    const writer = this.#writer;
    const write: (batch: readonly PendingAppend[]) => AppendResult[] | Promise<AppendResult[]> =
      writer === undefined ? prepareAppendBatch(db) : (batch) => writer.write(batch);
    const onCommit = options.onCommit;
    this.#batches = new GroupCommit(
      async (batch) => {
        let results: AppendResult[];
        try {
          results = await write(batch);
        } catch (error) {
          throw storeFailure('AUDIT_UNAVAILABLE', 'audit append failed', error);
        }
        onCommit?.(results.filter((r) => 'record' in r).length);
        return results;
      },
      options.maxBatch ?? MAX_BATCH,
      () => yieldToEventLoop(),
    );
    this.#head = head;
    this.#anchor = db.prepare('SELECT seq, hash FROM audit_anchor WHERE id = 1');
    this.#rows = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.#rowsUpTo = db.prepare(
      `SELECT ${COLUMNS} FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    );
  }

  async append(event: AuditEvent, at?: Date): Promise<AuditRecord> {
    const result = await this.#batches.submit({ event, at: at ?? this.#clock() });
    if ('refused' in result) {
      throw storeFailure('AUDIT_UNAVAILABLE', 'audit append failed', result.refused);
    }
    return result.record;
  }

  /** Commits every append still queued and waits for those in flight, then stops the writer
   * thread (the state calls it before closing the database). */
  async close(): Promise<void> {
    await this.#batches.flushQueued();
    await this.#batches.settled();
    await this.#writer?.close();
  }

  /**
   * Retention (issue 6): deletes every record before the `audit.checkpoint` at `checkpointSeq`
   * and moves the anchor to it, in one write transaction that drops the DELETE guards and
   * recreates them before it commits, so no other connection ever sees the log unguarded.
   * Throws RangeError when `checkpointSeq` is not a checkpoint or nothing lies before it.
   */
  async pruneBefore(
    checkpointSeq: number,
  ): Promise<{ readonly deleted: number; readonly anchor: ChainHead }> {
    const db = this.#db;
    const prune = db.transaction(() => {
      const anchor = this.#anchor.get() as ChainHead;
      const checkpoint = db
        .prepare('SELECT type, prev_hash FROM audit_log WHERE seq = ?')
        .get(checkpointSeq) as { type: string; prev_hash: string } | undefined;
      if (checkpoint?.type !== 'audit.checkpoint') {
        throw new RangeError(`record ${checkpointSeq} is not an audit.checkpoint`);
      }
      if (checkpointSeq <= anchor.seq + 1) {
        throw new RangeError(`checkpoint ${checkpointSeq} is already the first retained record`);
      }
      for (const guard of SQLITE_AUDIT_DELETE_GUARDS) db.exec(`DROP TRIGGER ${guard.name}`);
      db.prepare('DELETE FROM audit_grant_ref WHERE seq < ?').run(checkpointSeq);
      db.prepare('DELETE FROM audit_pr_ref WHERE seq < ?').run(checkpointSeq);
      const deleted = db.prepare('DELETE FROM audit_log WHERE seq < ?').run(checkpointSeq).changes;
      for (const guard of SQLITE_AUDIT_DELETE_GUARDS) db.exec(guard.sql);
      const moved = { seq: checkpointSeq - 1, hash: checkpoint.prev_hash };
      db.prepare('UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1').run(
        moved.seq,
        moved.hash,
      );
      return { deleted, anchor: moved };
    });
    try {
      return prune.immediate();
    } catch (error) {
      if (error instanceof RangeError) throw error;
      throw storeFailure('STATE_UNAVAILABLE', 'audit prune failed', error);
    }
  }

  async query(filter: AuditFilter): Promise<readonly AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
    if (filter.actor !== undefined) add('actor = ?', filter.actor);
    if (filter.database !== undefined) add('"database" = ?', filter.database);
    if (filter.since !== undefined) add('at >= ?', filter.since.getTime());
    if (filter.until !== undefined) add('at < ?', filter.until.getTime());
    if (filter.decision !== undefined) add('decision = ?', filter.decision);
    if (filter.grantId !== undefined) {
      add('seq IN (SELECT seq FROM audit_grant_ref WHERE grant_id = ?)', filter.grantId);
    }
    if (filter.prNumber !== undefined) {
      add('seq IN (SELECT seq FROM audit_pr_ref WHERE pr_number = ?)', filter.prNumber);
    }
    if (filter.types !== undefined) {
      if (filter.types.length === 0) return [];
      add(`type IN (${filter.types.map(() => '?').join(', ')})`, ...filter.types);
    }
    let sql = `SELECT ${COLUMNS} FROM audit_log`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ' ORDER BY seq LIMIT ?';
    params.push(pageSize(filter.limit, DEFAULT_LIMIT, MAX_LIMIT));
    try {
      return (this.#db.prepare(sql).all(...params) as AuditRow[]).map(toRecord);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'audit query failed', error);
    }
  }

  async verify(): Promise<ChainVerification> {
    try {
      return await verifyChain({
        rows: async (afterSeq, limit, upToSeq) => {
          // better-sqlite3 is synchronous: let the event loop breathe between batches.
          await yieldToEventLoop();
          const rows = (
            upToSeq === undefined
              ? this.#rows.all(afterSeq, limit)
              : this.#rowsUpTo.all(afterSeq, upToSeq, limit)
          ) as AuditRow[];
          return rows.map(toStoredRow);
        },
        anchor: async () => this.#anchor.get() as ChainHead,
        head: async () => this.#head.get() as ChainHead,
      });
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'audit verify failed', error);
    }
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: new Date(row.at),
    type: row.type as AuditEventType,
    actor: row.actor,
    database: row.database,
    grantIds: JSON.parse(row.grant_ids) as string[],
    prNumbers: JSON.parse(row.pr_numbers) as number[],
    prUrl: row.pr_url,
    mergeSha: row.merge_sha,
    approvers: JSON.parse(row.approvers) as string[],
    requestId: row.request_id,
    clientAddress: row.client_address,
    sql: row.sql,
    sqlSha256: row.sql_sha256,
    tables: JSON.parse(row.tables) as string[],
    decision: row.decision,
    code: row.code,
    parentSeq: row.parent_seq,
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function toStoredRow(row: AuditRow): StoredRow {
  try {
    const record = toRecord(row);
    if (Number.isNaN(record.at.getTime())) throw new Error(`invalid time ${String(row.at)}`);
    return record;
  } catch (error) {
    return { seq: row.seq, unreadable: error instanceof Error ? error.message : String(error) };
  }
}
