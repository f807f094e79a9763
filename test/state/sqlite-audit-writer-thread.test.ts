/** The audit writer thread (src/audit/sqlite/audit-writer.ts): what happens when it stops, when
 * it cannot open the file, and when an event cannot cross to it. Fail closed: an append whose
 * commit is not confirmed is rejected, never reported as written. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-record.js';
import { AuditWriter } from '../../src/audit/sqlite/audit-writer.js';
import { SqliteAuditLog } from '../../src/audit/sqlite/sqlite-audit-log.js';
import { openState } from '../../src/state/open-state.js';
import { manualClock } from './support/samples.js';

function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'query.attempt',
    actor: 'alice',
    database: 'hr_prod',
    requestId: `req-${i}`,
    sql: `SELECT ${i}`,
    details: { n: i },
    ...overrides,
  };
}

describe('SQLite audit writer thread', () => {
  let dir: string;
  let path: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-writer-'));
    path = join(dir, 'gatehouse.db');
    await (await openState({ kind: 'sqlite', path }, manualClock())).close();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function connect(): Database.Database {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    cleanups.push(() => {
      db.close();
    });
    return db;
  }

  it('rejects the appends in flight when the thread stops, and starts a new one for the next', async () => {
    const workers: Worker[] = [];
    const writer = new AuditWriter({ path, busyTimeoutMs: 5000, synchronous: 2 }, (w) =>
      workers.push(w),
    );
    cleanups.push(() => writer.close());
    const first = await writer.write([{ event: event(1), at: new Date(1000) }]);
    expect(first).toEqual([{ record: expect.objectContaining({ seq: 1 }) }]);

    // The thread dies while a batch is in flight (a crash, an OOM kill).
    const inFlight = writer.write([{ event: event(2), at: new Date(2000) }]);
    await workers[0]!.terminate();
    await expect(inFlight).rejects.toThrow(/exited/);

    const next = await writer.write([{ event: event(3), at: new Date(3000) }]);
    expect(workers).toHaveLength(2);
    // Whether the lost batch committed before the thread stopped is not known to the caller:
    // the chain is intact either way and continues from the committed head.
    const seq = (next[0] as { record: { seq: number } }).record.seq;
    expect([2, 3]).toContain(seq);
    const log = new SqliteAuditLog(connect(), manualClock());
    expect(await log.verify()).toMatchObject({ ok: true, records: seq });
  });

  it('answers AUDIT_UNAVAILABLE when the thread cannot open the state file', async () => {
    const db = connect();
    const log = new SqliteAuditLog(db, manualClock(), { writer: 'thread' });
    cleanups.push(() => log.close());
    rmSync(dir, { recursive: true, force: true });
    await expect(log.append(event(1))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });

  it('refuses alone an event that cannot cross to the thread; the rest of the batch is written', async () => {
    const log = new SqliteAuditLog(connect(), manualClock(), { writer: 'thread' });
    cleanups.push(() => log.close());
    const results = await Promise.all(
      [0, 1, 2].map((i) =>
        log.append(event(i, i === 1 ? { details: { callback: () => 1 } as never } : {})).then(
          (record) => record.seq,
          (error: unknown) => (error instanceof TypeError ? 'TypeError' : error),
        ),
      ),
    );
    expect(results).toEqual([1, 'TypeError', 2]);
    expect(await log.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('the records it writes are read back identically on the main connection', async () => {
    const log = new SqliteAuditLog(connect(), manualClock(), { writer: 'thread' });
    cleanups.push(() => log.close());
    const written = await log.append(
      event(7, { grantIds: ['g_1'], prNumbers: [12], tables: ['hr.employee'] }),
      new Date('2026-11-29T10:00:00.123Z'),
    );
    expect(written.at).toBeInstanceOf(Date);
    expect(await log.query({ grantId: 'g_1' })).toEqual([written]);
  });
});
