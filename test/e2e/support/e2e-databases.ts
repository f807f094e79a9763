/**
 * The real databases of the end-to-end scenario: `hr_prod` on MariaDB and `analytics_prod` on
 * PostgreSQL, each a fresh database (test/support/databases.ts) holding the employee sample,
 * read by ONE SELECT-only user with a password, as the shared database user of production
 * (docs/databases.md). `salary` holds MARKER, which no refused response may ever carry.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  createMysqlDatabase,
  createPostgresDatabase,
  MYSQL_URL,
  PG_URL,
  uniqueName,
  type TestDatabase,
} from '../../support/databases.js';

export const MARKER = 'E2E-SALARY-MARKER-7';
export const EMPLOYEES = 25;
export const PASSWORD_ENV = 'GATEHOUSE_E2E_DB_PASSWORD';

export interface E2eDatabases {
  readonly mysql: TestDatabase;
  readonly postgres: TestDatabase;
  /** The SELECT-only user on both servers. */
  readonly user: string;
  readonly password: string;
  /** policies/databases.yaml of the scenario: hr_prod (MariaDB) and analytics_prod
   * (PostgreSQL), plus hr_test and hr_demo on the same servers so that every environment
   * the repository's risk policy names exists. Passwords by variable, never inline. */
  readonly databasesYaml: string;
  drop(): Promise<void>;
}

const SAMPLE = Array.from({ length: EMPLOYEES }, (_v, i) => ({
  empNo: 10001 + i,
  first: ['Georgi', 'Bezalel', 'Parto', 'Chirstian', 'Kyoichi'][i % 5] ?? 'Ann',
  last: ['Facello', 'Simmel', 'Bamford', 'Koblick', 'Maliniak'][(i * 3) % 5] ?? 'Lee',
  hired: `19${86 + (i % 10)}-0${1 + (i % 9)}-1${i % 10}`,
}));

async function seedMysql(db: TestDatabase, user: string, password: string): Promise<void> {
  const conn = await mysql.createConnection(db.url);
  try {
    await conn.query(
      'CREATE TABLE department (dept_no CHAR(4) PRIMARY KEY, dept_name VARCHAR(40) NOT NULL)',
    );
    await conn.query(
      'CREATE TABLE employee (emp_no INT PRIMARY KEY, first_name VARCHAR(14), last_name VARCHAR(16), hire_date DATE)',
    );
    await conn.query('CREATE TABLE title (emp_no INT, title VARCHAR(50), from_date DATE)');
    await conn.query('CREATE TABLE salary (emp_no INT, amount INT, note VARCHAR(40))');
    await conn.query(
      "INSERT INTO department VALUES ('d001', 'Marketing'), ('d005', 'Development')",
    );
    await conn.query('INSERT INTO employee VALUES ?', [
      SAMPLE.map((e) => [e.empNo, e.first, e.last, e.hired]),
    ]);
    await conn.query('INSERT INTO title VALUES ?', [
      SAMPLE.map((e) => [e.empNo, 'Engineer', e.hired]),
    ]);
    await conn.query('INSERT INTO salary VALUES ?', [
      SAMPLE.map((e, i) => [e.empNo, 40000 + i * 1000, MARKER]),
    ]);
    for (const host of ['%', 'localhost', '127.0.0.1']) {
      await conn.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
      await conn.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'${host}'`);
    }
  } finally {
    await conn.end();
  }
}

async function seedPostgres(db: TestDatabase, user: string, password: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${password}'`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE department (dept_no char(4) PRIMARY KEY, dept_name text NOT NULL)',
    );
    await client.query(
      'CREATE TABLE employee (emp_no int PRIMARY KEY, first_name text, last_name text, hire_date date)',
    );
    await client.query('CREATE TABLE title (emp_no int, title text, from_date date)');
    await client.query('CREATE TABLE salary (emp_no int, amount int, note text)');
    await client.query(
      "INSERT INTO department VALUES ('d001', 'Marketing'), ('d005', 'Development')",
    );
    for (const [i, e] of SAMPLE.entries()) {
      await client.query('INSERT INTO employee VALUES ($1, $2, $3, $4)', [
        e.empNo,
        e.first,
        e.last,
        e.hired,
      ]);
      await client.query("INSERT INTO title VALUES ($1, 'Engineer', $2)", [e.empNo, e.hired]);
      await client.query('INSERT INTO salary VALUES ($1, $2, $3)', [
        e.empNo,
        40000 + i * 1000,
        MARKER,
      ]);
    }
    // Read-only, as docs/databases.md asks of the shared user.
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA public TO "${user}"`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${user}"`);
  } finally {
    await client.end();
  }
}

function databasesYaml(mysqlDb: TestDatabase, pgDb: TestDatabase, user: string): string {
  const my = new URL(MYSQL_URL);
  const pgUrl = new URL(PG_URL);
  const entry = (
    id: string,
    engine: 'mysql' | 'postgres',
    environment: string,
    name: string,
  ): string => {
    const url = engine === 'mysql' ? my : pgUrl;
    return `  ${id}:
    engine: ${engine}
    environment: ${environment}
    host: ${url.hostname}
    port: ${url.port || (engine === 'mysql' ? '3306' : '5432')}
    name: ${name}
    auth:
      password:
        user: ${user}
        passwordEnv: ${PASSWORD_ENV}
    tls:
      required: false
    tables: [employee, title, salary, department]
`;
  };
  return `# yaml-language-server: $schema=../schemas/databases.schema.json
# The end-to-end scenario's databases (test/e2e): real MariaDB and PostgreSQL on loopback.
databases:
${entry('hr_prod', 'mysql', 'prod', mysqlDb.name)}
${entry('hr_test', 'mysql', 'test', mysqlDb.name)}
${entry('analytics_prod', 'postgres', 'prod', pgDb.name)}
${entry('hr_demo', 'postgres', 'demo', pgDb.name)}`;
}

export async function createE2eDatabases(): Promise<E2eDatabases> {
  const user = uniqueName('gh_e2e_ro');
  const password = `pw_${randomBytes(8).toString('hex')}`;
  const mysqlDb = await createMysqlDatabase('gh_e2e');
  const postgresDb = await createPostgresDatabase('gh_e2e');
  const drop = async () => {
    const conn = await mysql.createConnection(MYSQL_URL);
    try {
      for (const host of ['%', 'localhost', '127.0.0.1']) {
        await conn.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      }
    } finally {
      await conn.end();
    }
    await mysqlDb.drop();
    await postgresDb.drop();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS "${user}"`);
    } finally {
      await admin.end();
    }
  };
  try {
    await seedMysql(mysqlDb, user, password);
    await seedPostgres(postgresDb, user, password);
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return {
    mysql: mysqlDb,
    postgres: postgresDb,
    user,
    password,
    databasesYaml: databasesYaml(mysqlDb, postgresDb, user),
    drop,
  };
}
