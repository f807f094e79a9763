/**
 * The databases the gateway benchmark reads: a fresh MariaDB database and a fresh PostgreSQL
 * database (test/support/databases.ts helpers), each with an `employee` table and a
 * SELECT-only user, as docs/databases.md tells operators to set up the gateway user.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  MYSQL_URL,
  PG_URL,
  createMysqlDatabase,
  createPostgresDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import type { DatabaseConfig } from '../../src/policy/databases.js';

export const EMPLOYEES = 10_000;
export const BENCH_PASSWORD = 'bench-pw';
export const BENCH_PASSWORD_ENV = 'GATEHOUSE_BENCH_DB_PASSWORD';

export interface BenchDatabases {
  /** The SELECT-only user on both servers (password BENCH_PASSWORD). */
  readonly user: string;
  readonly mysql: DatabaseConfig;
  readonly postgres: DatabaseConfig;
  drop(): Promise<void>;
}

const MYSQL_HOSTS = ['%', 'localhost', '127.0.0.1'];

async function seedMysql(db: TestDatabase, user: string): Promise<void> {
  const conn = await mysql.createConnection(db.url);
  try {
    await conn.query(
      'CREATE TABLE employee (emp_no INT PRIMARY KEY, first_name VARCHAR(50), last_name VARCHAR(50), hire_date DATE, dept_no CHAR(4))',
    );
    const rows = Array.from({ length: EMPLOYEES }, (_v, i) => [
      i + 1,
      `First${i + 1}`,
      `Last${i + 1}`,
      '2020-01-01',
      `d00${i % 9}`,
    ]);
    await conn.query('INSERT INTO employee VALUES ?', [rows]);
    for (const host of MYSQL_HOSTS) {
      await conn.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${BENCH_PASSWORD}'`);
      await conn.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'${host}'`);
    }
  } finally {
    await conn.end();
  }
}

async function seedPostgres(db: TestDatabase, user: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${BENCH_PASSWORD}'`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE employee (emp_no int PRIMARY KEY, first_name text, last_name text, hire_date date, dept_no char(4))',
    );
    await client.query(
      `INSERT INTO employee SELECT n, 'First' || n, 'Last' || n, DATE '2020-01-01', 'd00' || (n % 9)
       FROM generate_series(1, ${EMPLOYEES}) AS n`,
    );
    await client.query('ANALYZE employee');
    await client.query(`GRANT USAGE ON SCHEMA public TO "${user}"`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${user}"`);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabases(): Promise<BenchDatabases> {
  const user = `bench_${randomBytes(4).toString('hex')}`;
  const mdb = await createMysqlDatabase('gh_bench');
  const pdb = await createPostgresDatabase('gh_bench');
  await seedMysql(mdb, user);
  await seedPostgres(pdb, user);
  const mysqlUrl = new URL(MYSQL_URL);
  const pgUrl = new URL(PG_URL);
  const auth = { kind: 'password', user, passwordEnv: BENCH_PASSWORD_ENV } as const;
  return {
    user,
    mysql: {
      id: 'hr_bench',
      engine: 'mysql',
      environment: 'bench',
      host: mysqlUrl.hostname,
      port: Number(mysqlUrl.port || 3306),
      name: mdb.name,
      auth,
      tls: { required: false },
    },
    postgres: {
      id: 'analytics_bench',
      engine: 'postgres',
      environment: 'bench',
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
      name: pdb.name,
      defaultSchema: 'public',
      auth,
      tls: { required: false },
    },
    async drop() {
      await Promise.allSettled([mdb.drop(), pdb.drop()]);
      const conn = await mysql.createConnection(MYSQL_URL);
      try {
        for (const host of MYSQL_HOSTS) await conn.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      } finally {
        await conn.end();
      }
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`DROP ROLE IF EXISTS "${user}"`);
      } finally {
        await admin.end();
      }
    },
  };
}
