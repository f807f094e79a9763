/**
 * One suite over both engine adapters against the real servers of the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions } from '../../src/engines/engine.js';
import { GatehouseError, type ErrorCode } from '../../src/errors/catalogue.js';
import { ENGINE_TARGETS, waitUntilGone, type TargetDatabase } from './support/engine-targets.js';

const LIMITS: ExecuteOptions = { maxRows: 1000, maxBytes: 1_000_000, timeoutMs: 30_000 };

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (error instanceof GatehouseError) return error.code;
    throw error;
  }
}

/** Expected column types and first-row values of the fixture table, per engine. */
const FIXTURE = {
  postgres: {
    types: [
      'int4',
      'text',
      'numeric',
      'int8',
      'bytea',
      'timestamptz',
      'timestamp',
      'date',
      'bool',
      'jsonb',
      'float8',
    ],
    row: [
      1,
      'item 1',
      '1.50',
      '9007199254740994',
      '\\x01ff',
      '2024-01-02T03:04:05.123456Z',
      '2024-01-02T03:04:05',
      '2024-01-02',
      false,
      '{"a": 1}',
      0.5,
    ],
  },
  mysql: {
    types: [
      'int',
      'varchar',
      'decimal',
      'bigint',
      'varbinary',
      'timestamp',
      'datetime',
      'date',
      'tinyint',
      'text',
      'double',
    ],
    row: [
      1,
      'item 1',
      '1.50',
      '9007199254740994',
      '\\x01ff',
      '2024-01-02T03:04:05.123456Z',
      '2024-01-02T03:04:05',
      '2024-01-02',
      0,
      '{"a": 1}',
      0.5,
    ],
  },
} as const;

for (const target of ENGINE_TARGETS) {
  describe(`${target.kind} engine`, () => {
    let t: TargetDatabase;
    let engine: Engine;
    const opened: Engine[] = [];
    const open = (...args: Parameters<typeof createEngine>): Engine => {
      const created = createEngine(...args);
      opened.push(created);
      return created;
    };

    beforeAll(async () => {
      t = await target.setup();
      engine = open(t.db, { env: t.env });
    });

    afterAll(async () => {
      await Promise.all(opened.map((e) => e.close()));
      await t?.drop();
    });

    it('returns columns with engine type names and JSON-safe values', async () => {
      const result = await engine.execute('SELECT * FROM items ORDER BY id', LIMITS);
      expect(result.columns.map((c) => c.name)).toEqual([
        'id',
        'name',
        'price',
        'big',
        'data',
        'created',
        'local_ts',
        'day',
        'flag',
        'doc',
        'ratio',
      ]);
      const fixture = FIXTURE[target.kind];
      // MariaDB stores JSON as LONGTEXT and reports it so.
      const types = result.columns.map((c) => c.type);
      expect(types).toEqual(
        target.kind === 'mysql' && types[9] === 'json'
          ? [...fixture.types.slice(0, 9), 'json', 'double']
          : fixture.types,
      );
      expect(result.rows[0]).toEqual(fixture.row);
      expect(result.rowCount).toBe(5);
      expect(result.truncated).toBe(false);
      expect(JSON.parse(JSON.stringify(result.rows))).toEqual(result.rows);
    });

    it('caps rows by streaming and flags truncation', async () => {
      const capped = await engine.execute('SELECT id FROM items ORDER BY id', {
        ...LIMITS,
        maxRows: 3,
      });
      expect(capped.rows).toEqual([[1], [2], [3]]);
      expect(capped.rowCount).toBe(3);
      expect(capped.truncated).toBe(true);
      const exact = await engine.execute('SELECT id FROM items ORDER BY id', {
        ...LIMITS,
        maxRows: 5,
      });
      expect(exact.rowCount).toBe(5);
      expect(exact.truncated).toBe(false);
      // The engine stays usable after a truncated result.
      expect((await engine.execute('SELECT 1', LIMITS)).rows).toEqual([[1]]);
    });

    it('stops a large result at the row cap and the statement is gone from the server', async () => {
      // 5^10 rows, streamed by nested loops: reading them all would take minutes.
      const huge =
        'SELECT a.id FROM items a, items b, items c, items d, items e, items f, items g, items h, items i, items j';
      const result = await engine.execute(huge, { ...LIMITS, maxRows: 10 });
      expect(result.rowCount).toBe(10);
      expect(result.truncated).toBe(true);
      expect(await waitUntilGone(t, 'items j')).toBe(0);
    });

    it('refuses a result larger than the byte cap with QUERY_RESULT_TOO_LARGE', async () => {
      expect(
        await codeOf(engine.execute('SELECT * FROM items', { ...LIMITS, maxBytes: 200 })),
      ).toBe('QUERY_RESULT_TOO_LARGE');
      expect(
        (await engine.execute('SELECT id FROM items', { ...LIMITS, maxBytes: 200 })).rowCount,
      ).toBe(5);
    });

    it('runs every statement in a READ ONLY transaction, even for a user with write rights', async () => {
      const writer = open(t.writerDb, { env: t.env });
      expect(
        await codeOf(writer.execute("INSERT INTO items (id, name) VALUES (99, 'x')", LIMITS)),
      ).toBe('QUERY_FAILED');
      expect(await codeOf(writer.execute('CREATE TABLE sneaky (a int)', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      expect(await codeOf(writer.execute('DELETE FROM items', LIMITS))).toBe('QUERY_FAILED');
      const error = await writer
        .execute('UPDATE items SET name = 1', LIMITS)
        .catch((e: unknown) => e);
      expect(String((error as Error).message)).toMatch(/read.only/i);
      expect(await t.tableExists('sneaky')).toBe(false);
      expect((await t.admin('SELECT COUNT(*) FROM items'))[0]?.[0]).toEqual(
        target.kind === 'postgres' ? '5' : 5,
      );
    });

    it('fails writes of the SELECT-only user with QUERY_FAILED and leaves no table', async () => {
      expect(await codeOf(engine.execute('CREATE TABLE sneaky2 (a int)', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      expect(await codeOf(engine.execute('INSERT INTO items (id) VALUES (98)', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      expect(await t.tableExists('sneaky2')).toBe(false);
    });

    it('refuses stacked statements', async () => {
      expect(await codeOf(engine.execute('SELECT 1; DROP TABLE items', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      const writer = open(t.writerDb, { env: t.env });
      expect(await codeOf(writer.execute('SELECT 1; DROP TABLE items', LIMITS))).toBe(
        'QUERY_FAILED',
      );
      expect(await t.tableExists('items')).toBe(true);
    });

    it('passes server errors through as QUERY_FAILED', async () => {
      const error = await engine
        .execute('SELECT * FROM no_such_table', LIMITS)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GatehouseError);
      expect((error as GatehouseError).code).toBe('QUERY_FAILED');
      expect((error as GatehouseError).message).toMatch(/no_such_table/);
    });

    it('stops a statement at the statement timeout, and it is gone from the server', async () => {
      const sql = target.kind === 'postgres' ? 'SELECT pg_sleep(31)' : 'SELECT SLEEP(31)';
      expect(await codeOf(engine.execute(sql, { ...LIMITS, timeoutMs: 300 }))).toBe(
        'QUERY_TIMEOUT',
      );
      expect(
        await waitUntilGone(t, target.kind === 'postgres' ? 'pg_sleep(31)' : 'SLEEP(31)'),
      ).toBe(0);
      expect((await engine.execute('SELECT 2', LIMITS)).rows).toEqual([[2]]);
    });

    it('resets the session before a pooled connection is reused', async () => {
      const single = open(t.db, { env: t.env, poolSize: 1 });
      if (target.kind === 'postgres') {
        const first = await single.execute(
          "SELECT pg_backend_pid(), pg_advisory_lock(42), set_config('gatehouse.x', '1', false)",
          LIMITS,
        );
        expect(await codeOf(single.execute('PREPARE leftover AS SELECT 1', LIMITS))).toBe(
          'resolved',
        );
        const second = await single.execute(
          "SELECT pg_backend_pid(), current_setting('gatehouse.x', true), (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
          LIMITS,
        );
        expect(second.rows[0]?.[0]).toBe(first.rows[0]?.[0]);
        // DISCARD ALL leaves a reset custom setting defined but empty.
        expect(second.rows[0]?.[1]).not.toBe('1');
        expect(second.rows[0]?.[2]).toBe(0);
        expect(await codeOf(single.execute('EXECUTE leftover', LIMITS))).toBe('QUERY_FAILED');
      } else {
        const first = await single.execute(
          "SELECT CONNECTION_ID(), @x := 1, GET_LOCK('gatehouse', 0)",
          LIMITS,
        );
        const second = await single.execute(
          "SELECT CONNECTION_ID(), @x, IS_USED_LOCK('gatehouse')",
          LIMITS,
        );
        expect(second.rows[0]?.[0]).toBe(first.rows[0]?.[0]);
        expect(second.rows[0]?.slice(1)).toEqual([null, null]);
      }
    });

    it('pings', async () => {
      await expect(engine.ping()).resolves.toBeUndefined();
    });

    it('reports a closed port as DATABASE_UNAVAILABLE', async () => {
      const down = open({ ...t.db, port: 1 }, { env: t.env, connectTimeoutMs: 2000 });
      expect(await codeOf(down.execute('SELECT 1', LIMITS))).toBe('DATABASE_UNAVAILABLE');
      expect(await codeOf(down.ping())).toBe('DATABASE_UNAVAILABLE');
    });

    it('never falls back to plaintext when TLS is required', async () => {
      const tls = open(
        { ...t.db, tls: { required: true } },
        { env: t.env, connectTimeoutMs: 2000 },
      );
      expect(await codeOf(tls.execute('SELECT 1', LIMITS))).toBe('DATABASE_UNAVAILABLE');
    });

    it('reports wrong credentials as DATABASE_UNAVAILABLE', async () => {
      // Trust authentication on the local PostgreSQL accepts any password; use an unknown
      // user there instead.
      const config =
        target.kind === 'postgres' ? { ...t.db, auth: { ...t.db.auth, user: 'gh_nobody' } } : t.db;
      const wrong = open(config, { env: { [Object.keys(t.env)[0]!]: 'wrong' } });
      expect(await codeOf(wrong.execute('SELECT 1', LIMITS))).toBe('DATABASE_UNAVAILABLE');
    });

    if (target.kind === 'mysql') {
      it('kills an overdue statement whose own limit was raised by the statement', async () => {
        const flavour = String((await t.admin('SELECT VERSION()'))[0]?.[0]);
        // MySQL: an optimizer hint overrides max_execution_time. MariaDB ignores MySQL hints
        // but SET STATEMENT … FOR overrides max_statement_time the same way.
        const sql = /mariadb/i.test(flavour)
          ? 'SET STATEMENT max_statement_time = 100000 FOR SELECT SLEEP(32)'
          : 'SELECT /*+ MAX_EXECUTION_TIME(100000) */ SLEEP(32)';
        const fast = open(t.db, { env: t.env, killGraceMs: 200 });
        expect(await codeOf(fast.execute(sql, { ...LIMITS, timeoutMs: 200 }))).toBe(
          'QUERY_TIMEOUT',
        );
        expect(await waitUntilGone(t, 'SLEEP(32)')).toBe(0);
      });
    }
  });
}
