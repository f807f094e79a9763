/**
 * Real parts for the gateway and server tests: a MariaDB and a PostgreSQL database (fresh,
 * uniquely named, via test/support/databases.ts) each holding `employee` and `salary`, a
 * SELECT-only gateway user per server (the shared database user of production), the real
 * engines, and real SQLite state. `salary` holds MARKER, which must never appear in a refused
 * response.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createEngine } from '../../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions, QueryResult } from '../../../src/engines/engine.js';
import { grantId } from '../../../src/grants/grant-id.js';
import type { Grant, NewGrant } from '../../../src/grants/grant.js';
import type { DatabaseConfig, Databases } from '../../../src/policy/databases.js';
import { openState, type State } from '../../../src/state/open-state.js';
import type { AuditLog } from '../../../src/audit/audit-log.js';
import type { AuditRecord } from '../../../src/audit/audit-record.js';
import { GatehouseError } from '../../../src/errors/catalogue.js';
import type { Clock } from '../../../src/util/clock.js';
import {
  createMysqlDatabase,
  createPostgresDatabase,
  MYSQL_URL,
  PG_URL,
  type TestDatabase,
} from '../../support/databases.js';

export const MARKER = 'SECRET-MARKER-42';
export const EMPLOYEES = 300;
export const MYSQL_DB = 'hr_test';
export const PG_DB = 'analytics_test';
export const PASSWORD_ENV = 'GATEHOUSE_TEST_GATEWAY_PASSWORD';
const PASSWORD = `pw_${randomBytes(6).toString('hex')}`;
export const ENGINE_ENV = { [PASSWORD_ENV]: PASSWORD };

const REPO = 'acme/access';

/** A mutable clock the tests move (grant expiry between two queries). */
export interface TestClock {
  readonly clock: Clock;
  now(): Date;
  set(at: Date): void;
}

export function testClock(start = new Date('2030-01-01T10:00:00Z')): TestClock {
  let current = start;
  return { clock: () => current, now: () => current, set: (at) => (current = at) };
}

/** The real engine, counting executions and noting what the audit log held at that moment
 * (proof that the attempt record was durable BEFORE the database saw the statement). */
export interface CountingEngine extends Engine {
  readonly executions: { sql: string; attemptsSeenBefore: readonly AuditRecord[] }[];
}

export function countingEngine(inner: Engine, audit: AuditLog): CountingEngine {
  const executions: CountingEngine['executions'] = [];
  return {
    kind: inner.kind,
    executions,
    async execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
      const attemptsSeenBefore = await audit.query({ types: ['query.attempt'] });
      executions.push({ sql, attemptsSeenBefore });
      return inner.execute(sql, options);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** The real audit log, which a test can switch to failing like a store that cannot write. */
export interface SwitchableAudit extends AuditLog {
  failing: boolean;
}

export function switchableAudit(inner: AuditLog): SwitchableAudit {
  const audit: SwitchableAudit = {
    failing: false,
    append(event, at) {
      if (audit.failing) {
        return Promise.reject(
          new GatehouseError('AUDIT_UNAVAILABLE', 'audit store is down (test)'),
        );
      }
      return inner.append(event, at);
    },
    query: (filter) => inner.query(filter),
    verify: () => inner.verify(),
  };
  return audit;
}

export interface GatewayFixture {
  readonly databases: Databases;
  readonly state: State;
  readonly stateDir: string;
  readonly engines: ReadonlyMap<string, CountingEngine>;
  readonly mysqlName: string;
  readonly pgName: string;
  /** The SELECT-only gateway user on both servers (password in ENGINE_ENV). */
  readonly user: string;
  grant(
    login: string,
    database: string,
    tables: readonly string[],
    window: { from: Date; until: Date },
  ): Promise<Grant>;
  close(): Promise<void>;
}

async function seedMysql(db: TestDatabase, user: string): Promise<void> {
  const conn = await mysql.createConnection(db.url);
  try {
    await conn.query(
      'CREATE TABLE employee (emp_no INT PRIMARY KEY, first_name VARCHAR(50), last_name VARCHAR(50), hire_date DATE)',
    );
    await conn.query('CREATE TABLE salary (emp_no INT, amount INT, note VARCHAR(100))');
    const rows = Array.from({ length: EMPLOYEES }, (_v, i) => [
      i + 1,
      `First${i + 1}`,
      `Last${i + 1}`,
      '2020-01-01',
    ]);
    await conn.query('INSERT INTO employee VALUES ?', [rows]);
    await conn.query('INSERT INTO salary VALUES (1, 100000, ?), (2, 90000, ?)', [MARKER, MARKER]);
    for (const host of ['%', 'localhost', '127.0.0.1']) {
      await conn.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${PASSWORD}'`);
      await conn.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'${host}'`);
    }
  } finally {
    await conn.end();
  }
}

async function dropMysqlUser(user: string): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL);
  try {
    for (const host of ['%', 'localhost', '127.0.0.1']) {
      await conn.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
    }
  } finally {
    await conn.end();
  }
}

async function seedPostgres(db: TestDatabase, user: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${PASSWORD}'`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE employee (emp_no int PRIMARY KEY, first_name text, last_name text, hire_date date)',
    );
    await client.query('CREATE TABLE salary (emp_no int, amount int, note text)');
    await client.query(
      `INSERT INTO employee SELECT n, 'First' || n, 'Last' || n, DATE '2020-01-01' FROM generate_series(1, ${EMPLOYEES}) AS n`,
    );
    await client.query('INSERT INTO salary VALUES (1, 100000, $1), (2, 90000, $1)', [MARKER]);
    await client.query(`GRANT USAGE ON SCHEMA public TO "${user}"`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${user}"`);
  } finally {
    await client.end();
  }
}

async function dropPostgresRole(user: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP ROLE IF EXISTS "${user}"`);
  } finally {
    await admin.end();
  }
}

export async function createGatewayFixture(clock: Clock): Promise<GatewayFixture> {
  const user = `gw_${randomBytes(4).toString('hex')}`;
  const mdb = await createMysqlDatabase('gh_gw');
  const pdb = await createPostgresDatabase('gh_gw');
  await seedMysql(mdb, user);
  await seedPostgres(pdb, user);
  const pgUrl = new URL(PG_URL);
  const mysqlUrl = new URL(MYSQL_URL);
  const auth = { kind: 'password', user, passwordEnv: PASSWORD_ENV } as const;
  const configs: DatabaseConfig[] = [
    {
      id: MYSQL_DB,
      engine: 'mysql',
      environment: 'test',
      host: mysqlUrl.hostname,
      port: Number(mysqlUrl.port || 3306),
      name: mdb.name,
      auth,
      tls: { required: false },
    },
    {
      id: PG_DB,
      engine: 'postgres',
      environment: 'test',
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
      name: pdb.name,
      defaultSchema: 'public',
      auth,
      tls: { required: false },
    },
  ];
  const databases: Databases = new Map(configs.map((c) => [c.id, c]));
  const stateDir = mkdtempSync(join(tmpdir(), 'gatehouse-gw-'));
  const state = await openState({ kind: 'sqlite', path: join(stateDir, 'gatehouse.db') }, clock);
  const engines = new Map(
    configs.map((c) => [
      c.id,
      countingEngine(createEngine(c, { poolSize: 4, env: ENGINE_ENV }), state.audit),
    ]),
  );
  let seq = 0;
  return {
    databases,
    state,
    stateDir,
    engines,
    mysqlName: mdb.name,
    pgName: pdb.name,
    user,
    async grant(login, database, tables, window) {
      seq += 1;
      const filePath = `access/${database}/${login}-${seq}.yaml`;
      const mergeSha = randomBytes(20).toString('hex');
      const grant: NewGrant = {
        id: grantId(REPO, filePath, mergeSha),
        repo: REPO,
        requester: login,
        database,
        tables,
        access: 'read',
        level: 'low',
        reason: 'incident 42',
        ticket: null,
        filePath,
        prNumber: 100 + seq,
        prUrl: `https://github.com/${REPO}/pull/${100 + seq}`,
        headSha: randomBytes(20).toString('hex'),
        mergeSha,
        approvers: [{ login: 'dba-dana', reviewId: 7000 + seq }],
        activatedAt: window.from,
        expiresAt: window.until,
      };
      return (await state.grants.insert(grant)).grant;
    },
    async close() {
      await Promise.allSettled([...engines.values()].map((e) => e.close()));
      await state.close();
      rmSync(stateDir, { recursive: true, force: true });
      await Promise.allSettled([mdb.drop(), pdb.drop()]);
      await Promise.allSettled([dropMysqlUser(user), dropPostgresRole(user)]);
    },
  };
}
