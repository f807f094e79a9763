/**
 * Bypass suite: every known way to read a table past a parser-based gateway listed in
 * anchors.md §6, per engine. Each must be refused with its stable code, and none may be
 * authorised for a caller whose only grant is `employee`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineKind } from '../../src/policy/databases.js';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import { authorizeTables } from '../../src/sql/authorize.js';

type Bypass = readonly [name: string, sql: string, code: string];

const MYSQL: readonly Bypass[] = [
  [
    'executable comment /*! */',
    'select name from employee where 1 /*!, (select amount from salary) */',
    'SQL_EXECUTABLE_COMMENT',
  ],
  [
    'versioned executable comment',
    'select name /*!50000 , (select amount from salary) */ from employee',
    'SQL_EXECUTABLE_COMMENT',
  ],
  [
    'MariaDB executable comment /*M! */',
    'select name /*M!100100 , (select amount from salary) */ from employee',
    'SQL_EXECUTABLE_COMMENT',
  ],
  [
    'optimizer hint lifting the timeout',
    'select /*+ MAX_EXECUTION_TIME(0) */ name from employee',
    'SQL_EXECUTABLE_COMMENT',
  ],
  [
    '--x read as a comment by the parser, as minus minus by MySQL',
    'select name --1, (select amount from salary)\nfrom employee',
    'SQL_LEXICAL',
  ],
  [
    '--x at the end of a line',
    'select name from employee where 1 = 1 --1\nunion select amount from salary',
    'SQL_LEXICAL',
  ],
  [
    "\\' under NO_BACKSLASH_ESCAPES",
    "select 'a\\' , (select amount from salary) -- ' from employee",
    'SQL_LEXICAL',
  ],
  [
    "\\' in a double-quoted string",
    'select "a\\" , (select amount from salary) -- " from employee',
    'SQL_LEXICAL',
  ],
  ['charset introducer mis-read as a column', "select _utf8mb4'x' from employee", 'SQL_LEXICAL'],
  ['non-ASCII space between tokens', 'select name from employee\u00a0where 1', 'SQL_LEXICAL'],
  [
    'backslash in a `quoted identifier`',
    'select `a\\`, (select amount from salary), `b` from employee',
    'SQL_LEXICAL',
  ],
  ['identifier starting with digits', 'select * from 1e1salary', 'SQL_LEXICAL'],
  ['HANDLER', 'handler salary open', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['HANDLER READ', 'handler salary read first', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['TABLE t', 'table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  [
    'TABLE t in a subquery',
    'select * from employee where id in (table salary)',
    'SQL_STATEMENT_NOT_ALLOWED',
  ],
  ['VALUES statement', 'values row(1)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DO', 'do (select amount from salary)', 'SQL_STATEMENT_NOT_ALLOWED'],
  [
    'multiple statements',
    'select name from employee; select amount from salary',
    'SQL_MULTIPLE_STATEMENTS',
  ],
  [
    'multiple statements after a comment',
    'select name from employee; -- x\nselect 1',
    'SQL_MULTIPLE_STATEMENTS',
  ],
  ['SELECT INTO OUTFILE', "select amount from salary into outfile '/tmp/x'", 'SQL_SELECT_INTO'],
  ['SELECT INTO @var', 'select amount into @a from salary', 'SQL_SELECT_INTO'],
  ['FOR UPDATE', 'select name from employee for update', 'SQL_LOCKING_CLAUSE'],
  ['LOCK IN SHARE MODE', 'select name from employee lock in share mode', 'SQL_LOCKING_CLAUSE'],
  ['PREPARE', "prepare s from 'select * from salary'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXECUTE', 'execute s', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CALL', 'call read_salary()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SHOW', 'show create table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DESCRIBE', 'describe salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXPLAIN', 'explain select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET', "set sql_mode = 'NO_BACKSLASH_ESCAPES'", 'SQL_STATEMENT_NOT_ALLOWED'],
  [
    'variable assignment carrying data',
    'select @x := (select max(amount) from salary)',
    'SQL_VARIABLE',
  ],
  ['LOAD_FILE', "select load_file('/var/lib/mysql/hr/salary.ibd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['SLEEP', 'select sleep(100)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['BENCHMARK', "select benchmark(100000000, sha2('x', 256))", 'SQL_FUNCTION_NOT_ALLOWED'],
  [
    'stored function reading tables',
    'select hr.salary_of(1) from employee',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ['unqualified stored function', 'select salary_of(id) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['information_schema', 'select * from information_schema.processlist', 'SQL_SYSTEM_CATALOG'],
  ['mysql schema', 'select authentication_string from mysql.user', 'SQL_SYSTEM_CATALOG'],
  [
    'performance_schema',
    'select sql_text from performance_schema.events_statements_history',
    'SQL_SYSTEM_CATALOG',
  ],
  ['sys schema', 'select * from sys.session', 'SQL_SYSTEM_CATALOG'],
  [
    'catalog in a subquery',
    'select * from employee where exists (select 1 from mysql.user)',
    'SQL_SYSTEM_CATALOG',
  ],
  [
    'CTE body reads the table',
    'with t as (select * from salary) select * from t',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'CTE named like a granted table',
    'with employee as (select * from salary) select * from employee',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'non-recursive CTE referring to itself reads the table',
    'with salary as (select * from salary) select * from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'CTE scope ends with its subquery',
    'select * from (with salary as (select 1) select * from salary) x, salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'qualified name is never a CTE',
    'with salary as (select 1) select * from hr.salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['upper case is another table on Linux', 'select * from EMPLOYEE', 'SQL_TABLE_NOT_GRANTED'],
  ['other database on the same server', 'select * from other_db.employee', 'SQL_TABLE_NOT_GRANTED'],
  ['FROM ONLY is a table named only', 'select * from only employee', 'SQL_TABLE_NOT_GRANTED'],
  [
    'set operation',
    'select name from employee union select amount from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['derived table', 'select * from (select * from salary) s', 'SQL_TABLE_NOT_GRANTED'],
  [
    'scalar subquery',
    'select (select max(amount) from salary) from employee',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'nested join',
    'select * from employee join (title join salary on true) on true',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['LATERAL', 'select * from employee, lateral (select * from salary) s', 'SQL_TABLE_NOT_GRANTED'],
  [
    // MySQL 8 ends the WITH at the parenthesis: the second `salary` is the base table.
    'WITH inside a parenthesised set-operation branch does not scope over the next branch',
    '(with salary as (select 1 as id) select id from salary) union select amount from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'WITH inside a later parenthesised branch',
    'select id from employee union (with salary as (select 1 as id) select id from salary) union select amount from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['charset introducer separated by a space', "select _binary 'x' from employee", 'SQL_LEXICAL'],
  [
    'charset introducer separated by a comment, before a hex literal',
    'select _utf8mb4 /* c */ 0x41 from employee',
    'SQL_LEXICAL',
  ],
];

const POSTGRES: readonly Bypass[] = [
  [
    "\\' in a string (standard_conforming_strings)",
    "select 'a\\' , (select amount from salary) --' from employee",
    'SQL_LEXICAL',
  ],
  ['FROM ONLY t is the table t', 'select * from only salary', 'SQL_TABLE_NOT_GRANTED'],
  ['TABLE t', 'table salary', 'SQL_TABLE_NOT_GRANTED'],
  [
    'TABLE t in a subquery',
    'select * from employee where id in (table salary)',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['COPY', 'copy salary to stdout', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['COPY query', 'copy (select * from salary) to stdout', 'SQL_STATEMENT_NOT_ALLOWED'],
  [
    'DO',
    "do $$ begin raise notice '%', (select max(amount) from salary); end $$",
    'SQL_STATEMENT_NOT_ALLOWED',
  ],
  ['multiple statements', 'select 1; select * from salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['SELECT INTO', 'select * into stolen from salary', 'SQL_SELECT_INTO'],
  ['FOR UPDATE', 'select * from employee for update', 'SQL_LOCKING_CLAUSE'],
  ['FOR KEY SHARE', 'select * from employee for key share', 'SQL_LOCKING_CLAUSE'],
  [
    'data-modifying CTE',
    'with d as (delete from salary returning *) select * from employee',
    'SQL_DATA_MODIFYING_CTE',
  ],
  ['PREPARE', 'prepare p as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXECUTE', 'execute p', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CALL', 'call read_salary()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SHOW', 'show all', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXPLAIN', 'explain (analyze) select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET', 'set search_path = evil, public', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET ROLE', 'set role dba', 'SQL_STATEMENT_NOT_ALLOWED'],
  [
    'set_config changes the pooled session',
    "select set_config('search_path', 'evil', false)",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'query_to_xml reads any table',
    "select query_to_xml('select * from salary', true, true, '')",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'table_to_xml',
    "select table_to_xml('salary'::text, true, true, '')",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'qualified query_to_xml',
    "select pg_catalog.query_to_xml('select * from salary', true, true, '')",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'dblink',
    "select * from dblink('dbname=hr', 'select amount from salary') as t(amount int)",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ['pg_read_file', "select pg_read_file('postgresql.conf')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_import', "select lo_import('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_get', 'select lo_get(1234)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_sleep', 'select pg_sleep(100)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['user-defined function', 'select public.salary_of(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  [
    'unqualified user-defined function',
    'select salary_of(id) from employee',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ['function in FROM', 'select * from salary_rows()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['regclass cast reads the catalog', "select 'salary'::regclass::oid", 'SQL_TYPE_NOT_ALLOWED'],
  [
    'regclass constant as a CYCLE mark value',
    "with recursive r as (select 1 as n union all select n + 1 from r where n < 3) cycle n set c to regclass 'salary' default regclass 'employee' using p select * from r",
    'SQL_TYPE_NOT_ALLOWED',
  ],
  [
    'CURRENT_USER names the shared database user',
    'select current_user',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ['CURRENT_CATALOG', 'select current_catalog', 'SQL_FUNCTION_NOT_ALLOWED'],
  // Attribute notation: `x.f` / `(x).f` is the call f(x) when x has no field f.
  [
    'attribute notation on a scalar function in FROM',
    "select t.current_setting from unnest(array['search_path']) t",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'attribute notation on an unaliased function in FROM',
    'select generate_series.pg_sleep from generate_series(1, 1)',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'attribute notation through ROWS FROM',
    'select r.salary_of from rows from (generate_series(1, 2)) r',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'field selection on a scalar calls a function',
    'select (1).salary_of',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'field selection on a cast',
    "select ('search_path'::text).current_setting",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'field selection after a row field',
    'select ((row(1, 2)).f1).pg_sleep',
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  [
    'field selection on a column',
    "select (v.x).current_setting from (values ('search_path')) v(x)",
    'SQL_FUNCTION_NOT_ALLOWED',
  ],
  ['function in FROM whose name cannot be known', 'select * from coalesce(1)', 'SQL_UNRESOLVED'],
  ['user-defined operator', 'select 1 operator(public.===) 2', 'SQL_OPERATOR_NOT_ALLOWED'],
  [
    'pg_stats holds column values',
    "select most_common_vals from pg_stats where tablename = 'salary'",
    'SQL_SYSTEM_CATALOG',
  ],
  ['pg_stat_activity shows other SQL', 'select query from pg_stat_activity', 'SQL_SYSTEM_CATALOG'],
  ['pg_user', 'select * from pg_user', 'SQL_SYSTEM_CATALOG'],
  ['qualified pg_catalog', 'select * from pg_catalog.pg_class', 'SQL_SYSTEM_CATALOG'],
  ['quoted upper-case pg_catalog', 'select * from "PG_CATALOG".pg_class', 'SQL_SYSTEM_CATALOG'],
  ['information_schema', 'select * from information_schema.columns', 'SQL_SYSTEM_CATALOG'],
  ['catalog in a CTE', 'with x as (select * from pg_authid) select * from x', 'SQL_SYSTEM_CATALOG'],
  [
    'CTE body reads the table',
    'with t as (select * from salary) select * from t',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'CTE named like a granted table',
    'with employee as (select * from salary) select * from employee',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'non-recursive CTE referring to itself',
    'with salary as (select * from salary) select * from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'CTE scope ends with its subquery',
    'select * from (with salary as (select 1) select * from salary) x, salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'qualified name is never a CTE',
    'with salary as (select 1) select * from public.salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['quoted name keeps its case', 'select * from "Employee"', 'SQL_TABLE_NOT_GRANTED'],
  ['other schema', 'select * from hr_archive.employee', 'SQL_TABLE_NOT_GRANTED'],
  ['three-part name', 'select * from otherdb.public.employee', 'SQL_UNRESOLVED'],
  [
    'dollar-quoted string hides nothing',
    'select $$x$$, (select amount from salary) from employee',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'LATERAL',
    'select * from employee e, lateral (select * from salary s where s.id = e.id) x',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'set operation',
    'select id from employee except select id from salary',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'subquery in ORDER BY',
    'select * from employee order by (select max(amount) from salary)',
    'SQL_TABLE_NOT_GRANTED',
  ],
  [
    'subquery in a function argument',
    'select coalesce((select max(amount) from salary), 0) from employee',
    'SQL_TABLE_NOT_GRANTED',
  ],
  ['subquery in VALUES', 'values ((select max(amount) from salary))', 'SQL_TABLE_NOT_GRANTED'],
  [
    'subquery in a join condition',
    'select * from employee e join title t on t.id = (select max(id) from salary)',
    'SQL_TABLE_NOT_GRANTED',
  ],
];

const CASES: readonly (readonly [EngineKind, string, readonly Bypass[]])[] = [
  ['mysql', 'hr', MYSQL],
  ['postgres', 'public', POSTGRES],
];

beforeAll(async () => {
  await initSqlAnalysis();
});

for (const [engine, defaultSchema, bypasses] of CASES) {
  describe(`${engine} bypass suite`, () => {
    it.each(bypasses)('%s', (_name, sql, code) => {
      const analysis = analyzeSql({ engine, sql, defaultSchema });
      const authorization = authorizeTables({
        analysis,
        engine,
        defaultSchema,
        grantedTables: [['employee', 'title']],
      });
      expect(authorization.allowed).toBe(false);
      expect(authorization.reasons.map((r) => r.code)).toContain(code);
      if (code !== 'SQL_TABLE_NOT_GRANTED') expect(analysis.ok).toBe(false);
    });
  });
}

describe('refusals that no grant lifts', () => {
  it.each(
    [
      ...MYSQL.map((b) => ['mysql', ...b] as const),
      ...POSTGRES.map((b) => ['postgres', ...b] as const),
    ].filter(([, , , code]) => code !== 'SQL_TABLE_NOT_GRANTED'),
  )('%s: %s is refused even under a * grant', (engine, _name, sql, code) => {
    const defaultSchema = engine === 'mysql' ? 'hr' : 'public';
    const analysis = analyzeSql({ engine, sql, defaultSchema });
    const authorization = authorizeTables({
      analysis,
      engine,
      defaultSchema,
      grantedTables: [['*']],
    });
    expect(authorization.allowed).toBe(false);
    expect(authorization.reasons.map((r) => r.code)).toContain(code);
  });
});
