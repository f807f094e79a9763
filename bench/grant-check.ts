/**
 * Benchmark 3: the grant check of every query, with 100,000 active grants for 10,000 users.
 *
 *   - bare driver (baseline): the same indexed SELECT the store runs, all columns, no mapping.
 *   - `grants.activeFor(user, database, now)`: the GrantStore adapter (SQLite and PostgreSQL),
 *     as the query service calls it.
 *   - authorize: `authorizeTables` (pure) over the caller's grants for an analysed 4-table join.
 *   - grant check: activeFor + the service's re-check + authorizeTables, i.e. steps 3 of
 *     src/gateway/query-service.ts, for a random user and database each time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isGrantActive, type NewGrant } from '../src/grants/grant.js';
import type { GrantStore } from '../src/grants/grant-store.js';
import { analyzeSql } from '../src/sql/analyze-sql.js';
import { authorizeTables } from '../src/sql/authorize.js';
import { openState, type State } from '../src/state/open-state.js';
import { createPostgresDatabase, type TestDatabase } from '../test/support/databases.js';
import type { Benchmark, BenchContext, BenchmarkOutcome, Cell } from './harness/benchmark.js';
import { interleaved, type LoadResult } from './harness/closed-loop.js';
import { rate, us, times } from './harness/format.js';
import { measureSync } from './harness/micro.js';
import { benchGrant } from './support/bench-grants.js';
import { seedSqliteGrants } from './support/seed-sqlite-grants.js';

const DATABASES = ['hr_prod', 'hr_test', 'analytics_prod', 'billing_prod', 'crm_prod'];
/** Two grants per user and database: together they cover the joined tables below. */
const TABLE_SETS: readonly (readonly string[])[] = [
  ['employee', 'title'],
  ['salary', 'department'],
];
const JOIN_SQL = `SELECT e.emp_no, t.title, s.amount, d.dept_name FROM employee e
  JOIN title t ON t.emp_no = e.emp_no JOIN salary s ON s.emp_no = e.emp_no
  LEFT JOIN department d ON d.dept_no = e.dept_no WHERE e.emp_no = 10001`;

interface Row {
  readonly store: string;
  readonly step: string;
  readonly concurrency: number;
  readonly result: LoadResult;
}

function userName(i: number): string {
  return `user-${String(i).padStart(5, '0')}`;
}

function seedGrants(users: number, now: Date): NewGrant[] {
  const grants: NewGrant[] = [];
  let serial = 0;
  for (let u = 1; u <= users; u++) {
    for (const database of DATABASES) {
      for (const tables of TABLE_SETS) {
        grants.push(
          benchGrant({
            requester: userName(u),
            database,
            tables,
            activatedAt: new Date(now.getTime() - 3_600_000 - (serial % 3600) * 1000),
            expiresAt: new Date(now.getTime() + 7 * 24 * 3_600_000 + (serial % 3600) * 1000),
            serial: serial++,
          }),
        );
      }
    }
  }
  return grants;
}

/** PostgreSQL: the same columns the adapter writes (postgres-grant-store.ts INSERT), in bulk. */
async function seedPostgres(url: string, grants: readonly NewGrant[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < grants.length; i += 5000) {
      const chunk = grants.slice(i, i + 5000);
      const col = <T>(f: (g: NewGrant) => T) => chunk.map(f);
      await client.query(
        `INSERT INTO grants (id, repo, requester, database, tables, access, level, reason, ticket,
           file_path, pr_number, pr_url, head_sha, merge_sha, approvers, activated_at, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], $12::text[],
           $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[])`,
        [
          col((g) => g.id),
          col((g) => g.repo),
          col((g) => g.requester),
          col((g) => g.database),
          col((g) => JSON.stringify(g.tables)),
          col((g) => g.access),
          col((g) => g.level),
          col((g) => g.reason),
          col((g) => g.ticket),
          col((g) => g.filePath),
          col((g) => g.prNumber),
          col((g) => g.prUrl),
          col((g) => g.headSha),
          col((g) => g.mergeSha),
          col((g) =>
            JSON.stringify(g.approvers.map((a) => ({ login: a.login, reviewId: a.reviewId }))),
          ),
          col((g) => g.activatedAt),
          col((g) => g.expiresAt),
        ],
      );
    }
    await client.query('ANALYZE grants');
  } finally {
    await client.end();
  }
}

/** The seeded rows must read back exactly as the adapter would have written them. */
async function checkSeed(store: GrantStore, sample: NewGrant): Promise<void> {
  const got = await store.get(sample.id);
  const same =
    got !== null &&
    JSON.stringify(got.tables) === JSON.stringify(sample.tables) &&
    JSON.stringify(got.approvers) === JSON.stringify(sample.approvers) &&
    got.expiresAt.getTime() === sample.expiresAt.getTime() &&
    got.activatedAt.getTime() === sample.activatedAt.getTime() &&
    got.requester === sample.requester;
  if (!same) throw new Error(`seeded grant ${sample.id} does not read back as written`);
}

export const grantCheck: Benchmark = {
  id: 'grants',
  title: '3. Grant check with 100,000 active grants for 10,000 users',
  async run(context: BenchContext): Promise<BenchmarkOutcome> {
    const users = context.quick ? 1000 : 10_000;
    const timing = context.quick
      ? { warmupMs: 100, durationMs: 400, rounds: 1 }
      : { warmupMs: 500, durationMs: 4000, rounds: 4 };
    const now = new Date();
    const grants = seedGrants(users, now);
    const sample = grants[Math.floor(grants.length / 2)] as NewGrant;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-grants-'));
    const sqlitePath = join(dir, 'gatehouse.db');
    let pgDb: TestDatabase | undefined;
    const states: State[] = [];
    try {
      const sqliteState = await openState({ kind: 'sqlite', path: sqlitePath }, () => now);
      states.push(sqliteState);
      let t0 = performance.now();
      seedSqliteGrants(sqlitePath, grants);
      context.log(
        `SQLite: ${grants.length} grants seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      pgDb = await createPostgresDatabase('gh_bench_grants');
      const pgState = await openState({ kind: 'postgres', url: pgDb.url }, () => now);
      states.push(pgState);
      t0 = performance.now();
      await seedPostgres(pgDb.url, grants);
      context.log(
        `PostgreSQL: ${grants.length} grants seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      await checkSeed(sqliteState.grants, sample);
      await checkSeed(pgState.grants, sample);

      const analysis = analyzeSql({ engine: 'mysql', sql: JOIN_SQL, defaultSchema: 'hr' });
      if (!analysis.ok) throw new Error('the join query is refused');
      let seed = 42;
      // A small deterministic PRNG (mulberry32), so runs look up the same sequence of users.
      const random = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = () => ({
        user: userName(1 + Math.floor(random() * users)),
        database: DATABASES[Math.floor(random() * DATABASES.length)] as string,
      });

      const rows: Row[] = [];
      /** One group of steps, measured in interleaved slices against each other. */
      const measure = async (
        store: string,
        concurrency: number,
        steps: Record<string, () => Promise<void>>,
      ) => {
        const results = await interleaved(steps, { concurrency, ...timing });
        for (const [step, result] of Object.entries(results)) {
          if (result.errors > 0) throw new Error(`${store} ${step}: ${result.firstError}`);
          rows.push({ store, step, concurrency, result });
          context.log(
            `${store} ${step} c=${concurrency}: ${rate(result.opsPerSec)}/s p50 ${us(result.latency.p50Us)} p99 ${us(result.latency.p99Us)}`,
          );
        }
      };
      const check = (store: GrantStore) => async () => {
        const { user, database } = pick();
        const found = await store.activeFor(user, database, now);
        const active = found.filter(
          (g) => g.requester === user && g.database === database && isGrantActive(g, now),
        );
        const decision = authorizeTables({
          analysis,
          engine: 'mysql',
          defaultSchema: 'hr',
          grantedTables: active.map((g) => g.tables),
        });
        if (!decision.allowed) throw new Error(`${user} on ${database} refused`);
      };
      const activeFor = (store: GrantStore) => async () => {
        const { user, database } = pick();
        if ((await store.activeFor(user, database, now)).length !== TABLE_SETS.length) {
          throw new Error(`wrong number of grants for ${user} on ${database}`);
        }
      };

      // SQLite
      const bare = new Database(sqlitePath, { readonly: true });
      const plan = bare
        .prepare(
          `EXPLAIN QUERY PLAN SELECT * FROM grants WHERE requester = ? AND "database" = ?
           AND expires_at > ? AND revoked_at IS NULL ORDER BY activated_at, id`,
        )
        .all('user-00001', 'hr_prod', now.getTime()) as { detail: string }[];
      const bareStmt = bare.prepare(
        `SELECT * FROM grants WHERE requester = ? AND "database" = ? AND expires_at > ?
         AND revoked_at IS NULL ORDER BY activated_at, id`,
      );
      await measure('SQLite', 1, {
        'bare driver (better-sqlite3)': async () => {
          const { user, database } = pick();
          if (bareStmt.all(user, database, now.getTime()).length !== TABLE_SETS.length) {
            throw new Error('wrong row count');
          }
        },
        'grants.activeFor': activeFor(sqliteState.grants),
        'grant check (activeFor + authorize)': check(sqliteState.grants),
      });
      bare.close();

      // PostgreSQL
      const pool = new pg.Pool({ connectionString: pgDb.url, max: 10 });
      const pgPlan = await pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT * FROM grants WHERE requester = $1 AND database = $2 AND expires_at > $3
         AND revoked_at IS NULL ORDER BY activated_at, id`,
        ['user-00001', 'hr_prod', now],
      );
      const bareQuery = {
        name: 'bench_active_for',
        text: `SELECT * FROM grants WHERE requester = $1 AND database = $2 AND expires_at > $3
          AND revoked_at IS NULL ORDER BY activated_at, id`,
      };
      const bareLookup = async () => {
        const { user, database } = pick();
        const { rowCount } = await pool.query({ ...bareQuery, values: [user, database, now] });
        if (rowCount !== TABLE_SETS.length) throw new Error('wrong row count');
      };
      await measure('PostgreSQL', 1, {
        'bare driver (pg, pool 10)': bareLookup,
        'grants.activeFor': activeFor(pgState.grants),
        'grant check (activeFor + authorize)': check(pgState.grants),
      });
      await measure('PostgreSQL', 32, {
        'bare driver (pg, pool 10)': bareLookup,
        'grants.activeFor': activeFor(pgState.grants),
      });
      await pool.end();

      // The pure authorize step alone, over one user's grants.
      const oneUser = await sqliteState.grants.activeFor(userName(1), 'hr_prod', now);
      const grantedTables = oneUser.map((g) => g.tables);
      const authorize = measureSync(
        () => {
          authorizeTables({ analysis, engine: 'mysql', defaultSchema: 'hr', grantedTables });
        },
        context.quick ? { warmupMs: 50, durationMs: 300 } : { warmupMs: 200, durationMs: 1500 },
      );
      context.log(`authorizeTables p50 ${us(authorize.latency.p50Us)}`);

      return outcome(rows, authorize, {
        grants: grants.length,
        users,
        sqlitePlan: plan.map((p) => p.detail).join('; '),
        pgPlan: pgPlan.rows.map((r) => r['QUERY PLAN'].trim()).join(' / '),
      });
    } finally {
      for (const state of states) await state.close().catch(() => undefined);
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function outcome(
  rows: readonly Row[],
  authorize: ReturnType<typeof measureSync>,
  info: { grants: number; users: number; sqlitePlan: string; pgPlan: string },
): BenchmarkOutcome {
  const baseline = (store: string, concurrency: number) =>
    rows.find(
      (r) => r.store === store && r.step.startsWith('bare') && r.concurrency === concurrency,
    );
  const table: Cell[][] = rows.map((r) => {
    const base = baseline(r.store, r.concurrency);
    return [
      r.store,
      r.step,
      r.concurrency,
      rate(r.result.opsPerSec),
      us(r.result.latency.p50Us),
      us(r.result.latency.p99Us),
      base === undefined || base === r
        ? ''
        : times(r.result.latency.p50Us / base.result.latency.p50Us),
    ];
  });
  table.push([
    'none (pure)',
    'authorizeTables, 4 tables against 2 grants',
    1,
    rate(authorize.opsPerSec),
    us(authorize.latency.p50Us),
    us(authorize.latency.p99Us),
    '',
  ]);
  return {
    summary:
      `${info.grants.toLocaleString('en')} active grants for ${info.users.toLocaleString('en')} users ` +
      `(${DATABASES.length} databases, 2 grants per user and database), seeded through the ` +
      "adapters' own column layout. Each operation looks up a random user and database; the " +
      'steps of one store and concurrency run in interleaved slices. ' +
      'Baseline: the same indexed SELECT with the bare driver.',
    tables: [
      {
        title: 'Grant lookup and check',
        columns: ['store', 'step', 'concurrency', 'ops/s', 'p50', 'p99', 'p50 vs bare driver'],
        rows: table,
      },
    ],
    targets: [],
    notes: [
      `SQLite plan: ${info.sqlitePlan}.`,
      `PostgreSQL plan: ${info.pgPlan}.`,
      'No target is set for this step in issue 8; it is part of the gateway overhead measured in benchmark 1.',
    ],
    data: { ...info, rows, authorize },
  };
}
