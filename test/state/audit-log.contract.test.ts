/** One contract for AuditLog, run over every adapter against real databases: appends,
 * queries, the hash chain and its tamper detection, append-only triggers, concurrency. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditRecord } from '../../src/audit/audit-record.js';
import { compareCheckpoints, writeCheckpoint } from '../../src/audit/checkpoint.js';
import { GENESIS_HASH, buildRecord } from '../../src/audit/hash-chain.js';
import { supportsPrune } from '../../src/audit/tools/prune.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from './support/adapters.js';
import { MINUTE, T0, at, manualClock } from './support/samples.js';

function queryEvent(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'query.attempt',
    actor: i % 2 === 0 ? 'alice' : 'bob',
    database: i % 3 === 0 ? 'analytics_prod' : 'hr_prod',
    grantIds: [`g_${String(i % 4).padStart(20, '0')}`],
    prNumbers: [100 + (i % 4)],
    prUrl: `https://github.com/acme/access/pull/${100 + (i % 4)}`,
    mergeSha: 'c'.repeat(40),
    approvers: ['dba-dora'],
    requestId: `req-${i}`,
    clientAddress: '10.0.0.7',
    sql: `SELECT * FROM employee WHERE id = ${i}`,
    sqlSha256: 'd'.repeat(64),
    tables: ['hr_prod.employee'],
    decision: i % 5 === 0 ? 'refused' : 'allowed',
    code: i % 5 === 0 ? 'SQL_TABLE_NOT_GRANTED' : null,
    details: { n: i, note: 'ünïcode ✓ "quoted"\n' },
    ...overrides,
  };
}

for (const adapter of ADAPTERS) {
  describe(`AuditLog contract (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;
    let clock: ReturnType<typeof manualClock>;

    beforeEach(async () => {
      fixture = await adapter.create();
      clock = manualClock();
      state = await openState(fixture.config, clock);
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
    });

    /** Appends `n` query records, one minute apart. */
    async function appendMany(n: number): Promise<AuditRecord[]> {
      const out: AuditRecord[] = [];
      for (let i = 1; i <= n; i++) {
        out.push(await state.audit.append(queryEvent(i), at(i * MINUTE)));
      }
      return out;
    }

    async function count(): Promise<number> {
      const rows = await fixture.adminQuery<{ n: number | string }>(
        'SELECT count(*) AS n FROM audit_log',
      );
      return Number(rows[0]?.n);
    }

    it('appends a complete, chained record and reads it back identically', async () => {
      const first = await state.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
      expect(first).toEqual({
        seq: 1,
        at: T0,
        type: 'config.reloaded',
        actor: 'gatehouse',
        database: null,
        grantIds: [],
        prNumbers: [],
        prUrl: null,
        mergeSha: null,
        approvers: [],
        requestId: null,
        clientAddress: null,
        sql: null,
        sqlSha256: null,
        tables: [],
        decision: null,
        code: null,
        parentSeq: null,
        details: {},
        prevHash: GENESIS_HASH,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      clock.advance(1234);
      const second = await state.audit.append({ ...queryEvent(7), parentSeq: 1 });
      expect(second.seq).toBe(2);
      expect(second.prevHash).toBe(first.hash);
      expect(second.at).toEqual(new Date(T0.getTime() + 1234));
      expect(await state.audit.query({})).toEqual([first, second]);
    });

    it('stores awkward text exactly, alone and in a concurrent batch (quotes, backslashes, braces, NULL, unicode)', async () => {
      const awkward = [
        `SELECT '"quoted"', 'it''s', E'\\n', '{a,b}', 'NULL', "x" FROM t -- ✓ 日本語`,
        'SELECT 1\n\tFROM dual\r\n/* } { , " \\ */',
        'NULL',
        '',
      ];
      const records = await Promise.all(
        awkward.map((sql, i) =>
          state.audit.append({
            ...queryEvent(i),
            sql,
            actor: `a"c\\tor,{${i}}`,
            grantIds: [`g"${i}`, 'g,{x}', `g"${i}`],
            prNumbers: [i + 1, 7],
            details: { text: sql, nested: { list: ['}', '"', '\\'] } },
          }),
        ),
      );
      expect(await state.audit.query({})).toEqual(records);
      expect(records.map((r) => r.sql)).toEqual(awkward);
      expect(await state.audit.query({ grantId: 'g,{x}' })).toHaveLength(awkward.length);
      expect(await state.audit.query({ prNumber: 7 })).toHaveLength(awkward.length);
      expect(await state.audit.verify()).toMatchObject({ ok: true, records: awkward.length });
    });

    it('filters by actor, database, since/until, decision, grant, PR and type', async () => {
      const all = await appendMany(20);
      await state.audit.append(
        { type: 'grant.activated', actor: 'gatehouse', grantIds: ['g_x'], prNumbers: [7] },
        at(30 * MINUTE),
      );
      const seqs = async (filter: Parameters<State['audit']['query']>[0]) =>
        (await state.audit.query(filter)).map((r) => r.seq);
      const expected = (pred: (r: AuditRecord) => boolean) => all.filter(pred).map((r) => r.seq);

      expect(await seqs({ actor: 'alice' })).toEqual(expected((r) => r.actor === 'alice'));
      expect(await seqs({ database: 'analytics_prod' })).toEqual(
        expected((r) => r.database === 'analytics_prod'),
      );
      expect(await seqs({ since: at(5 * MINUTE), until: at(8 * MINUTE) })).toEqual([5, 6, 7]);
      expect(await seqs({ decision: 'refused' })).toEqual([5, 10, 15, 20]);
      expect(await seqs({ grantId: 'g_00000000000000000001' })).toEqual([1, 5, 9, 13, 17]);
      expect(await seqs({ prNumber: 102 })).toEqual([2, 6, 10, 14, 18]);
      expect(await seqs({ grantId: 'g_x' })).toEqual([21]);
      expect(await seqs({ prNumber: 7 })).toEqual([21]);
      expect(await seqs({ types: ['grant.activated'] })).toEqual([21]);
      expect(await seqs({ types: ['grant.activated', 'query.attempt'] })).toHaveLength(21);
      expect(await seqs({ types: [] })).toEqual([]);
      expect(await seqs({ actor: 'alice', decision: 'refused' })).toEqual([10, 20]);
    });

    it('paginates by seq (keyset): default 100 per page, afterSeq continues', async () => {
      for (let i = 1; i <= 130; i++) await state.audit.append(queryEvent(i));
      const page1 = await state.audit.query({});
      expect(page1).toHaveLength(100);
      expect(page1[0]?.seq).toBe(1);
      const page2 = await state.audit.query({ afterSeq: page1.at(-1)!.seq });
      expect(page2.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i));
      expect(await state.audit.query({ afterSeq: 130 })).toEqual([]);
      const small = await state.audit.query({ actor: 'bob', afterSeq: 10, limit: 3 });
      expect(small.map((r) => r.seq)).toEqual([11, 13, 15]);
    });

    it('verifies an empty log and a long one', async () => {
      expect(await state.audit.verify()).toEqual({ ok: true, records: 0, head: GENESIS_HASH });
      const records = await appendMany(25);
      expect(await state.audit.verify()).toEqual({
        ok: true,
        records: 25,
        head: records.at(-1)!.hash,
      });
    });

    it('refuses UPDATE and DELETE of audit rows, and moving the head back, at the database', async () => {
      await appendMany(3);
      await expect(
        fixture.admin("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"),
      ).rejects.toThrow(/append-only/);
      await expect(fixture.admin('DELETE FROM audit_log WHERE seq = 3')).rejects.toThrow(
        /append-only/,
      );
      await expect(fixture.admin('DELETE FROM audit_grant_ref')).rejects.toThrow(/append-only/);
      await expect(fixture.admin('UPDATE audit_head SET seq = 2')).rejects.toThrow(/advances/);
      if (adapter.name === 'postgres') {
        await expect(fixture.admin('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      }
      expect(await count()).toBe(3);
      expect((await state.audit.verify()).ok).toBe(true);
    });

    describe('tamper evidence (the attacker first drops the protective triggers)', () => {
      beforeEach(async () => {
        await appendMany(10);
        await fixture.dropAuditProtection();
      });

      it('detects an edited row at its seq', async () => {
        await fixture.admin("UPDATE audit_log SET sql = 'SELECT 1' WHERE seq = 5");
        expect(await state.audit.verify()).toMatchObject({
          ok: false,
          records: 4,
          firstBrokenSeq: 5,
          problem: 'edited',
        });
      });

      it('detects an edited time', async () => {
        await fixture.admin('UPDATE audit_log SET at = ? WHERE seq = 3', [fixture.time(at(1))]);
        expect(await state.audit.verify()).toMatchObject({ firstBrokenSeq: 3, problem: 'edited' });
      });

      it('detects an edited row whose hash was recomputed, at the next record', async () => {
        const [r4] = await state.audit.query({ afterSeq: 3, limit: 1 });
        const [r5] = await state.audit.query({ afterSeq: 4, limit: 1 });
        const forged = buildRecord({ seq: 4, hash: r4!.hash }, { ...r5!, sql: 'SELECT 1' }, r5!.at);
        await fixture.admin('UPDATE audit_log SET sql = ?, hash = ? WHERE seq = 5', [
          forged.sql,
          forged.hash,
        ]);
        expect(await state.audit.verify()).toMatchObject({
          firstBrokenSeq: 6,
          problem: 'unlinked',
        });
      });

      it('detects a deleted row (seq gap) at the missing seq', async () => {
        await fixture.admin('DELETE FROM audit_log WHERE seq = 5');
        expect(await state.audit.verify()).toMatchObject({
          ok: false,
          records: 4,
          firstBrokenSeq: 5,
          problem: 'missing',
        });
      });

      it('detects a deleted row when later rows were renumbered to close the gap', async () => {
        await fixture.admin('DELETE FROM audit_log WHERE seq = 5');
        for (let seq = 6; seq <= 10; seq++) {
          await fixture.admin('UPDATE audit_log SET seq = ? WHERE seq = ?', [seq - 1, seq]);
        }
        await fixture.admin('UPDATE audit_head SET seq = 9');
        expect(await state.audit.verify()).toMatchObject({
          firstBrokenSeq: 5,
          problem: 'unlinked',
        });
      });

      it('detects rows deleted from the end through the recorded head', async () => {
        await fixture.admin('DELETE FROM audit_log WHERE seq >= 9');
        expect(await state.audit.verify()).toMatchObject({
          records: 8,
          firstBrokenSeq: 9,
          problem: 'missing',
        });
      });

      it('detects an inserted row (a perfectly hashed forgery, later rows shifted) at its seq', async () => {
        for (let seq = 10; seq >= 5; seq--) {
          await fixture.admin('UPDATE audit_log SET seq = ? WHERE seq = ?', [seq + 1, seq]);
        }
        const [r4] = await state.audit.query({ afterSeq: 3, limit: 1 });
        const forged = buildRecord(
          { seq: 4, hash: r4!.hash },
          queryEvent(99, { actor: 'mallory', decision: 'allowed' }),
          at(4 * MINUTE + 1),
        );
        await insertRaw(fixture, forged);
        await fixture.admin('UPDATE audit_head SET seq = 11');
        expect(await state.audit.verify()).toMatchObject({
          ok: false,
          records: 5,
          firstBrokenSeq: 5,
          problem: 'inserted',
        });
      });

      it('detects a row added past the recorded head', async () => {
        const [r10] = await state.audit.query({ afterSeq: 9, limit: 1 });
        await insertRaw(
          fixture,
          buildRecord({ seq: 10, hash: r10!.hash }, queryEvent(11), at(11 * MINUTE)),
        );
        expect(await state.audit.verify()).toMatchObject({
          records: 11,
          firstBrokenSeq: 11,
          problem: 'inserted',
        });
      });

      it('detects reordered rows at the first of them', async () => {
        await fixture.admin('UPDATE audit_log SET seq = -5 WHERE seq = 5');
        await fixture.admin('UPDATE audit_log SET seq = 5 WHERE seq = 6');
        await fixture.admin('UPDATE audit_log SET seq = 6 WHERE seq = -5');
        expect(await state.audit.verify()).toMatchObject({
          ok: false,
          records: 4,
          firstBrokenSeq: 5,
          problem: 'reordered',
        });
      });

      it('reports a row it cannot even decode', async () => {
        await fixture.admin("UPDATE audit_log SET details = 'not json' WHERE seq = 2");
        expect(await state.audit.verify()).toMatchObject({
          firstBrokenSeq: 2,
          problem: 'unreadable',
        });
      });

      it('a wholesale rewrite passes verify() but not the external checkpoints', async () => {
        const checkpoint = await writeCheckpoint(state.audit);
        expect(checkpoint.details).toEqual({ headSeq: 10, headHash: checkpoint.prevHash });
        const external = [{ seq: checkpoint.seq, hash: checkpoint.hash }];
        expect(await compareCheckpoints(state.audit, external)).toEqual({ ok: true, checked: 1 });

        // The attacker edits record 3 and re-hashes everything after it, head included.
        const records = await state.audit.query({});
        let head = { seq: 2, hash: records[1]!.hash };
        for (const original of records.slice(2)) {
          const edited = original.seq === 3 ? { ...original, actor: 'nobody' } : original;
          const rebuilt = buildRecord(head, edited, original.at);
          await fixture.admin(
            'UPDATE audit_log SET actor = ?, details = ?, prev_hash = ?, hash = ? WHERE seq = ?',
            [
              rebuilt.actor,
              JSON.stringify(rebuilt.details),
              rebuilt.prevHash,
              rebuilt.hash,
              rebuilt.seq,
            ],
          );
          head = { seq: rebuilt.seq, hash: rebuilt.hash };
        }
        await fixture.admin('UPDATE audit_head SET hash = ?', [head.hash]);

        expect((await state.audit.verify()).ok).toBe(true);
        expect(await compareCheckpoints(state.audit, external)).toMatchObject({
          ok: false,
          seq: checkpoint.seq,
        });
      });
    });

    it('checkpoints carry the exact head they extend and keep the chain valid', async () => {
      const records = await appendMany(3);
      const checkpoint = await writeCheckpoint(state.audit);
      expect(checkpoint).toMatchObject({
        seq: 4,
        type: 'audit.checkpoint',
        actor: 'gatehouse',
        details: { headSeq: 3, headHash: records[2]!.hash },
      });
      await state.audit.append(queryEvent(5));
      expect(await state.audit.verify()).toMatchObject({ ok: true, records: 5 });
    });

    describe('retention prune (the one controlled delete)', () => {
      async function logWithCheckpoint() {
        const records = await appendMany(10);
        const checkpoint = await writeCheckpoint(state.audit);
        for (let i = 12; i <= 14; i++) await state.audit.append(queryEvent(i), at(i * MINUTE));
        return { records, checkpoint };
      }
      const pruning = () => {
        const audit = state.audit;
        if (!supportsPrune(audit)) throw new Error(`${adapter.name} store cannot prune`);
        return audit;
      };

      it('deletes the records before a checkpoint and verifies from it', async () => {
        const { records, checkpoint } = await logWithCheckpoint();
        expect(await pruning().pruneBefore(checkpoint.seq)).toEqual({
          deleted: 10,
          anchor: { seq: 10, hash: records[9]!.hash },
        });
        expect((await state.audit.query({})).map((r) => r.seq)).toEqual([11, 12, 13, 14]);
        expect(await state.audit.query({ grantId: 'g_00000000000000000001' })).toEqual([
          expect.objectContaining({ seq: 13 }),
        ]);
        expect(await state.audit.verify()).toMatchObject({ ok: true, records: 4 });
        await state.audit.append(queryEvent(15));
        expect(await state.audit.verify()).toMatchObject({ ok: true, records: 5 });
        // The guards are back: the log is append-only again.
        await expect(fixture.admin('DELETE FROM audit_log WHERE seq = 12')).rejects.toThrow(
          /append-only/,
        );
        await expect(fixture.admin('UPDATE audit_anchor SET seq = 3')).rejects.toThrow(/forward/);
      });

      it('refuses a seq that is not a checkpoint, or one that is already first', async () => {
        const { checkpoint } = await logWithCheckpoint();
        await expect(pruning().pruneBefore(5)).rejects.toThrow(RangeError);
        await pruning().pruneBefore(checkpoint.seq);
        await expect(pruning().pruneBefore(checkpoint.seq)).rejects.toThrow(RangeError);
        expect(await count()).toBe(4);
      });

      it('still detects tampering after a prune', async () => {
        const { checkpoint } = await logWithCheckpoint();
        await pruning().pruneBefore(checkpoint.seq);
        await fixture.dropAuditProtection();
        await fixture.admin('DELETE FROM audit_log WHERE seq = 11');
        expect(await state.audit.verify()).toMatchObject({
          firstBrokenSeq: 11,
          problem: 'missing',
        });
      });
    });

    it('two State objects appending concurrently never fork the chain or lose a record', async () => {
      const other = await openState(fixture.config, clock);
      try {
        const writes = Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? state : other).audit.append(queryEvent(i)),
        );
        const records = await Promise.all(writes);
        expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        expect(await count()).toBe(200);
        expect(await state.audit.verify()).toMatchObject({ ok: true, records: 200 });
      } finally {
        await other.close();
      }
    });
  });
}

/** Writes a record straight into the tables, as an attacker with admin rights would. */
async function insertRaw(fixture: AdapterFixture, r: AuditRecord): Promise<void> {
  await fixture.admin(
    `INSERT INTO audit_log (seq, at, type, actor, "database", grant_ids, pr_numbers, pr_url,
      merge_sha, approvers, request_id, client_address, sql, sql_sha256, tables, decision, code,
      parent_seq, details, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      r.seq,
      fixture.time(r.at),
      r.type,
      r.actor,
      r.database ?? null,
      JSON.stringify(r.grantIds),
      JSON.stringify(r.prNumbers),
      r.prUrl ?? null,
      r.mergeSha ?? null,
      JSON.stringify(r.approvers),
      r.requestId ?? null,
      r.clientAddress ?? null,
      r.sql ?? null,
      r.sqlSha256 ?? null,
      JSON.stringify(r.tables),
      r.decision ?? null,
      r.code ?? null,
      r.parentSeq ?? null,
      JSON.stringify(r.details),
      r.prevHash,
      r.hash,
    ],
  );
}
