/**
 * The PostgreSQL query pipeline on a real server (PostgreSQL 15 here): prelude, query and
 * epilogue on one connection with one Sync. The engine hands a connection back without
 * further commands only when the pipeline reports it clean; a failed prelude must never let
 * the query run.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CappedQuery,
  ONE_WRITE_MAX_ROWS,
  type Pipeline,
} from '../../src/engines/postgres/capped-query.js';
import { sessionPipeline } from '../../src/engines/postgres/session-pipeline.js';
import { RowCollector } from '../../src/engines/row-collector.js';
import { ENGINE_TARGETS, type TargetDatabase } from './support/engine-targets.js';

const LIMITS = { maxRows: 1000, maxBytes: 1_000_000 };
const PIPELINE = sessionPipeline({ schema: 'public', timeoutMs: 30_000, idleTimeoutMs: 31_000 });

describe('PostgreSQL query pipeline', () => {
  let t: TargetDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    t = await ENGINE_TARGETS.find((target) => target.kind === 'postgres')!.setup();
  });
  afterAll(async () => {
    await t?.drop();
  });
  afterEach(async () => {
    await client?.end();
  });

  async function connect(): Promise<pg.Client> {
    client = new pg.Client({
      host: t.db.host,
      port: t.db.port,
      database: t.db.name,
      user: t.db.auth.kind === 'password' ? t.db.auth.user : '',
      password: 'unused under trust',
    });
    await client.connect();
    return client;
  }

  function submit(sql: string, pipeline: Pipeline, limits = LIMITS) {
    const collector = new RowCollector(limits);
    const query = new CappedQuery(sql, collector, limits.maxRows, pipeline);
    client.query(query as unknown as pg.Submittable);
    return { query, collector };
  }

  function status(): string | null {
    return (client as unknown as { getTransactionStatus(): string | null }).getTransactionStatus();
  }

  it('runs the query inside the read-only transaction and leaves the session clean and idle', async () => {
    await connect();
    const { query, collector } = submit(
      "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'), current_schema(), pg_advisory_lock(41)",
      PIPELINE,
    );
    expect((await query.result).columns.map((c) => c.name)).toHaveLength(4);
    expect(collector.rows).toEqual([['on', '30s', 'public', '']]);
    expect(await query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
    // DISCARD ALL in the epilogue released the session-level advisory lock.
    const locks = await client.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    );
    expect(locks.rows[0]).toEqual({ n: 0 });
  });

  it('reports a failed query as not clean (the server skipped the epilogue)', async () => {
    await connect();
    const { query } = submit('SELECT * FROM no_such_table', PIPELINE);
    await expect(query.result).rejects.toMatchObject({ code: '42P01' });
    expect(await query.settled).toEqual({ clean: false });
    // The transaction is left failed: the engine must roll back and reset itself.
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
  });

  it('never runs the query when a prelude statement fails', async () => {
    await connect();
    const failing: Pipeline = {
      prelude: ['BEGIN READ ONLY', 'SELECT 1 / 0'],
      epilogue: PIPELINE.epilogue,
    };
    const { query } = submit('SELECT pg_advisory_lock(42)', failing);
    await expect(query.result).rejects.toMatchObject({ code: '22012' });
    expect(await query.settled).toEqual({ clean: false });
    await client.query('ROLLBACK');
    const locks = await client.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    );
    expect(locks.rows[0]).toEqual({ n: 0 });
  });

  it('closes a suspended portal at the row cap through the epilogue', async () => {
    await connect();
    const { query, collector } = submit('SELECT g FROM generate_series(1, 100000) g', PIPELINE, {
      maxRows: 2,
      maxBytes: 1_000_000,
    });
    await query.result;
    expect(collector.rows).toEqual([[1], [2]]);
    expect(collector.truncated).toBe(true);
    expect(await query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
  });

  /** Counts the Sync messages sent while `send` runs, synchronously (before any answer). */
  function syncsDuring(send: () => void): number {
    const connection = (client as unknown as { connection: { sync(): void } }).connection;
    const original = connection.sync.bind(connection);
    let syncs = 0;
    connection.sync = () => {
      syncs += 1;
      original();
    };
    try {
      send();
    } finally {
      connection.sync = original;
    }
    return syncs;
  }

  it('sends the epilogue and Sync in the first write when the row cap fits one Execute', async () => {
    await connect();
    let submitted!: ReturnType<typeof submit>;
    // LIMITS.maxRows 1000: 1001 rows fit ONE_WRITE_MAX_ROWS.
    expect(1001).toBeLessThanOrEqual(ONE_WRITE_MAX_ROWS);
    expect(syncsDuring(() => (submitted = submit('SELECT 1 AS one', PIPELINE)))).toBe(1);
    await submitted.query.result;
    expect(submitted.collector.rows).toEqual([[1]]);
    expect(await submitted.query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
  });

  it('waits for the rows before the epilogue when the cap needs several Executes', async () => {
    await connect();
    const maxRows = ONE_WRITE_MAX_ROWS; // maxRows + 1 does not fit one Execute
    let submitted!: ReturnType<typeof submit>;
    const sql = 'SELECT g FROM generate_series(1, 100000) g';
    const limits = { maxRows, maxBytes: 10_000_000 };
    expect(syncsDuring(() => (submitted = submit(sql, PIPELINE, limits)))).toBe(0);
    const { query, collector } = submitted;
    await query.result;
    expect(collector.rows).toHaveLength(maxRows);
    expect(collector.rows.at(-1)).toEqual([maxRows]);
    expect(collector.truncated).toBe(true);
    expect(await query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
  });

  it.each([
    ['exactly maxRows rows', 5, false],
    ['exactly maxRows + 1 rows', 6, true],
    ['far more rows', 100_000, true],
  ])(
    'caps in one write: %s (truncated only beyond maxRows), session clean',
    async (_label, rows, truncated) => {
      await connect();
      const { query, collector } = submit(`SELECT g FROM generate_series(1, ${rows}) g`, PIPELINE, {
        maxRows: 5,
        maxBytes: 1_000_000,
      });
      await query.result;
      expect(collector.rows).toEqual([[1], [2], [3], [4], [5]]);
      expect(collector.truncated).toBe(truncated);
      expect(await query.settled).toEqual({ clean: true });
      expect(status()).toBe('I');
    },
  );

  it('reports an error after some rows in one write as not clean; the epilogue did not run', async () => {
    await connect();
    const { query, collector } = submit(
      'SELECT 10 / (3 - g) AS x FROM generate_series(1, 5) g',
      PIPELINE,
    );
    await expect(query.result).rejects.toMatchObject({ code: '22012' });
    expect(collector.rows.length).toBeLessThanOrEqual(2);
    expect(await query.settled).toEqual({ clean: false });
    // The server skipped ROLLBACK and DISCARD ALL up to the Sync sent in the first write: the
    // transaction is still there, failed, for the engine to roll back and reset itself.
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect(status()).toBe('I');
  });

  it('stops at the byte cap in one write and still leaves the session clean', async () => {
    await connect();
    const { query, collector } = submit(
      "SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g",
      PIPELINE,
      { maxRows: 1000, maxBytes: 2_000 },
    );
    await query.result;
    expect(collector.overflow?.code).toBe('QUERY_RESULT_TOO_LARGE');
    expect(collector.rows).toEqual([]); // none leave with an overflow
    expect(await query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
  });
});
