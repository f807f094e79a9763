import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';

/** Allowed: the exact tables (schema.name) it reads. Refused: the first reason's code. */
type Case = readonly [sql: string, expected: readonly string[] | string];

const DB = 'hr';
const analyze = (sql: string) => analyzeSql({ engine: 'mysql', sql, defaultSchema: DB });

const ALLOWED: readonly Case[] = [
  ['select 1', []],
  ['SELECT NOW()', []],
  ['select * from employee', ['hr.employee']],
  ['select * from employee;', ['hr.employee']],
  ['select * from `employee`', ['hr.employee']],
  ['select * from hr.employee', ['hr.employee']],
  ['select * from `hr`.`employee` e', ['hr.employee']],
  ['select * from hr . employee', ['hr.employee']],
  ['select * from other_db.employee', ['other_db.employee']],
  ['select * from Employee', ['hr.Employee']],
  ['select * from `my table`', ['hr.my table']],
  [
    'select e.name, t.title from employee e join title t on t.emp_no = e.emp_no',
    ['hr.employee', 'hr.title'],
  ],
  ['select * from employee e left join salary s using (emp_no)', ['hr.employee', 'hr.salary']],
  ['select * from employee cross join department', ['hr.department', 'hr.employee']],
  ['select * from employee straight_join title', ['hr.employee', 'hr.title']],
  ['select * from employee, title, department', ['hr.department', 'hr.employee', 'hr.title']],
  ['select * from t1 join (t2 join t3 on t2.a = t3.a) on t1.a = t2.a', ['hr.t1', 'hr.t2', 'hr.t3']],
  [
    'select * from employee where emp_no in (select emp_no from salary)',
    ['hr.employee', 'hr.salary'],
  ],
  [
    'select * from employee e where exists (select 1 from salary s where s.emp_no = e.emp_no)',
    ['hr.employee', 'hr.salary'],
  ],
  ['select * from employee where not exists (select 1 from title)', ['hr.employee', 'hr.title']],
  ['select (select max(amount) from salary) as m from dual', ['hr.salary']],
  [
    'select * from employee where emp_no = any (select emp_no from title)',
    ['hr.employee', 'hr.title'],
  ],
  ['select * from (select * from salary) as s', ['hr.salary']],
  [
    'select * from employee, lateral (select * from title where title.emp_no = employee.emp_no) t',
    ['hr.employee', 'hr.title'],
  ],
  ['select a from t1 union select b from t2', ['hr.t1', 'hr.t2']],
  [
    'select a from t1 union all select b from t2 union select c from t3',
    ['hr.t1', 'hr.t2', 'hr.t3'],
  ],
  ['(select a from t1) union (select b from t2) order by 1 limit 3', ['hr.t1', 'hr.t2']],
  ['with s as (select * from salary) select * from s', ['hr.salary']],
  ['with salary as (select 1 as amount) select * from salary', []],
  ['with a as (select 1), b as (select * from a) select * from b', []],
  [
    'with recursive r (n) as (select 1 union all select n + 1 from r where n < 5) select * from r',
    [],
  ],
  [
    'with e as (select * from employee) select * from e join salary using (emp_no)',
    ['hr.employee', 'hr.salary'],
  ],
  [
    'select dept, count(*), avg(amount) from salary group by dept having count(*) > 1 order by 2 desc',
    ['hr.salary'],
  ],
  ['select row_number() over (partition by dept order by amount desc) from salary', ['hr.salary']],
  ['select rank() over w from salary window w as (order by amount)', ['hr.salary']],
  [
    "select concat(first_name, ' ', last_name), lower(email), date_format(hired, '%Y') from employee",
    ['hr.employee'],
  ],
  ["select case when amount > 10 then 'high' else 'low' end from salary", ['hr.salary']],
  [
    'select cast(amount as char), coalesce(a, b), ifnull(a, 0), if(a, 1, 2) from salary',
    ['hr.salary'],
  ],
  [
    'select extract(year from hired), date_add(hired, interval 1 day) from employee',
    ['hr.employee'],
  ],
  ["select group_concat(distinct name order by name separator ',') from employee", ['hr.employee']],
  [
    "select * from employee where name like 'a%' and hired between '2020-01-01' and '2021-01-01'",
    ['hr.employee'],
  ],
  ["select * from employee where name = 'it''s'", ['hr.employee']],
  ["select * from employee where name like 'a\\_b'", ['hr.employee']],
  ['select * from employee -- a comment\nwhere 1 = 1', ['hr.employee']],
  ['select * from employee # hash comment\nwhere 1 = 1', ['hr.employee']],
  ['select /* plain comment */ * from employee', ['hr.employee']],
  ["select json_extract(doc, '$.a'), doc->>'$.b' from employee", ['hr.employee']],
  ["select x'41', 0x41, b'1', n'x', 1.5e3 from dual", []],
  ['select distinct dept from employee limit 10 offset 5', ['hr.employee']],
];

const REFUSED: readonly Case[] = [
  ['', 'SQL_EMPTY'],
  ['   -- only a comment\n', 'SQL_EMPTY'],
  ['select from where', 'SQL_PARSE_ERROR'],
  ["select 'unterminated", 'SQL_PARSE_ERROR'],
  ['select 1; select 2', 'SQL_MULTIPLE_STATEMENTS'],
  ['select 1;;', 'SQL_MULTIPLE_STATEMENTS'],
  ['select * from employee; drop table salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['insert into salary values (1)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['update salary set amount = 0', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['delete from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['drop table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['show tables', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['describe salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['desc salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['explain select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['set @a = 1', 'SQL_STATEMENT_NOT_ALLOWED'],
  ["prepare s from 'select * from salary'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['execute s', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['call p()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['do sleep(1)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['handler salary open', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['values row(1)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['select * from (table salary) t', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['select * from (values row(1)) t', 'SQL_STATEMENT_NOT_ALLOWED'],
  ["load data infile '/etc/passwd' into table t", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['select * from employee procedure analyse()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ["select * from salary into outfile '/tmp/x'", 'SQL_SELECT_INTO'],
  ["select * into dumpfile '/tmp/x' from salary", 'SQL_SELECT_INTO'],
  ['select amount into @a from salary', 'SQL_SELECT_INTO'],
  ['select * from salary for update', 'SQL_LOCKING_CLAUSE'],
  ['select * from salary for share', 'SQL_LOCKING_CLAUSE'],
  ['select * from salary lock in share mode', 'SQL_LOCKING_CLAUSE'],
  ['select /*! * from salary */ 1', 'SQL_EXECUTABLE_COMMENT'],
  ['select /*!50000 * from salary */ 1', 'SQL_EXECUTABLE_COMMENT'],
  ['select /*M! * from salary */ 1', 'SQL_EXECUTABLE_COMMENT'],
  ['select /*+ MAX_EXECUTION_TIME(0) */ * from employee', 'SQL_EXECUTABLE_COMMENT'],
  ['select 1 --1', 'SQL_LEXICAL'],
  ['select /* unterminated', 'SQL_LEXICAL'],
  ['select /* a /* nested */ 1', 'SQL_LEXICAL'],
  ["select _utf8mb4'x' from employee", 'SQL_LEXICAL'],
  ['select \\N', 'SQL_LEXICAL'],
  ['select * from employee where a = ?', 'SQL_LEXICAL'],
  ['select {fn now()}', 'SQL_LEXICAL'],
  ['select * from 1e1salary', 'SQL_LEXICAL'],
  ['select * from employee\u00a0salary', 'SQL_LEXICAL'],
  ['select * from employee\u000bwhere 1', 'SQL_LEXICAL'],
  ['select @a', 'SQL_VARIABLE'],
  ['select @@version', 'SQL_VARIABLE'],
  ['select @@global.secure_file_priv', 'SQL_VARIABLE'],
  ['select a := 1', 'SQL_VARIABLE'],
  ['select sleep(10)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select benchmark(1000000, md5('x'))", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select load_file('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ["select get_lock('x', 10)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select hr.read_salary(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select my_udf(1) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select `lower`(name) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select user(), database(), version()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['select * from information_schema.tables', 'SQL_SYSTEM_CATALOG'],
  ['select * from INFORMATION_SCHEMA.columns', 'SQL_SYSTEM_CATALOG'],
  ['select * from mysql.user', 'SQL_SYSTEM_CATALOG'],
  ['select * from performance_schema.events_statements_history', 'SQL_SYSTEM_CATALOG'],
  ['select * from sys.processlist', 'SQL_SYSTEM_CATALOG'],
  ['select * from employee where id in (select id from mysql.user)', 'SQL_SYSTEM_CATALOG'],
  ["select * from json_table('[1]', '$[*]' columns (x int path '$')) as jt", 'SQL_PARSE_ERROR'],
];

beforeAll(async () => {
  await initSqlAnalysis();
});

describe('MySQL analysis: allowed statements resolve every table', () => {
  it.each(ALLOWED)('%s', (sql, expected) => {
    const analysis = analyze(sql);
    expect(analysis.reasons).toEqual([]);
    expect(analysis.ok).toBe(true);
    expect(analysis.statementType).toBe('select');
    expect(analysis.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(expected);
  });
});

describe('MySQL analysis: refused statements carry a stable code', () => {
  it.each(REFUSED)('%s', (sql, code) => {
    const analysis = analyze(sql);
    expect(analysis.ok).toBe(false);
    expect(analysis.reasons.map((r) => r.code)).toContain(code);
  });
});

describe('MySQL analysis details', () => {
  it('has at least 40 allowed and 40 refused cases', () => {
    expect(ALLOWED.length).toBeGreaterThanOrEqual(40);
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
  });

  it('lists functions in lower case', () => {
    expect(analyze('select COUNT(*), Lower(name), NOW() from employee').functions).toEqual([
      'count',
      'lower',
      'now',
    ]);
  });

  it('names the 1-based position of a refused function', () => {
    const analysis = analyze('select name, sleep(5) from employee');
    expect(analysis.reasons[0]).toMatchObject({ code: 'SQL_FUNCTION_NOT_ALLOWED', position: 14 });
  });

  it('names the position of a lexical refusal', () => {
    expect(analyze('select 1 --1').reasons[0]?.position).toBe(10);
  });

  it('reports the refused statement type', () => {
    expect(analyze('show databases').statementType).toBe('show');
  });
});
