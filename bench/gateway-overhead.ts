/**
 * Benchmark 1: what `POST /v1/query` costs on top of the database driver.
 *
 * The same point selects, at concurrency 1 and 32, four ways, in one run:
 *   - direct:   the bare driver (mysql2 / pg pool, same pool size as the gateway), one
 *               round trip per query. The physical limit, and the baseline of the targets.
 *   - HTTP floor: `GET /healthz` of the same gateway process, no database: what one HTTP
 *               exchange with the gateway costs (loopback, Fastify, logging, two processes).
 *   - HTTP proxy: a forwarding-only Fastify process (bench/support/proxy-process.ts) running
 *               the SQL with the bare driver: no checks at all. The ceiling of any gateway
 *               reached over HTTP on this machine.
 *   - engine:   Gatehouse's engine adapter in this process (src/engines: read-only
 *               transaction, timeouts, row cap, rollback, session reset). Isolates what the
 *               database-side safety statements cost, without HTTP, analysis or audit.
 *   - service:  the query service in this process (src/gateway/query-service.ts) with its own
 *               SQLite state: analysis, grant check, both durable audit appends, the engine.
 *               No HTTP.
 *   - gateway:  `POST /v1/query` over real HTTP (keep-alive) to Gatehouse running as
 *               `gatehouse serve` does in its own process: identity (cached), SQL analysis,
 *               grant check, durable SQLite audit before and after, the engine.
 *               Query texts cycle over 500 ids, so analyses are served from the cache.
 *   - gateway, unique SQL: ids cycle over 10,000 (more than the 1,000-entry analysis cache),
 *               so every statement is analysed from scratch.
 *   - gateway, PostgreSQL state: the same gateway with its grants and audit log in
 *               PostgreSQL (the multi-replica setup, whose audit appends use group commit).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createEngine } from '../src/engines/create-engine.js';
import type { Engine } from '../src/engines/engine.js';
import type { DatabaseConfig } from '../src/policy/databases.js';
import { loadConfig } from '../src/config/config.js';
import { createQueryService } from '../src/gateway/query-service.js';
import { initSqlAnalysis } from '../src/sql/analyze-sql.js';
import { openState } from '../src/state/open-state.js';
import { systemClock } from '../src/util/clock.js';
import type {
  Benchmark,
  BenchContext,
  BenchmarkOutcome,
  Cell,
  TargetCheck,
} from './harness/benchmark.js';
import { interleaved, type LoadResult } from './harness/closed-loop.js';
import { ms, pct, rate, times, us } from './harness/format.js';
import { cpuSampler } from './harness/process-cpu.js';
import {
  BENCH_PASSWORD,
  BENCH_PASSWORD_ENV,
  EMPLOYEES,
  createBenchDatabases,
  type BenchDatabases,
} from './support/bench-databases.js';
import { createPostgresDatabase } from '../test/support/databases.js';
import { benchGrant } from './support/bench-grants.js';
import { getJson, keepAliveAgent, postJson } from './support/http-client.js';
import { startIdentityServer, type IdentityServer } from './support/identity-server.js';

const LOGIN = 'bench-user';
const POOL_SIZE = 10;
const CONCURRENCIES = [1, 32] as const;
const REPEATED_IDS = 500;
/** Statements the gateway must refuse no later than this (the shipped default is 30 s). */
const TIMEOUT_MS = 30_000;

type Variant =
  | 'direct'
  | 'http-floor'
  | 'http-proxy'
  | 'engine'
  | 'service'
  | 'gateway'
  | 'gateway-unique'
  | 'gateway-thread-writer'
  | 'gateway-pg-state';

const VARIANTS: readonly Variant[] = [
  'direct',
  'http-floor',
  'http-proxy',
  'engine',
  'service',
  'gateway',
  'gateway-unique',
  'gateway-thread-writer',
  'gateway-pg-state',
];

const VARIANT_LABEL: Record<Variant, string> = {
  direct: 'direct (bare driver)',
  'http-floor': 'HTTP floor: GET /healthz of the gateway',
  'http-proxy': 'HTTP proxy floor: forwards to the bare driver, no checks',
  engine: 'engine adapter, in process',
  service: 'query service, in process (SQLite state)',
  gateway: 'gateway POST /v1/query (SQLite state)',
  'gateway-unique': 'gateway, unique SQL (cold analysis)',
  'gateway-thread-writer': 'gateway, SQLite audit writer thread',
  'gateway-pg-state': 'gateway, PostgreSQL state (group commit)',
};

export interface Measurement {
  readonly engine: 'mysql' | 'postgres';
  readonly variant: Variant;
  readonly result: LoadResult;
}

function pointSelect(id: number): string {
  return `SELECT emp_no, first_name, last_name, hire_date FROM employee WHERE emp_no = ${id}`;
}

function repeatedId(sequence: number): number {
  return (sequence % REPEATED_IDS) + 1;
}

function uniqueId(sequence: number): number {
  return (sequence % EMPLOYEES) + 1;
}

function databasesYaml(dbs: BenchDatabases): string {
  const entry = (db: DatabaseConfig) =>
    [
      `  ${db.id}:`,
      `    engine: ${db.engine}`,
      `    environment: ${db.environment}`,
      `    host: ${db.host}`,
      `    port: ${db.port}`,
      `    name: ${db.name}`,
      ...(db.defaultSchema === undefined ? [] : [`    defaultSchema: ${db.defaultSchema}`]),
      '    auth:',
      '      password:',
      `        user: ${dbs.user}`,
      `        passwordEnv: ${BENCH_PASSWORD_ENV}`,
      '    tables: [employee]',
    ].join('\n');
  return `databases:\n${entry(dbs.mysql)}\n${entry(dbs.postgres)}\n`;
}

/** The environment of `gatehouse serve`, without any Gatehouse or GitHub App key of the
 * caller's shell leaking in. */
function serveEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(GATEHOUSE_|APP_ID$|PRIVATE_KEY|WEBHOOK_SECRET$|GHE_|PORT$|HOST$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startGatewayProcess(
  env: NodeJS.ProcessEnv,
  scriptPath = './support/gateway-process.ts',
): Promise<GatewayProcess> {
  const script = fileURLToPath(new URL(scriptPath, import.meta.url));
  const profileDir = process.env['BENCH_CPU_PROF'];
  const logFile = process.env['BENCH_GATEWAY_LOG'];
  const logFd = logFile === undefined ? undefined : openSync(logFile, 'a');
  const child: ChildProcess = fork(script, [], {
    env,
    execArgv: [
      '--import',
      'tsx',
      ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
    ],
    // The shipped logger writes one JSON line per request to stdout: kept (its cost is part
    // of the gateway), discarded, or appended to BENCH_GATEWAY_LOG to read the gateway's own
    // time per request (`responseTime`) beside what the client measured.
    stdio: ['ignore', logFd ?? 'ignore', 'pipe', 'ipc'],
  });
  if (logFd !== undefined) closeSync(logFd); // the child holds its own copy
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      }),
  };
}

interface DirectPool {
  query(sql: string): Promise<number>;
  close(): Promise<void>;
}

function directPool(db: DatabaseConfig): DirectPool {
  if (db.engine === 'mysql') {
    const pool = mysql.createPool({
      host: db.host,
      port: db.port,
      user: db.auth.user,
      password: BENCH_PASSWORD,
      database: db.name,
      connectionLimit: POOL_SIZE,
    });
    return {
      async query(sql) {
        const [rows] = await pool.query(sql);
        return (rows as unknown[]).length;
      },
      close: () => pool.end(),
    };
  }
  const pool = new pg.Pool({
    host: db.host,
    port: db.port,
    user: db.auth.user,
    password: BENCH_PASSWORD,
    database: db.name,
    max: POOL_SIZE,
  });
  return {
    async query(sql) {
      return (await pool.query(sql)).rowCount ?? 0;
    },
    close: () => pool.end(),
  };
}

function expectOneRow(count: number): void {
  if (count !== 1) throw new Error(`expected 1 row, got ${count}`);
}

export const gatewayOverhead: Benchmark = {
  id: 'gateway',
  title: '1. Gateway overhead: POST /v1/query against the bare driver',
  async run(context: BenchContext): Promise<BenchmarkOutcome> {
    const warmupMs = context.quick ? 150 : 1000;
    const durationMs = context.quick ? 500 : 5000;
    const rounds = context.quick ? 1 : 5;
    const dbs = await createBenchDatabases();
    context.log('databases created and seeded');
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    let identity: IdentityServer | undefined;
    const gateways: GatewayProcess[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      mkdirSync(join(dir, 'policies'));
      writeFileSync(join(dir, 'policies', 'databases.yaml'), databasesYaml(dbs));
      const statePath = join(dir, 'state', 'gatehouse.db');
      const stateDb = await createPostgresDatabase('gh_bench_state');
      closers.push(() => stateDb.drop());
      const now = new Date();
      const serviceStatePath = join(dir, 'state', 'in-process.db');
      const threadStatePath = join(dir, 'state', 'thread-writer.db');
      for (const stateConfig of [
        { kind: 'sqlite', path: statePath } as const,
        { kind: 'sqlite', path: threadStatePath } as const,
        { kind: 'postgres', url: stateDb.url } as const,
        { kind: 'sqlite', path: serviceStatePath } as const,
      ]) {
        const state = await openState(stateConfig, () => now);
        for (const [serial, db] of [dbs.mysql, dbs.postgres].entries()) {
          await state.grants.insert(
            benchGrant({
              requester: LOGIN,
              database: db.id,
              tables: ['employee'],
              activatedAt: new Date(now.getTime() - 3_600_000),
              expiresAt: new Date(now.getTime() + 24 * 3_600_000),
              serial,
            }),
          );
        }
        await state.close();
      }

      identity = await startIdentityServer(LOGIN);
      const env = (state: string, extra: Record<string, string> = {}) =>
        serveEnv({
          ...extra,
          PORT: '0',
          HOST: '127.0.0.1',
          GATEHOUSE_REPO_DIR: dir,
          GATEHOUSE_STATE: state,
          GATEHOUSE_GITHUB_API_URL: identity?.apiUrl ?? '',
          GATEHOUSE_DB_POOL_SIZE: String(POOL_SIZE),
          GATEHOUSE_RECONCILE_INTERVAL: '0',
          GATEHOUSE_EXPIRY_INTERVAL: '0',
          [BENCH_PASSWORD_ENV]: BENCH_PASSWORD,
        });
      const sqliteGateway = await startGatewayProcess(env(statePath));
      gateways.push(sqliteGateway);
      const pgGateway = context.quick ? sqliteGateway : await startGatewayProcess(env(stateDb.url));
      if (pgGateway !== sqliteGateway) gateways.push(pgGateway);
      const threadGateway = context.quick
        ? sqliteGateway
        : await startGatewayProcess(
            env(threadStatePath, { GATEHOUSE_SQLITE_AUDIT_WRITER: 'thread' }),
          );
      if (threadGateway !== sqliteGateway) gateways.push(threadGateway);
      const proxy = await startGatewayProcess(
        serveEnv({
          PROXY_DATABASES: JSON.stringify(
            [dbs.mysql, dbs.postgres].map((db) => ({
              id: db.id,
              engine: db.engine,
              host: db.host,
              port: db.port,
              name: db.name,
              user: dbs.user,
              password: BENCH_PASSWORD,
              poolSize: POOL_SIZE,
            })),
          ),
        }),
        './support/proxy-process.ts',
      );
      // Its CPU counts as "gateway process": it is the gateway of that path.
      gateways.push(proxy);
      const proxyUrl = new URL('/v1/query', proxy.url);
      const cpu = cpuSampler({
        client: { self: true },
        gateway: { pids: () => gateways.map((g) => g.pid) },
        mariadb: { names: ['mariadbd', 'mysqld'] },
        postgres: { names: ['postgres'] },
      });
      context.log(
        `gateways listening at ${sqliteGateway.url} (SQLite) and ${pgGateway.url} (PostgreSQL state)`,
      );
      const queryUrl = new URL('/v1/query', sqliteGateway.url);
      const pgStateQueryUrl = new URL('/v1/query', pgGateway.url);
      const threadQueryUrl = new URL('/v1/query', threadGateway.url);
      const healthUrl = new URL('/healthz', sqliteGateway.url);

      await initSqlAnalysis();
      const serviceState = await openState({ kind: 'sqlite', path: serviceStatePath }, systemClock);
      closers.push(() => serviceState.close());
      const engines = new Map<string, Engine>();
      const limits = loadConfig({}, dir).limits;
      const databases = new Map([dbs.mysql, dbs.postgres].map((db) => [db.id, db]));
      const service = createQueryService({
        databases: () => databases,
        grants: serviceState.grants,
        audit: serviceState.audit,
        engines: (id) => engines.get(id) as Engine,
        clock: systemClock,
        limits,
      });

      const measurements: Measurement[] = [];
      for (const db of [dbs.mysql, dbs.postgres]) {
        const direct = directPool(db);
        closers.push(() => direct.close());
        const engine: Engine = createEngine(db, {
          env: { [BENCH_PASSWORD_ENV]: BENCH_PASSWORD },
          poolSize: POOL_SIZE,
        });
        closers.push(() => engine.close());
        engines.set(db.id, engine);
        const execOptions = { maxRows: 1000, maxBytes: 10 * 1024 * 1024, timeoutMs: TIMEOUT_MS };

        for (const concurrency of CONCURRENCIES) {
          const agent = keepAliveAgent(concurrency);
          const headers = { authorization: 'Bearer ghp_benchmarktoken0000000000000000000000' };
          const viaGateway =
            (url: URL, idOf: (sequence: number) => number, authenticate = true) =>
            async (_w: number, s: number) => {
              const id = idOf(s);
              const response = await postJson(
                agent,
                url,
                { database: db.id, sql: pointSelect(id) },
                authenticate ? headers : {},
              );
              if (response.status !== 200) {
                throw new Error(
                  `gateway answered ${response.status}: ${response.body.slice(0, 300)}`,
                );
              }
              const body = JSON.parse(response.body) as { rowCount: number; rows: unknown[][] };
              expectOneRow(body.rowCount);
              if (Number(body.rows[0]?.[0]) !== id)
                throw new Error('gateway returned the wrong row');
            };
          const ops: Record<Variant, (w: number, s: number) => Promise<void>> = {
            direct: async (_w, s) => expectOneRow(await direct.query(pointSelect(repeatedId(s)))),
            engine: async (_w, s) =>
              expectOneRow(
                (await engine.execute(pointSelect(repeatedId(s)), execOptions)).rowCount,
              ),
            'http-proxy': viaGateway(proxyUrl, repeatedId, false),
            'http-floor': async () => {
              const response = await getJson(agent, healthUrl);
              if (response.status !== 200) throw new Error(`healthz answered ${response.status}`);
            },
            service: async (_w, s) => {
              const id = repeatedId(s);
              const answer = await service.query({
                identity: { login: LOGIN, via: 'github' },
                database: db.id,
                sql: pointSelect(id),
                requestId: `bench-${s}`,
                clientAddress: '127.0.0.1',
              });
              if (!answer.ok) throw new Error(`service refused: ${answer.code} ${answer.message}`);
              expectOneRow(answer.result.rowCount);
            },
            gateway: viaGateway(queryUrl, repeatedId),
            'gateway-unique': viaGateway(queryUrl, uniqueId),
            'gateway-thread-writer': viaGateway(threadQueryUrl, repeatedId),
            'gateway-pg-state': viaGateway(pgStateQueryUrl, repeatedId),
          };
          const selected = VARIANTS.filter((v) => !(context.quick && QUICK_SKIPS.includes(v)));
          const results = await interleaved(
            Object.fromEntries(selected.map((v) => [v, ops[v]])) as Record<
              Variant,
              typeof ops.direct
            >,
            {
              concurrency,
              warmupMs,
              durationMs,
              rounds,
              sliceWarmupMs: rounds > 1 ? 100 : 0,
              ...(cpu === undefined ? {} : { cpu }),
            },
          );
          for (const variant of selected) {
            const result = results[variant];
            if (result.errors > 0 || result.ops === 0) {
              throw new Error(
                `${db.engine} ${variant} c=${concurrency}: ${result.errors} errors; first: ${result.firstError}`,
              );
            }
            context.log(
              `${db.engine} c=${concurrency} ${variant}: ${rate(result.opsPerSec)} q/s, p50 ${us(result.latency.p50Us)}, p99 ${us(result.latency.p99Us)}`,
            );
            measurements.push({ engine: db.engine, variant, result });
          }
          agent.destroy();
        }
      }
      return outcome(measurements, identity.lookups, durationMs);
    } finally {
      for (const gateway of gateways) await gateway.stop();
      for (const close of closers) await close().catch(() => undefined);
      await identity?.close();
      await dbs.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Differences of medians of separate runs can be negative on a noisy machine: show the sign. */
function signedUs(value: number): string {
  return value < 0 ? `−${us(-value)}` : `+${us(value)}`;
}

function maybe(
  all: readonly Measurement[],
  engine: string,
  variant: Variant,
  concurrency: number,
): LoadResult | undefined {
  return all.find(
    (x) => x.engine === engine && x.variant === variant && x.result.concurrency === concurrency,
  )?.result;
}

function find(
  all: readonly Measurement[],
  engine: string,
  variant: Variant,
  concurrency: number,
): LoadResult {
  const m = maybe(all, engine, variant, concurrency);
  if (m === undefined) throw new Error(`missing measurement ${engine} ${variant} ${concurrency}`);
  return m;
}

/** `--quick` leaves out the two extra gateway configurations (and their process). */
const QUICK_SKIPS: readonly Variant[] = [
  'gateway-unique',
  'gateway-thread-writer',
  'gateway-pg-state',
];

function outcome(
  all: readonly Measurement[],
  lookups: number,
  durationMs: number,
): BenchmarkOutcome {
  const rows: Cell[][] = [];
  const ratioRows: Cell[][] = [];
  const cpuRows: Cell[][] = [];
  const targets: TargetCheck[] = [];
  for (const engine of ['mysql', 'postgres'] as const) {
    const name = engine === 'mysql' ? 'MariaDB' : 'PostgreSQL';
    for (const concurrency of CONCURRENCIES) {
      const base = find(all, engine, 'direct', concurrency);
      for (const variant of VARIANTS) {
        const r = maybe(all, engine, variant, concurrency);
        if (r === undefined) continue;
        rows.push([
          name,
          concurrency,
          VARIANT_LABEL[variant],
          rate(r.opsPerSec),
          us(r.latency.p50Us),
          us(r.latency.p99Us),
          variant === 'direct' ? '1.00×' : times(r.opsPerSec / base.opsPerSec),
          variant === 'direct' ? '' : `+${us(r.latency.p50Us - base.latency.p50Us)}`,
        ]);
      }
      const baseCpu = cpuOf(base);
      for (const variant of VARIANTS) {
        const r = maybe(all, engine, variant, concurrency);
        const c = r === undefined ? undefined : cpuOf(r);
        if (r === undefined || c === undefined || baseCpu === undefined || concurrency !== 32) {
          continue;
        }
        cpuRows.push([
          name,
          concurrency,
          VARIANT_LABEL[variant],
          us(c.client),
          us(c.gateway),
          us(c.server),
          us(c.total),
          pct(baseCpu.total / c.total),
          pct(r.opsPerSec / base.opsPerSec),
        ]);
      }
      const gw = find(all, engine, 'gateway', concurrency);
      const eng = find(all, engine, 'engine', concurrency);
      const svc = find(all, engine, 'service', concurrency);
      ratioRows.push([
        name,
        concurrency,
        pct(gw.opsPerSec / base.opsPerSec),
        signedUs(gw.latency.p50Us - base.latency.p50Us),
        signedUs(eng.latency.p50Us - base.latency.p50Us),
        signedUs(svc.latency.p50Us - eng.latency.p50Us),
        signedUs(gw.latency.p50Us - svc.latency.p50Us),
      ]);
    }
    const base32 = find(all, engine, 'direct', 32);
    const gw32 = find(all, engine, 'gateway', 32);
    const ratio = gw32.opsPerSec / base32.opsPerSec;
    const proxy32 = maybe(all, engine, 'http-proxy', 32);
    targets.push({
      name: `${name} throughput at concurrency 32`,
      target: '>= 70 % of the bare driver',
      measured:
        `${pct(ratio)} (${rate(gw32.opsPerSec)} vs ${rate(base32.opsPerSec)} q/s` +
        (proxy32 === undefined
          ? ')'
          : `; a forwarding-only HTTP proxy: ${pct(proxy32.opsPerSec / base32.opsPerSec)})`),
      pass: ratio >= 0.7,
    });
    const base1 = find(all, engine, 'direct', 1);
    const gw1 = find(all, engine, 'gateway', 1);
    const added = gw1.latency.p50Us - base1.latency.p50Us;
    targets.push({
      name: `${name} added p50 latency (concurrency 1)`,
      target: '<= 1 ms',
      measured: `+${us(added)} (${us(gw1.latency.p50Us)} vs ${us(base1.latency.p50Us)})`,
      pass: added <= 1000,
    });
  }
  return {
    summary:
      `Point selects by primary key on a 10,000-row \`employee\` table, ${durationMs / 1000} s per ` +
      'cell after a warm-up, closed loop (each of N workers sends its next query when the ' +
      'previous one answers); the paths of one row group run in interleaved 1 s slices, so a ' +
      `drift of the shared machine falls on all of them alike. Pool size ${POOL_SIZE} everywhere. The gateway runs in its own ` +
      'process exactly as `gatehouse serve` (SQLite state with synchronous=FULL, so both audit ' +
      'records of every query are fsynced before the answer; shipped logger at info level to ' +
      '/dev/null). Identity: a loopback stand-in for GitHub `GET /user`; ' +
      `it was called ${lookups} time(s) in the whole run (cached by token hash).`,
    tables: [
      {
        title: 'Throughput and latency',
        columns: [
          'database',
          'concurrency',
          'path',
          'queries/s',
          'p50',
          'p99',
          'vs direct',
          'added p50',
        ],
        rows,
      },
      {
        title: 'Gateway / direct, and where the added p50 goes',
        columns: [
          'database',
          'concurrency',
          'gateway throughput / direct',
          'added p50, total',
          'engine (read-only transaction, reset)',
          'service (analysis, grants, 2 audit appends)',
          'HTTP, auth, logging, own process',
        ],
        rows: ratioRows,
      },
      ...(cpuRows.length === 0
        ? []
        : [
            {
              title: 'CPU time per query by process, concurrency 32 (all threads, all cores)',
              columns: [
                'database',
                'concurrency',
                'path',
                'load generator (+ in-process paths)',
                'gateway process',
                'database server(s)',
                'total',
                'CPU-bound ceiling: direct total / total',
                'measured vs direct',
              ],
              rows: cpuRows,
            },
          ]),
    ],
    targets,
    notes: gatewayNotes(all),
    data: { poolSize: POOL_SIZE, durationMs, identityLookups: lookups, measurements: all },
  };
}

interface CpuPerQuery {
  readonly client: number;
  readonly gateway: number;
  readonly server: number;
  readonly total: number;
}

/** CPU µs per query of a measurement, grouped as the CPU table shows it. */
function cpuOf(result: LoadResult): CpuPerQuery | undefined {
  const groups = result.cpuUsPerOp;
  if (groups === undefined) return undefined;
  const client = groups['client'] ?? 0;
  const gateway = groups['gateway'] ?? 0;
  const server = (groups['mariadb'] ?? 0) + (groups['postgres'] ?? 0);
  return { client, gateway, server, total: client + gateway + server };
}

/** The findings under the tables, from the measurements (also used to re-render a report). */
export function gatewayNotes(all: readonly Measurement[]): string[] {
  const out: string[] = [];
  for (const engine of ['mysql', 'postgres'] as const) {
    const name = engine === 'mysql' ? 'MariaDB' : 'PostgreSQL';
    const base = find(all, engine, 'direct', 32);
    const eng = find(all, engine, 'engine', 32);
    const svc = find(all, engine, 'service', 32);
    const gw = find(all, engine, 'gateway', 32);
    const pgState = maybe(all, engine, 'gateway-pg-state', 32);
    const proxy = maybe(all, engine, 'http-proxy', 32);
    if (proxy !== undefined) {
      out.push(
        `${name}, concurrency 32: a proxy that only forwards the SQL over HTTP (Fastify and the ` +
          'bare driver in a process of their own; no identity, analysis, grant check, audit or ' +
          `session safety) reaches ${pct(proxy.opsPerSec / base.opsPerSec)} of the bare driver. ` +
          'On this machine, where the load generator, the gateway and the database share the ' +
          'cores, that is the ceiling of any gateway reached over HTTP, before it does any work ' +
          'of its own.',
      );
    }
    out.push(
      `${name}, concurrency 32, throughput relative to the bare driver: engine adapter ` +
        `${pct(eng.opsPerSec / base.opsPerSec)}, query service in process ${pct(svc.opsPerSec / base.opsPerSec)}, ` +
        `gateway over HTTP ${pct(gw.opsPerSec / base.opsPerSec)} (SQLite state)` +
        (pgState === undefined
          ? '.'
          : ` and ${pct(pgState.opsPerSec / base.opsPerSec)} (PostgreSQL state).`),
    );
  }
  for (const engine of ['mysql', 'postgres'] as const) {
    const name = engine === 'mysql' ? 'MariaDB' : 'PostgreSQL';
    const base = find(all, engine, 'direct', 32);
    const baseCpu = cpuOf(base);
    const gw = find(all, engine, 'gateway', 32);
    const gwCpu = cpuOf(gw);
    const engCpu = cpuOf(find(all, engine, 'engine', 32));
    if (baseCpu === undefined || gwCpu === undefined || engCpu === undefined) continue;
    out.push(
      `${name}, CPU-bound ceiling at concurrency 32: the bare driver needs ${us(baseCpu.total)} of ` +
        `CPU per query (load generator and server), the gateway path ${us(gwCpu.total)} ` +
        `(${us(gwCpu.client)} load generator's HTTP client, ${us(gwCpu.gateway)} gateway process, ` +
        `${us(gwCpu.server)} server). With every core busy, throughput is inversely ` +
        `proportional to CPU per query, so on this machine the gateway can reach at most ` +
        `${pct(baseCpu.total / gwCpu.total)} of the bare driver (measured ${pct(gw.opsPerSec / base.opsPerSec)}). ` +
        `The engine adapter alone, in process, needs ${us(engCpu.total)} (at most ` +
        `${pct(baseCpu.total / engCpu.total)}).`,
    );
  }
  const thread = (['mysql', 'postgres'] as const)
    .map((engine) => ({
      engine,
      inline32: maybe(all, engine, 'gateway', 32),
      thread32: maybe(all, engine, 'gateway-thread-writer', 32),
      inline1: maybe(all, engine, 'gateway', 1),
      thread1: maybe(all, engine, 'gateway-thread-writer', 1),
    }))
    .filter((x) => x.thread32 !== undefined && x.inline32 !== undefined);
  out.push(
    'Where the time goes (1): the engine adapter makes more statements per query than the ' +
      'bare driver (1): MariaDB/MySQL 3 (the query; COM_RESET_CONNECTION; the one SET SESSION ' +
      'that re-applies limits, time zone, sql_mode and read-only mode), PostgreSQL 5 in one ' +
      'write (BEGIN READ ONLY, one set_config SELECT, the query, then ROLLBACK and DISCARD ALL, ' +
      'pipelined; a row cap above 1000 sends the last two in a second write). Only one round ' +
      "trip is on the caller's path (MariaDB's reset runs after the answer), but each statement " +
      'costs CPU in the gateway and in the server, on the cores the load generator and the ' +
      'server share. These are the read-only and session-reset guarantees of issue 5; the ' +
      'benchmark keeps them.',
    'Where the time goes (2): every query appends two audit records (the attempt before any ' +
      'data is read, the outcome after), each durable (fsynced) before the query goes on. The ' +
      'appends of one event-loop turn share one transaction and fsync (group commit). ' +
      (thread.length === 0
        ? 'The SQLite audit writer thread (GATEHOUSE_SQLITE_AUDIT_WRITER=thread) is measured in the full run only.'
        : 'Running that commit in a writer thread (GATEHOUSE_SQLITE_AUDIT_WRITER=thread) instead of ' +
          'on the event loop (the default): ' +
          thread
            .map(
              (x) =>
                `${x.engine === 'mysql' ? 'MariaDB' : 'PostgreSQL'} ${rate(x.thread32?.opsPerSec ?? 0)} vs ` +
                `${rate(x.inline32?.opsPerSec ?? 0)} q/s at concurrency 32, p50 ` +
                `${us(x.thread1?.latency.p50Us ?? 0)} vs ${us(x.inline1?.latency.p50Us ?? 0)} at concurrency 1`,
            )
            .join('; ') +
          '. The thread frees the event loop during the fsync, but every append then costs a ' +
          'hand-off between threads, which on these 2 shared cores is not cheaper than the ' +
          'fsync it hides; it is for machines with cores to spare.'),
    'Where the time goes (3): at concurrency 1 nothing queues, so the added latency is the sum ' +
      'of the hand-offs of one query: client to gateway, the attempt fsync, the database round ' +
      'trip, the outcome fsync, the answer. Each one wakes another process or the disk; the ' +
      'fdatasync probe in the header shows what one flush costs on this disk at the time of ' +
      "the run, and two of them are on every query's path by design (docs/audit.md).",
    'With PostgreSQL state the appends are asynchronous and grouped (src/state/group-commit.ts), ' +
      'but each batch costs 3 round trips (BEGIN with the lock timeout and the chain head lock, ' +
      'one call writing every record of the batch, COMMIT), which adds latency at concurrency 1.',
    'The unique-SQL rows show a cold analysis per query (node-sql-parser on MariaDB is the ' +
      'costlier parser; see benchmark 2).',
  );
  return out;
}
