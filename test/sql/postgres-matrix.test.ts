import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';

/** Allowed: the exact tables (schema.name) it reads. Refused: a code among its reasons. */
type Case = readonly [sql: string, expected: readonly string[] | string];

const analyze = (sql: string) => analyzeSql({ engine: 'postgres', sql, defaultSchema: 'public' });

const ALLOWED: readonly Case[] = [
  ['select 1', []],
  ['select now()', []],
  ['select * from employee', ['public.employee']],
  ['select * from employee;', ['public.employee']],
  ['SELECT * FROM EMPLOYEE', ['public.employee']],
  ['select * from "Employee"', ['public.Employee']],
  ['select * from public.employee', ['public.employee']],
  ['select * from hr.employee', ['hr.employee']],
  ['select * from only employee', ['public.employee']],
  ['select * from only (employee)', ['public.employee']],
  ['table employee', ['public.employee']],
  ['values (1, 2), (3, 4)', []],
  [
    'select e.name, t.title from employee e join title t on t.emp_no = e.emp_no',
    ['public.employee', 'public.title'],
  ],
  ['select * from employee natural join title', ['public.employee', 'public.title']],
  [
    'select * from employee e left join salary s using (emp_no)',
    ['public.employee', 'public.salary'],
  ],
  [
    'select * from employee, title cross join department',
    ['public.department', 'public.employee', 'public.title'],
  ],
  [
    'select * from employee where emp_no in (select emp_no from salary)',
    ['public.employee', 'public.salary'],
  ],
  [
    'select * from employee e where exists (select 1 from salary s where s.emp_no = e.emp_no)',
    ['public.employee', 'public.salary'],
  ],
  ['select (select max(amount) from salary)', ['public.salary']],
  [
    'select * from employee where emp_no = any (select emp_no from title)',
    ['public.employee', 'public.title'],
  ],
  ['select * from (select * from salary) s', ['public.salary']],
  [
    'select * from employee e, lateral (select * from title t where t.emp_no = e.emp_no) x',
    ['public.employee', 'public.title'],
  ],
  [
    'select * from generate_series(1, 3) g, lateral (select * from salary where id = g) s',
    ['public.salary'],
  ],
  ['select * from unnest(array[1, 2]) with ordinality as u(x, n)', []],
  [
    'select a from t1 union select b from t2 except select c from t3',
    ['public.t1', 'public.t2', 'public.t3'],
  ],
  [
    '(select a from t1) intersect (select b from t2) order by 1 limit 3',
    ['public.t1', 'public.t2'],
  ],
  ['with s as (select * from salary) select * from s', ['public.salary']],
  ['with salary as (select 1 as amount) select * from salary', []],
  ['with s as materialized (select * from salary) select * from s', ['public.salary']],
  ['with a as (select 1), b as (select * from a) select * from b', []],
  [
    'with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select * from r',
    [],
  ],
  [
    'with x as (select 1) select * from (with x as (select * from salary) select * from x) y, x',
    ['public.salary'],
  ],
  [
    'select dept, count(*), avg(amount) from salary group by dept having count(*) > 1 order by 2 desc',
    ['public.salary'],
  ],
  ['select dept, sum(amount) from salary group by rollup (dept), cube (dept)', ['public.salary']],
  [
    'select row_number() over (partition by dept order by amount desc) from salary',
    ['public.salary'],
  ],
  ['select rank() over w from salary window w as (order by amount)', ['public.salary']],
  ['select count(*) filter (where amount > 10) from salary', ['public.salary']],
  ['select percentile_cont(0.5) within group (order by amount) from salary', ['public.salary']],
  ["select string_agg(name, ',' order by name) from employee", ['public.employee']],
  [
    "select date_trunc('month', hired), extract(year from hired), hired::date, age(hired) from employee",
    ['public.employee'],
  ],
  ['select coalesce(a, b), nullif(a, b), greatest(a, b), least(a, b) from t', ['public.t']],
  ["select case when amount > 10 then 'high' else 'low' end from salary", ['public.salary']],
  [
    "select cast(amount as text), amount::numeric(10, 2), '1 day'::interval, '{}'::jsonb from salary",
    ['public.salary'],
  ],
  [
    "select * from employee where name ilike 'a%' and name similar to 'b%' and hired between now() - interval '1 year' and now()",
    ['public.employee'],
  ],
  ["select doc->'a', doc->>'b', doc #> '{c}' from employee where doc @> '{}'", ['public.employee']],
  ["select E'it\\'s', 'a\\b', $$x$$, $tag$y$tag$", []],
  ["select * from employee where name = 'it''s'", ['public.employee']],
  ['select * from employee -- comment\n where true', ['public.employee']],
  ['select /* a /* nested */ comment */ * from employee', ['public.employee']],
  ['select (array[1, 2])[1], (row(1, 2)).f1, current_date, localtimestamp', []],
  ['select * from employee tablesample bernoulli (10) repeatable (1)', ['public.employee']],
  [
    'select distinct on (dept) dept, name from employee order by dept, name nulls last',
    ['public.employee'],
  ],
  ['select * from employee limit 10 offset 5', ['public.employee']],
  ['select * from employee fetch first 3 rows only', ['public.employee']],
  ['select pg_catalog.lower(name) from employee', ['public.employee']],
];

const REFUSED: readonly Case[] = [
  ['', 'SQL_EMPTY'],
  ['  -- only a comment', 'SQL_EMPTY'],
  [';', 'SQL_EMPTY'],
  ['select from where', 'SQL_PARSE_ERROR'],
  ["select 'unterminated", 'SQL_PARSE_ERROR'],
  ['select 1; select 2', 'SQL_MULTIPLE_STATEMENTS'],
  ['select * from employee; drop table salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['insert into salary values (1)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['update salary set amount = 0', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['delete from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['merge into salary using t on true when matched then delete', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['drop table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['truncate salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['copy salary to stdout', 'SQL_STATEMENT_NOT_ALLOWED'],
  ["copy (select * from salary) to '/tmp/x'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['do $$ begin perform pg_sleep(1); end $$', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['explain select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['explain analyze select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['prepare p as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['execute p', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['call p()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['show search_path', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['set role postgres', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['set search_path = evil', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['reset all', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['begin', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['lock table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['declare c cursor for select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['create table x as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['listen x', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['select * into x from salary', 'SQL_SELECT_INTO'],
  ['select * from salary for update', 'SQL_LOCKING_CLAUSE'],
  ['select * from salary for share skip locked', 'SQL_LOCKING_CLAUSE'],
  ['select * from salary for no key update nowait', 'SQL_LOCKING_CLAUSE'],
  ['with x as (delete from salary returning *) select * from x', 'SQL_DATA_MODIFYING_CTE'],
  ['with x as (insert into salary values (1) returning *) select 1', 'SQL_DATA_MODIFYING_CTE'],
  ['with x as (update salary set amount = 0 returning *) select 1', 'SQL_DATA_MODIFYING_CTE'],
  ["select 'a\\' , (select amount from salary) --'", 'SQL_LEXICAL'],
  ['select pg_sleep(10)', 'SQL_FUNCTION_NOT_ALLOWED'],
  // SQL-syntax session functions name the shared database user and database.
  ['select current_user', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select session_user, current_catalog', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select current_schema', 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select pg_read_file('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select query_to_xml('select * from salary', true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select table_to_xml('salary', true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  [
    "select * from dblink('dbname=x', 'select * from salary') as t(a int)",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ["select lo_import('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select set_config('search_path', 'evil', false)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select current_setting('data_directory')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select pg_advisory_lock(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select nextval('s')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select public.read_salary(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select my_udf(name) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select "Lower"(name) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select * from employee tablesample system_rows (10)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select 'salary'::regclass", 'SQL_TYPE_NOT_ALLOWED'],
  ['select x::my_domain from employee', 'SQL_TYPE_NOT_ALLOWED'],
  ['select a operator(public.+) b from employee', 'SQL_OPERATOR_NOT_ALLOWED'],
  ['select a === b from employee', 'SQL_OPERATOR_NOT_ALLOWED'],
  ['select * from pg_catalog.pg_authid', 'SQL_SYSTEM_CATALOG'],
  ['select * from pg_stats', 'SQL_SYSTEM_CATALOG'],
  ['select * from pg_stat_activity', 'SQL_SYSTEM_CATALOG'],
  ['select * from pg_user', 'SQL_SYSTEM_CATALOG'],
  ['select * from information_schema.tables', 'SQL_SYSTEM_CATALOG'],
  ['select * from pg_toast.pg_toast_1234', 'SQL_SYSTEM_CATALOG'],
  ['select * from employee where id in (select usesysid from pg_user)', 'SQL_SYSTEM_CATALOG'],
  ['select * from otherdb.public.salary', 'SQL_UNRESOLVED'],
  ["select xmlelement(name x, 'y')", 'SQL_UNRESOLVED'],
  ["select * from xmltable('/a' passing '<a/>' columns x int)", 'SQL_UNRESOLVED'],
];

beforeAll(async () => {
  await initSqlAnalysis();
});

describe('PostgreSQL analysis: allowed statements resolve every table', () => {
  it.each(ALLOWED)('%s', (sql, expected) => {
    const analysis = analyze(sql);
    expect(analysis.reasons).toEqual([]);
    expect(analysis.ok).toBe(true);
    expect(analysis.statementType).toBe('select');
    expect(analysis.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(expected);
  });
});

describe('PostgreSQL analysis: refused statements carry a stable code', () => {
  it.each(REFUSED)('%s', (sql, code) => {
    const analysis = analyze(sql);
    expect(analysis.ok).toBe(false);
    expect(analysis.reasons.map((r) => r.code)).toContain(code);
  });
});

describe('PostgreSQL analysis details', () => {
  it('has at least 40 allowed and 40 refused cases', () => {
    expect(ALLOWED.length).toBeGreaterThanOrEqual(40);
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
  });

  it('names statement types of refused statements', () => {
    expect(analyze('copy salary to stdout').statementType).toBe('copy');
    expect(analyze('do $$ begin end $$').statementType).toBe('do');
    expect(analyze('set role x').statementType).toBe('set');
  });

  it('converts byte offsets to 1-based character positions', () => {
    const analysis = analyze("select 'é', pg_sleep(1)");
    expect(analysis.reasons[0]).toMatchObject({ code: 'SQL_FUNCTION_NOT_ALLOWED', position: 13 });
  });

  it('lists functions, including SQL-syntax ones', () => {
    expect(
      analyze('select count(*), coalesce(a, 1), current_date, extract(year from now()) from t')
        .functions,
    ).toEqual(['coalesce', 'count', 'current_date', 'extract', 'now']);
  });
});
