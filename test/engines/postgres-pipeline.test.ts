/**
 * The PostgreSQL query pipeline on a real server (PostgreSQL 15 here): prelude, query and
 * epilogue on one connection with one Sync. The engine hands a connection back without
 * further commands only when the pipeline reports it clean; a failed prelude must never let
 * the query run.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CappedQuery, type Pipeline } from '../../src/engines/postgres/capped-query.js';
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

  function submit(sql: string, pipeline: Pipeline) {
    const collector = new RowCollector(LIMITS);
    const query = new CappedQuery(sql, collector, LIMITS.maxRows, pipeline);
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
    const collector = new RowCollector({ maxRows: 2, maxBytes: 1_000_000 });
    const query = new CappedQuery(
      'SELECT g FROM generate_series(1, 100000) g',
      collector,
      2,
      PIPELINE,
    );
    client.query(query as unknown as pg.Submittable);
    await query.result;
    expect(collector.rows).toEqual([[1], [2]]);
    expect(collector.truncated).toBe(true);
    expect(await query.settled).toEqual({ clean: true });
    expect(status()).toBe('I');
  });
});
