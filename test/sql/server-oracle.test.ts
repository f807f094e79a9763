/**
 * The servers as oracle. For every statement the analyser ALLOWS, a database user holding
 * SELECT on exactly the tables the analysis lists runs it on the real server (MariaDB,
 * PostgreSQL): a privilege error means the server read a table the analyser did not see.
 * Checked over hand-written statements and over seeded mutations (the fuzzer of
 * fuzz.test.ts), so parser differentials show up as failures here. Also demonstrates, as
 * root, that the MySQL differentials the lexer refuses are real.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineKind } from '../../src/policy/databases.js';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import {
  MYSQL_URL,
  createMysqlDatabase,
  createPostgresDatabase,
  uniqueName,
  type TestDatabase,
} from '../support/databases.js';

const COMMON = [
  'select 1',
  'select * from employee',
  'select e.name, s.amount from employee e join salary s on s.id = e.id',
  'select * from employee where id in (select id from salary)',
  'select * from employee e where exists (select 1 from title t where t.id = e.id)',
  'select (select max(amount) from salary) from employee',
  'with s as (select * from salary) select * from s',
  'with salary as (select 1 as amount) select * from salary',
  'with recursive r (n) as (select 1 union all select n + 1 from r where n < 3) select * from r',
  'with a as (select * from employee), b as (select * from a) select * from b',
  'select * from (with salary as (select 2 as id) select * from salary) x join title using (id)',
  'select id from employee union select id from salary',
  'select * from (select * from title) x',
  'select id, count(*), max(amount) from salary group by id having count(*) > 0 order by 1',
  'select * from employee where id = any (select id from salary)',
  "select * from employee where name like 'a%' -- trailing comment",
  'select * from employee /* comment */ where id > 0',
];

const MYSQL_ONLY = [
  'select * from employee # hash comment',
  "select * from employee where name = 'it''s'",
  'select `e`.`name` from `employee` `e`',
];

const POSTGRES_ONLY = [
  'table salary',
  'select * from only salary',
  'select * from employee tablesample bernoulli (50)',
  'select * from generate_series(1, 2) g, lateral (select * from salary where id = g) s',
  'values (1), (2)',
  'select * from "Employee"',
  "select E'it\\'s', $$x$$ from employee",
];

const VOCABULARY = [
  ' salary', ' employee', ' title', ' "Employee"', ' `salary`', ',', '(', ')', ' union select * from ',
  ' where ', ' --', ' -- ', '#', '/*', '*/', "'", '"', '\\', ' only ', ' table ', ' with ',
  ' as ', ' from ', ' join ', ' on true ', ' select ', '1', ';', '.', '$$',
]; // prettier-ignore

function mutations(seed: number, count: number): string[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let text = pick(COMMON);
    for (let e = 0; e < 1 + Math.floor(next() * 3); e++) {
      const at = Math.floor(next() * (text.length + 1));
      text =
        next() < 0.6
          ? text.slice(0, at) + pick(VOCABULARY) + text.slice(at)
          : text.slice(0, at) + text.slice(at + 1);
    }
    out.push(text);
  }
  return out;
}

interface Oracle {
  /** Runs sql as a user holding SELECT on exactly `tables`; returns the error code, if any. */
  run(sql: string, tables: readonly string[]): Promise<string | undefined>;
}

async function checkAllowed(
  engine: EngineKind,
  defaultSchema: string,
  oracle: Oracle,
  sql: string,
) {
  const analysis = analyzeSql({ engine, sql, defaultSchema });
  if (!analysis.ok) return { allowed: false, denied: false };
  // Tables in other schemas/databases do not exist here: the statement cannot read anything.
  if (analysis.tables.some((t) => t.schema !== defaultSchema)) {
    return { allowed: true, denied: false, code: 'NO_SUCH_TABLE' };
  }
  const tables = analysis.tables.map((t) => t.name);
  const code = await oracle.run(sql, tables);
  return { allowed: true, denied: code !== undefined && /DENIED|42501/.test(code), code };
}

async function grantEach(
  tables: readonly string[],
  grant: (table: string) => Promise<unknown>,
): Promise<string[]> {
  const granted: string[] = [];
  for (const table of tables) {
    try {
      await grant(table);
      granted.push(table);
    } catch {
      // no such table
    }
  }
  return granted;
}

beforeAll(async () => {
  await initSqlAnalysis();
});

describe('MariaDB as oracle', () => {
  let db: TestDatabase;
  let admin: mysql.Connection;
  let user: mysql.Connection;
  const login = uniqueName('gh_oracle').slice(0, 32);
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    db = await createMysqlDatabase('gh_sql_oracle');
    admin = await mysql.createConnection(`${MYSQL_URL.replace(/\/$/, '')}/${db.name}`);
    await admin.query('create table employee (id int, name varchar(50))');
    await admin.query('create table salary (id int, amount int)');
    await admin.query('create table title (id int, title varchar(50))');
    await admin.query("insert into employee values (1, 'ann'), (2, 'bob')");
    await admin.query('insert into salary values (1, 424242), (2, 434343)');
    await admin.query("insert into title values (1, 'eng')");
    await admin.query(`create user '${login}'@'%' identified by '${password}'`);
    // A table no statement names, so the user may connect to the database at all.
    await admin.query('create table anchor (id int)');
    await admin.query(`grant select on \`${db.name}\`.anchor to '${login}'@'%'`);
    const url = new URL(MYSQL_URL);
    user = await mysql.createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: login,
      password,
      database: db.name,
    });
  });

  afterAll(async () => {
    await user?.end();
    await admin?.query(`drop user if exists '${login}'@'%'`);
    await admin?.end();
    await db?.drop();
  });

  const oracle: Oracle = {
    async run(sql, tables) {
      const granted = await grantEach(tables, (t) =>
        admin.query(`grant select on \`${db.name}\`.\`${t}\` to '${login}'@'%'`),
      );
      try {
        // A statement naming a missing table fails before it reads anything.
        if (granted.length < tables.length) return 'NO_SUCH_TABLE';
        await user.query(sql);
        return undefined;
      } catch (error) {
        return String((error as { code?: string }).code ?? error);
      } finally {
        for (const t of granted) {
          await admin.query(`revoke select on \`${db.name}\`.\`${t}\` from '${login}'@'%'`);
        }
      }
    },
  };

  it('runs every allowed hand-written statement with only the analysed tables', async () => {
    for (const sql of [...COMMON, ...MYSQL_ONLY]) {
      const result = await checkAllowed('mysql', db.name, oracle, sql);
      expect(result.allowed, sql).toBe(true);
      expect(result.code, sql).toBeUndefined();
    }
  });

  it('never lets an allowed mutation read an unlisted table', async () => {
    let allowed = 0;
    for (const sql of mutations(7, 400)) {
      const result = await checkAllowed('mysql', db.name, oracle, sql);
      if (result.allowed) allowed++;
      expect(result.denied, `${sql} → ${result.code}`).toBe(false);
    }
    expect(allowed).toBeGreaterThan(10);
  });

  it('the refused differentials are real on the server', async () => {
    const value = async (sql: string) => Object.values((await admin.query(sql))[0] as object[])[0];
    // '--1' is minus minus one, not a comment.
    expect(Object.values((await value('select 1 --1 as x')) as object)[0]).toBe(2);
    // Executable comments are executed.
    expect(Object.values((await value('select 1 /*! + 1 */ as x')) as object)[0]).toBe(2);
    expect(analyzeSql({ engine: 'mysql', sql: 'select 1 --1', defaultSchema: db.name }).ok).toBe(
      false,
    );
    expect(
      analyzeSql({ engine: 'mysql', sql: 'select 1 /*! + 1 */', defaultSchema: db.name }).ok,
    ).toBe(false);
  });
});

describe('PostgreSQL as oracle', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let user: pg.Client;
  const login = uniqueName('gh_oracle');
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    db = await createPostgresDatabase('gh_sql_oracle');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query('create table employee (id int, name text)');
    await admin.query('create table "Employee" (id int, name text)');
    await admin.query('create table salary (id int, amount int)');
    await admin.query('create table title (id int, title text)');
    await admin.query("insert into employee values (1, 'ann'), (2, 'bob')");
    await admin.query('insert into salary values (1, 424242), (2, 434343)');
    await admin.query("insert into title values (1, 'eng')");
    await admin.query(`create role ${login} login password '${password}'`);
    const url = new URL(db.url);
    url.username = login;
    url.password = password;
    user = new pg.Client({ connectionString: url.toString() });
    await user.connect();
  });

  afterAll(async () => {
    await user?.end();
    await admin?.end();
    await db?.drop();
    const cleanup = new pg.Client({ connectionString: new URL('/postgres', db.url).toString() });
    await cleanup.connect();
    await cleanup.query(`drop role if exists ${login}`);
    await cleanup.end();
  });

  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const oracle: Oracle = {
    async run(sql, tables) {
      const granted = await grantEach(tables, (t) =>
        admin.query(`grant select on public.${quote(t)} to ${login}`),
      );
      try {
        // A statement naming a missing table fails before it reads anything.
        if (granted.length < tables.length) return 'NO_SUCH_TABLE';
        await user.query(sql);
        return undefined;
      } catch (error) {
        return String((error as { code?: string }).code ?? error);
      } finally {
        for (const t of granted) {
          await admin.query(`revoke select on public.${quote(t)} from ${login}`);
        }
      }
    },
  };

  it('runs every allowed hand-written statement with only the analysed tables', async () => {
    for (const sql of [...COMMON, ...POSTGRES_ONLY]) {
      const result = await checkAllowed('postgres', 'public', oracle, sql);
      expect(result.allowed, sql).toBe(true);
      expect(result.code, sql).toBeUndefined();
    }
  });

  it('never lets an allowed mutation read an unlisted table', async () => {
    let allowed = 0;
    for (const sql of mutations(11, 400)) {
      const result = await checkAllowed('postgres', 'public', oracle, sql);
      if (result.allowed) allowed++;
      expect(result.denied, `${sql} → ${result.code}`).toBe(false);
    }
    expect(allowed).toBeGreaterThan(10);
  });
});
