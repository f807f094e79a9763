/** SQLite group commit of audit appends: appends waiting for the same turn of the event loop
 * share one BEGIN IMMEDIATE transaction (one fsync), each resolves only after that COMMIT,
 * the chain stays contiguous and valid, and a failed transaction rejects its whole batch
 * with AUDIT_UNAVAILABLE and leaves the head where it was. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-record.js';
import {
  SqliteAuditLog,
  type SqliteAuditLogOptions,
} from '../../src/audit/sqlite/sqlite-audit-log.js';
import { openState } from '../../src/state/open-state.js';
import { manualClock } from './support/samples.js';

function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'query.attempt',
    actor: 'alice',
    database: 'hr_prod',
    grantIds: [`g_${i % 3}`],
    prNumbers: [100 + (i % 2)],
    requestId: `req-${i}`,
    sql: `SELECT * FROM employee WHERE id = ${i}`,
    details: { n: i },
    ...overrides,
  };
}

describe.each(['inline', 'thread'] as const)('SQLite audit group commit (%s writer)', (writer) => {
  let dir: string;
  let path: string;
  const connections: Database.Database[] = [];

  /** A second connection on the same file, as another process or an attacker would hold. */
  function connect(): Database.Database {
    const db = new Database(path);
    connections.push(db);
    return db;
  }

  /** The shipped log on its own connection (pragmas as openState sets them), counting its
   * transactions through the commit hook. */
  function openLog(options: SqliteAuditLogOptions = {}, busyTimeoutMs = 5000) {
    const db = connect();
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const commits: number[] = [];
    const log = new SqliteAuditLog(db, manualClock(), {
      writer,
      ...options,
      onCommit: (records) => commits.push(records),
    });
    logs.push(log);
    return { log, commits };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-group-commit-'));
    path = join(dir, 'gatehouse.db');
    // Creates the file and runs the migrations.
    await (await openState({ kind: 'sqlite', path }, manualClock())).close();
  });

  const logs: SqliteAuditLog[] = [];

  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    for (const db of connections.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits concurrent appends together: contiguous seqs in order, a valid chain, fewer transactions', async () => {
    const { log, commits } = openLog();
    const reader = connect();
    const seen = reader.prepare('SELECT count(*) AS n FROM audit_log WHERE seq = ?');
    const committedBeforeResolve: boolean[] = [];
    const records = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        log.append(event(i)).then((record) => {
          // Resolved only after COMMIT: another connection already reads the record.
          committedBeforeResolve.push((seen.get(record.seq) as { n: number }).n === 1);
          return record;
        }),
      ),
    );
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(records.map((r) => r.requestId)).toEqual(
      Array.from({ length: 300 }, (_, i) => `req-${i}`),
    );
    expect(committedBeforeResolve.every(Boolean)).toBe(true);
    // 300 appends submitted in one turn: batches of at most 256.
    expect(commits).toEqual([256, 44]);
    expect(await log.verify()).toEqual({ ok: true, records: 300, head: records[299]!.hash });
  });

  it('groups appends of concurrent writers that each wait for their previous append', async () => {
    const { log, commits } = openLog();
    const writers = 8;
    const perWriter = 25;
    const seqs: number[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          seqs.push((await log.append(event(w * perWriter + i))).seq);
        }
      }),
    );
    const total = writers * perWriter;
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(commits.reduce((a, b) => a + b, 0)).toBe(total);
    expect(commits.length).toBeLessThan(total);
    expect(Math.max(...commits)).toBeGreaterThan(1);
    expect(await log.verify()).toMatchObject({ ok: true, records: total });
  });

  it('honours a smaller batch cap', async () => {
    const { log, commits } = openLog({ maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(event(i))));
    expect(commits).toEqual([4, 4, 2]);
    expect(await log.verify()).toMatchObject({ ok: true, records: 10 });
  });

  it('a failed transaction rejects every append of its batch and leaves the head where it was', async () => {
    const { log, commits } = openLog();
    const first = await log.append(event(0));
    // The database refuses one record in the middle of the next batch (a full disk or an
    // I/O error would fail the COMMIT the same way).
    connect().exec(`CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log WHEN NEW.actor = 'boom'
      BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    const batch = Array.from({ length: 10 }, (_, i) =>
      log.append(event(i + 1, i === 5 ? { actor: 'boom' } : {})).then(
        () => 'resolved',
        (error: unknown) => (error as { code?: string }).code,
      ),
    );
    expect(await Promise.all(batch)).toEqual(Array(10).fill('AUDIT_UNAVAILABLE'));
    expect(commits).toEqual([1]);
    const reader = connect();
    expect(reader.prepare('SELECT seq, hash FROM audit_head').get()).toEqual({
      seq: 1,
      hash: first.hash,
    });
    expect(reader.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 1 });
    expect(reader.prepare('SELECT count(*) AS n FROM audit_grant_ref').get()).toEqual({ n: 1 });

    // The next batch continues the chain from the unchanged head.
    const next = await Promise.all([log.append(event(20)), log.append(event(21))]);
    expect(next.map((r) => r.seq)).toEqual([2, 3]);
    expect(next[0]!.prevHash).toBe(first.hash);
    expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('rejects the whole batch when another connection holds the write lock', async () => {
    const { log } = openLog({}, 0);
    const holder = connect();
    holder.exec('BEGIN IMMEDIATE');
    const codes = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        log.append(event(i)).then(
          () => 'resolved',
          (error: unknown) => (error as { code?: string }).code,
        ),
      ),
    );
    expect(codes).toEqual(Array(5).fill('AUDIT_UNAVAILABLE'));
    holder.exec('ROLLBACK');
    expect((await log.append(event(9))).seq).toBe(1);
    expect(await log.verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('refuses a malformed event alone (TypeError); the rest of its batch is committed', async () => {
    const { log, commits } = openLog();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        log.append(event(i, i === 2 ? { details: 'not an object' as never } : {})).then(
          (record) => record.seq,
          (error: unknown) => (error instanceof TypeError ? 'TypeError' : error),
        ),
      ),
    );
    // A caller's bug surfaces as its TypeError (storeFailure passes it), as before batching.
    expect(results).toEqual([1, 2, 'TypeError', 3, 4]);
    expect(commits).toEqual([4]);
    expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
  });

  it('closing the state commits the appends still queued', async () => {
    const state = await openState({ kind: 'sqlite', path }, manualClock());
    const pending = [state.audit.append(event(1)), state.audit.append(event(2))];
    await state.close();
    expect((await Promise.all(pending)).map((r) => r.seq)).toEqual([1, 2]);
    const reopened = await openState({ kind: 'sqlite', path }, manualClock());
    expect(await reopened.audit.verify()).toMatchObject({ ok: true, records: 2 });
    await reopened.close();
  });
});
