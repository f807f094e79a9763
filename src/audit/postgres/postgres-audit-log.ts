import type pg from 'pg';
import { GroupCommit } from '../../state/group-commit.js';
import { pageSize } from '../../state/page-size.js';
import { storeFailure } from '../../state/store-failure.js';
import type { Clock } from '../../util/clock.js';
import type { AuditFilter, AuditLog, ChainVerification } from '../audit-log.js';
import type { AuditPruning } from '../tools/prune.js';
import type { AuditEvent, AuditEventType, AuditRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';
import {
  EMPTY_HEAD,
  buildRecord,
  verifyChain,
  type ChainHead,
  type StoredRow,
} from '../hash-chain.js';

interface AuditRow {
  seq: string;
  at: Date;
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
  parent_seq: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = `seq, at, type, actor, database, grant_ids, pr_numbers, pr_url, merge_sha,
  approvers, request_id, client_address, sql, sql_sha256, tables, decision, code, parent_seq,
  details, prev_hash, hash`;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** How long an append waits for the chain head before giving up (→ AUDIT_UNAVAILABLE, 503)
 * rather than hanging a request behind a stuck writer. */
const HEAD_LOCK_TIMEOUT = '10s';

/** Appends waiting while a transaction runs are committed together, up to this many. */
const MAX_BATCH = 64;

interface PendingAppend {
  readonly event: AuditEvent;
  readonly at: Date | undefined;
}

const LOCK_HEAD = 'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE';
// One call writes every record of a batch, its lookup rows and each step of the head
// (migration 4, gatehouse_audit_append_batch): one round trip per batch, not per record.
const APPEND_BATCH = {
  name: 'gatehouse_audit_append_batch',
  text: `SELECT gatehouse_audit_append_batch($1::bigint[], $2::timestamptz[], $3::text[],
    $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
    $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
    $18::bigint[], $19::text[], $20::text[], $21::text[])`,
};
const ROWS = {
  name: 'gatehouse_audit_rows',
  text: `SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
};
const ROWS_UP_TO = {
  name: 'gatehouse_audit_rows_up_to',
  text: `SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
};
const ANCHOR = {
  name: 'gatehouse_audit_anchor',
  text: 'SELECT seq, hash FROM audit_anchor WHERE id = 1',
};
const HEAD = {
  name: 'gatehouse_audit_head',
  text: 'SELECT seq, hash FROM audit_head WHERE id = 1',
};

/**
 * The audit log in PostgreSQL, written by every replica. Each append is a transaction that
 * locks the one-row chain head (SELECT … FOR UPDATE), so concurrent writers queue on that row:
 * each record gets the next seq and links to the record committed before it, and no writer
 * can lose another's record. The promise resolves after COMMIT (synchronous_commit on).
 * Within one replica, appends that arrive while a transaction runs share the next one
 * (group commit), so the head lock and the fsync are paid once per batch, not per record.
 */
export class PostgresAuditLog implements AuditLog, AuditPruning {
  readonly #pool: pg.Pool;
  readonly #clock: Clock;
  readonly #batches: GroupCommit<PendingAppend, AuditRecord>;

  constructor(pool: pg.Pool, clock: Clock) {
    this.#pool = pool;
    this.#clock = clock;
    this.#batches = new GroupCommit((batch) => this.#appendBatch(batch), MAX_BATCH);
  }

  async append(event: AuditEvent, at?: Date): Promise<AuditRecord> {
    // Malformed events are the caller's bug: refuse them alone, before they join a batch.
    buildRecord(EMPTY_HEAD, event, at ?? new Date(0));
    return this.#batches.submit({ event, at });
  }

  /** One transaction for a whole batch: begin and lock the head, chain the records, write
   * them all in one call, commit: 3 round trips per batch whatever its size. */
  async #appendBatch(batch: readonly PendingAppend[]): Promise<readonly AuditRecord[]> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw storeFailure('AUDIT_UNAVAILABLE', 'audit append failed', error);
    }
    let failure: Error | undefined;
    try {
      // One round trip: our own constant statements, so one simple-query string is fine.
      const opened = (await client.query(
        `BEGIN; SET LOCAL lock_timeout = '${HEAD_LOCK_TIMEOUT}'; ${LOCK_HEAD}`,
      )) as unknown as pg.QueryResult<{ seq: string; hash: string }>[];
      const head = opened[2]?.rows[0];
      if (head === undefined) throw new Error('audit_head row is missing');
      let current: ChainHead = { seq: Number(head.seq), hash: head.hash };
      const records: AuditRecord[] = [];
      for (const { event, at } of batch) {
        const record = buildRecord(current, event, at ?? this.#clock());
        records.push(record);
        current = record;
      }
      await client.query({ ...APPEND_BATCH, values: toColumns(records) });
      await client.query('COMMIT');
      return records;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => undefined);
      throw storeFailure('AUDIT_UNAVAILABLE', 'audit append failed', error);
    } finally {
      // After a failure the connection is discarded rather than trusted again.
      client.release(failure);
    }
  }

  /**
   * Retention (issue 6): deletes every record before the `audit.checkpoint` at `checkpointSeq`
   * and moves the anchor to it, through the one controlled SECURITY DEFINER function of
   * migration 2 (it holds the chain head, so appends wait). Throws RangeError when
   * `checkpointSeq` is not a checkpoint or nothing lies before it.
   */
  async pruneBefore(
    checkpointSeq: number,
  ): Promise<{ readonly deleted: number; readonly anchor: ChainHead }> {
    try {
      const result = await this.#pool.query<{
        deleted: string;
        anchor_seq: string;
        anchor_hash: string;
      }>('SELECT deleted, anchor_seq, anchor_hash FROM gatehouse_audit_prune_before($1)', [
        checkpointSeq,
      ]);
      const row = result.rows[0];
      if (row === undefined) throw new Error('the prune function returned nothing');
      return {
        deleted: Number(row.deleted),
        anchor: { seq: Number(row.anchor_seq), hash: row.anchor_hash },
      };
    } catch (error) {
      if ((error as { code?: unknown }).code === '22023') {
        throw new RangeError((error as Error).message);
      }
      throw storeFailure('STATE_UNAVAILABLE', 'audit prune failed', error);
    }
  }

  async query(filter: AuditFilter): Promise<readonly AuditRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (filter.afterSeq !== undefined) add((p) => `seq > ${p}`, filter.afterSeq);
    if (filter.actor !== undefined) add((p) => `actor = ${p}`, filter.actor);
    if (filter.database !== undefined) add((p) => `database = ${p}`, filter.database);
    if (filter.since !== undefined) add((p) => `at >= ${p}`, filter.since);
    if (filter.until !== undefined) add((p) => `at < ${p}`, filter.until);
    if (filter.decision !== undefined) add((p) => `decision = ${p}`, filter.decision);
    if (filter.grantId !== undefined) {
      add((p) => `seq IN (SELECT seq FROM audit_grant_ref WHERE grant_id = ${p})`, filter.grantId);
    }
    if (filter.prNumber !== undefined) {
      add((p) => `seq IN (SELECT seq FROM audit_pr_ref WHERE pr_number = ${p})`, filter.prNumber);
    }
    if (filter.types !== undefined) {
      if (filter.types.length === 0) return [];
      add((p) => `type = ANY(${p}::text[])`, [...filter.types]);
    }
    values.push(pageSize(filter.limit, DEFAULT_LIMIT, MAX_LIMIT));
    let text = `SELECT ${COLUMNS} FROM audit_log`;
    if (where.length > 0) text += ` WHERE ${where.join(' AND ')}`;
    text += ` ORDER BY seq LIMIT $${values.length}`;
    try {
      return (await this.#pool.query<AuditRow>(text, values)).rows.map(toRecord);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'audit query failed', error);
    }
  }

  async verify(): Promise<ChainVerification> {
    try {
      return await verifyChain({
        rows: async (afterSeq, limit, upToSeq) => {
          const result =
            upToSeq === undefined
              ? await this.#pool.query<AuditRow>({ ...ROWS, values: [afterSeq, limit] })
              : await this.#pool.query<AuditRow>({
                  ...ROWS_UP_TO,
                  values: [afterSeq, upToSeq, limit],
                });
          return result.rows.map(toStoredRow);
        },
        anchor: async () => this.#single(ANCHOR, 'audit_anchor'),
        head: async () => this.#single(HEAD, 'audit_head'),
      });
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'audit verify failed', error);
    }
  }

  async #single(query: pg.QueryConfig, table: string): Promise<ChainHead> {
    const row = (await this.#pool.query<{ seq: string; hash: string }>(query)).rows[0];
    if (row === undefined) throw new Error(`${table} row is missing`);
    return { seq: Number(row.seq), hash: row.hash };
  }
}

/** The batch as one array per column, in the order of APPEND_BATCH's parameters. */
function toColumns(records: readonly AuditRecord[]): unknown[][] {
  const row = (record: AuditRecord): unknown[] => [
    record.seq,
    record.at,
    record.type,
    record.actor,
    record.database ?? null,
    JSON.stringify(record.grantIds ?? []),
    JSON.stringify(record.prNumbers ?? []),
    record.prUrl ?? null,
    record.mergeSha ?? null,
    JSON.stringify(record.approvers ?? []),
    record.requestId ?? null,
    record.clientAddress ?? null,
    record.sql ?? null,
    record.sqlSha256 ?? null,
    JSON.stringify(record.tables ?? []),
    record.decision ?? null,
    record.code ?? null,
    record.parentSeq ?? null,
    canonicalJson(record.details ?? {}),
    record.prevHash,
    record.hash,
  ];
  const rows = records.map(row);
  return Array.from({ length: 21 }, (_, column) => rows.map((values) => values[column]));
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
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
    parentSeq: row.parent_seq === null ? null : Number(row.parent_seq),
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function toStoredRow(row: AuditRow): StoredRow {
  try {
    return toRecord(row);
  } catch (error) {
    return {
      seq: Number(row.seq),
      unreadable: error instanceof Error ? error.message : String(error),
    };
  }
}
