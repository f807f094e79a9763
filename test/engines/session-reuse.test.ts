/**
 * The engines' fewer round trips keep every defence on a REUSED connection (pool of one, so
 * each statement runs on the session the previous one left): read-only, the statement
 * timeout (also when it differs from the one the session was prepared for), the pinned
 * settings, and the reset. Also pins the round trips themselves: on MySQL/MariaDB one
 * settings statement per query between resets; on PostgreSQL the session is reset (DISCARD
 * ALL) after a clean and after a failed query alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions } from '../../src/engines/engine.js';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { ENGINE_TARGETS, waitUntilGone, type TargetDatabase } from './support/engine-targets.js';

const LIMITS: ExecuteOptions = { maxRows: 1000, maxBytes: 1_000_000, timeoutMs: 30_000 };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (error instanceof GatehouseError) return error.code;
    throw error;
  }
}

for (const target of ENGINE_TARGETS) {
  describe(`${target.kind} engine, reused sessions`, () => {
    let t: TargetDatabase;
    const opened: Engine[] = [];
    const single = (writer = false): Engine => {
      const engine = createEngine(writer ? t.writerDb : t.db, { env: t.env, poolSize: 1 });
      opened.push(engine);
      return engine;
    };

    beforeAll(async () => {
      t = await target.setup();
    });

    afterAll(async () => {
      await Promise.all(opened.map((e) => e.close()));
      await t?.drop();
    });

    it('stays read-only on a reused session, even for a user with write rights', async () => {
      const writer = single(true);
      const id = async () =>
        (
          await writer.execute(
            target.kind === 'postgres' ? 'SELECT pg_backend_pid()' : 'SELECT CONNECTION_ID()',
            LIMITS,
          )
        ).rows[0]?.[0];
      const first = await id();
      expect(
        await codeOf(writer.execute("INSERT INTO items (id, name) VALUES (97, 'x')", LIMITS)),
      ).toBe('QUERY_FAILED');
      expect(await codeOf(writer.execute('CREATE TABLE reused_sneaky (a int)', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      // A DDL statement's implicit commit must not leave a writable transaction behind.
      expect(await codeOf(writer.execute('DELETE FROM items', LIMITS))).toBe('QUERY_FAILED');
      expect(await id()).toBe(first);
      expect(await t.tableExists('reused_sneaky')).toBe(false);
      expect((await t.admin('SELECT COUNT(*) FROM items'))[0]?.[0]).toEqual(
        target.kind === 'postgres' ? '5' : 5,
      );
    });

    it('applies a shorter statement timeout than the one the session was prepared for', async () => {
      const engine = single();
      expect((await engine.execute('SELECT 1', LIMITS)).rows).toEqual([[1]]);
      const sql = target.kind === 'postgres' ? 'SELECT pg_sleep(33)' : 'SELECT SLEEP(33)';
      expect(await codeOf(engine.execute(sql, { ...LIMITS, timeoutMs: 300 }))).toBe(
        'QUERY_TIMEOUT',
      );
      expect(
        await waitUntilGone(t, target.kind === 'postgres' ? 'pg_sleep(33)' : 'SLEEP(33)'),
      ).toBe(0);
      expect((await engine.execute('SELECT 2', LIMITS)).rows).toEqual([[2]]);
    });

    it('restores the pinned settings after a statement changed them', async () => {
      const engine = single();
      if (target.kind === 'postgres') {
        await engine.execute(
          "SELECT set_config('search_path', 'pg_catalog', false), set_config('TimeZone', 'Asia/Tokyo', false)",
          LIMITS,
        );
        const settings = await engine.execute(
          "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'), current_schema(), current_setting('TimeZone'), current_setting('standard_conforming_strings')",
          LIMITS,
        );
        expect(settings.rows.map((row) => row.map(String))).toEqual([
          ['on', '30s', 'public', 'UTC', 'on'],
        ]);
      } else {
        expect(
          await codeOf(
            engine.execute("SET SESSION time_zone = '+05:00', sql_mode = 'ANSI_QUOTES'", LIMITS),
          ),
        ).toBe('resolved');
        const flavour = String((await t.admin('SELECT VERSION()'))[0]?.[0]);
        const readOnly = /mariadb/i.test(flavour) ? '@@tx_read_only' : '@@transaction_read_only';
        const settings = await engine.execute(
          `SELECT @@session.time_zone, @@session.sql_mode, ${readOnly}, @@autocommit`,
          LIMITS,
        );
        expect(settings.rows.map((row) => row.map(String))).toEqual([
          [
            '+00:00',
            'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
            '1',
            '0',
          ],
        ]);
      }
    });

    if (target.kind === 'mysql') {
      it('sends one settings statement per query between session resets', async () => {
        const engine = single();
        await engine.execute('SELECT 1', LIMITS);
        // COM_RESET_CONNECTION zeroes the session's counters: what it counts now is the
        // settings statement sent after the reset and this query itself.
        const status = await engine.execute("SHOW SESSION STATUS LIKE 'Questions'", LIMITS);
        expect(status.rows).toEqual([['Questions', '2']]);
      });
    } else {
      it('resets the session in the query pipeline, also after a failure', async () => {
        const engine = single();
        const pid = (await engine.execute('SELECT pg_backend_pid()', LIMITS)).rows[0]?.[0];
        /** The last statement of the pooled session once it is idle again. */
        const lastStatement = async (): Promise<unknown> => {
          for (let attempt = 0; attempt < 50; attempt++) {
            const rows = await t.admin(
              `SELECT state, query FROM pg_stat_activity WHERE pid = ${Number(pid)}`,
            );
            if (rows[0]?.[0] === 'idle' && String(rows[0]?.[1]).startsWith('DISCARD')) {
              return rows[0]?.[1];
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return undefined;
        };
        expect(await lastStatement()).toBe('DISCARD ALL');
        expect(await codeOf(engine.execute('SELECT * FROM no_such_table', LIMITS))).toBe(
          'QUERY_FAILED',
        );
        expect(await lastStatement()).toBe('DISCARD ALL');
        expect((await engine.execute('SELECT pg_backend_pid()', LIMITS)).rows[0]?.[0]).toBe(pid);
      });
    }
  });
}
