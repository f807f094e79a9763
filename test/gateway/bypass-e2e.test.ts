/**
 * End-to-end bypass suite (issue 5; anchors.md §6). An attacker whose only grant is
 * `employee` goes through the REAL query service (SQLite state, real engines) to real MariaDB
 * 10.11 and PostgreSQL 15 databases. The gateway's database user is a realistic shared user:
 * SELECT on every table of the database (MySQL: of two databases; PostgreSQL: of two schemas),
 * EXECUTE on stored functions, a role default `search_path` pointing at another schema. So the
 * analyser is the only boundary, and each technique below would leak if it let a statement
 * through.
 *
 * `salary` (and every look-alike: `SALARY`, `hr_private.*`, the other database) holds MARKER.
 * For every technique: the outcome is refused with its stable code (or, for the few marked
 * allowed, provably reads only `employee`), MARKER appears nowhere in the outcome or the audit
 * records, the statement never reached the database, and the audit log holds one
 * `query.attempt` with decision `refused`. After each engine's suite: no new tables, large
 * objects, sequence values, advisory/named locks, files, open transactions or busy sessions.
 *
 * Finally the execution layer is tested on its own (the engine called directly, as if the
 * analyser had been fooled): read-only, one statement, sessions reset before reuse.
 */
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import type { QueryLimits } from '../../src/config/config.js';
import { createEngine } from '../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions, QueryResult } from '../../src/engines/engine.js';
import type { ErrorCode } from '../../src/errors/catalogue.js';
import { createQueryService, type QueryOutcome } from '../../src/gateway/query-service.js';
import { grantId } from '../../src/grants/grant-id.js';
import type { NewGrant } from '../../src/grants/grant.js';
import type { DatabaseConfig, EngineKind } from '../../src/policy/databases.js';
import { initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import { openState, type State } from '../../src/state/open-state.js';
import { MYSQL_URL, PG_URL, uniqueName } from '../support/databases.js';

const MARKER = `SECRET-MARKER-${randomBytes(8).toString('hex')}`;
const ATTACKER = 'mallory';
const GW_USER = `gw_bp_${randomBytes(4).toString('hex')}`;
const GW_PASSWORD = `pw_${randomBytes(8).toString('hex')}`;
const PASSWORD_ENV = 'GATEHOUSE_BYPASS_GATEWAY_PASSWORD';
const MYSQL_DB = uniqueName('gh_bp');
const MYSQL_OTHER = uniqueName('gh_bp_other');
const PG_DB = uniqueName('gh_bp');
/** Files the attacks try to write (the servers run on this host). */
const FILE = join('/tmp', `gh-bypass-${randomBytes(6).toString('hex')}`);
const FILES = [`${FILE}-outfile`, `${FILE}-dumpfile`, `${FILE}-copy`, `${FILE}-lo`];
const LOCK = `gh_bypass_${randomBytes(4).toString('hex')}`;
const NOW = new Date('2030-01-01T10:00:00Z');
const HOUR = 3_600_000;

const LIMITS: QueryLimits = {
  statementTimeoutMs: 10_000,
  defaultMaxRows: 1000,
  maxRowsCap: 5000,
  maxResultBytes: 10 * 1024 * 1024,
  redactSqlLiterals: false,
};

/** Refused with this code, before the database sees anything. */
type Refused = readonly [name: string, sql: string, code: ErrorCode];

// ---------------------------------------------------------------------------------------
// MySQL / MariaDB techniques. `${MYSQL_DB}` is the configured database, `${MYSQL_OTHER}`
// another database on the same server that the shared user can read too.
// ---------------------------------------------------------------------------------------
const M = MYSQL_DB;
const O = MYSQL_OTHER;
// prettier-ignore
const MYSQL_REFUSED: readonly Refused[] = [
  // Comment differentials and executable comments.
  ['executable comment /*! */', 'select first_name /*!, (select note from salary limit 1) */ from employee', 'SQL_EXECUTABLE_COMMENT'],
  ['versioned executable comment /*!50000 */', 'select first_name /*!50000 , (select note from salary limit 1) */ from employee', 'SQL_EXECUTABLE_COMMENT'],
  ['executable comment holding a UNION', 'select first_name from employee /*! union select note from salary */', 'SQL_EXECUTABLE_COMMENT'],
  ['MariaDB executable comment /*M! */', 'select first_name /*M!, (select note from salary limit 1) */ from employee', 'SQL_EXECUTABLE_COMMENT'],
  ['MariaDB versioned /*M!100100 */', 'select first_name /*M!100100 , (select note from salary limit 1) */ from employee', 'SQL_EXECUTABLE_COMMENT'],
  ['optimizer hint /*+ */ lifting the timeout', 'select /*+ MAX_EXECUTION_TIME(0) */ note from salary', 'SQL_EXECUTABLE_COMMENT'],
  ['--x is minus minus to MySQL, a comment to the parser', 'select first_name --1, (select note from salary limit 1)\nfrom employee', 'SQL_LEXICAL'],
  ['--x at a line end hiding a UNION', 'select first_name from employee where 1 = 1 --1\nunion select note from salary', 'SQL_LEXICAL'],
  ['unterminated /* comment', 'select first_name from employee /* union select note from salary', 'SQL_LEXICAL'],
  ['nested /* comments', 'select first_name /* /* */ , (select note from salary limit 1) */ from employee', 'SQL_LEXICAL'],
  ["stray */ outside a comment", 'select first_name */ from employee', 'SQL_LEXICAL'],
  // Quotes, backslashes, odd characters.
  ["\\' ends the string only without NO_BACKSLASH_ESCAPES", "select 'a\\' , (select note from salary limit 1) -- ' from employee", 'SQL_LEXICAL'],
  ['\\" in a double-quoted string', 'select "a\\" , (select note from salary limit 1) -- " from employee', 'SQL_LEXICAL'],
  ['doubled "" in a double-quoted token (ANSI_QUOTES differential)', 'select "a"" , (select note from salary limit 1) -- " from employee', 'SQL_LEXICAL'],
  ['backslash in a `quoted identifier`', 'select `a\\`, (select note from salary limit 1), `b` from employee', 'SQL_LEXICAL'],
  ['doubled backtick in a quoted identifier', 'select `a``b` from employee', 'SQL_LEXICAL'],
  ['charset introducer glued to a string', "select _utf8mb4'x', (select note from salary limit 1) from employee", 'SQL_LEXICAL'],
  ['charset introducer separated by a space', "select _binary 'x' from employee", 'SQL_LEXICAL'],
  ['charset introducer before a hex literal', 'select _latin1 /* c */ 0x41 from employee', 'SQL_LEXICAL'],
  ['no-break space between tokens', 'select first_name from employee\u00a0where 1', 'SQL_LEXICAL'],
  ['unicode line separator', 'select first_name from employee\u2028union select note from salary', 'SQL_LEXICAL'],
  ['vertical tab as whitespace', 'select first_name from employee\u000bunion select note from salary', 'SQL_LEXICAL'],
  ['form feed as whitespace', 'select first_name\u000cfrom salary', 'SQL_LEXICAL'],
  ['NUL byte', 'select first_name from employee\u0000union select note from salary', 'SQL_LEXICAL'],
  ['identifier glued to a number (1union)', 'select first_name from employee where emp_no = 1union select note from salary', 'SQL_LEXICAL'],
  ['identifier starting with digits', 'select * from 1e1salary', 'SQL_LEXICAL'],
  ['ODBC escape { oj }', 'select * from { oj employee left outer join salary on true }', 'SQL_LEXICAL'],
  ['? placeholder', 'select first_name from employee where emp_no = ?', 'SQL_LEXICAL'],
  ['\\N null literal outside quotes', 'select \\N, note from salary', 'SQL_LEXICAL'],
  // Statements other than SELECT.
  ['two statements', 'select first_name from employee; select note from salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['two statements after a comment', 'select 1; -- x\nselect note from salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['HANDLER OPEN', 'handler salary open', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['HANDLER READ', 'handler salary read first', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['TABLE statement', 'table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['TABLE in a subquery', 'select * from employee where emp_no in (table salary)', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['VALUES statement', 'values row((select note from salary limit 1))', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DO', `do get_lock('${LOCK}', 0)`, 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SELECT … INTO OUTFILE', `select note from salary into outfile '${FILE}-outfile'`, 'SQL_SELECT_INTO'],
  ['SELECT … INTO DUMPFILE', `select note from employee, salary limit 1 into dumpfile '${FILE}-dumpfile'`, 'SQL_SELECT_INTO'],
  ['SELECT … INTO @var', 'select note into @leak from salary limit 1', 'SQL_SELECT_INTO'],
  ['FOR UPDATE', 'select first_name from employee for update', 'SQL_LOCKING_CLAUSE'],
  ['FOR SHARE', 'select first_name from employee for share', 'SQL_LOCKING_CLAUSE'],
  ['LOCK IN SHARE MODE', 'select first_name from employee lock in share mode', 'SQL_LOCKING_CLAUSE'],
  ['PREPARE', "prepare s from 'select note from salary'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXECUTE', 'execute s', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CALL a procedure', 'call read_salary()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SHOW CREATE TABLE', 'show create table salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SHOW TABLES', 'show tables', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DESCRIBE', 'describe salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DESC', 'desc salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXPLAIN', 'explain select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['ANALYZE SELECT runs the statement (MariaDB)', 'analyze select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET', "set sql_mode = 'NO_BACKSLASH_ESCAPES'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET STATEMENT … FOR', 'set statement max_statement_time = 0 for select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['USE another database', `use ${O}`, 'SQL_STATEMENT_NOT_ALLOWED'],
  ['KILL', 'kill query 1', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['INSERT … SELECT', 'insert into employee (emp_no, first_name) select emp_no, note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CREATE TABLE … AS', 'create table stolen as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CREATE TEMPORARY TABLE', 'create temporary table stolen as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['LOAD DATA', `load data local infile '/etc/passwd' into table employee`, 'SQL_STATEMENT_NOT_ALLOWED'],
  ['PROCEDURE ANALYSE', 'select * from employee procedure analyse()', 'SQL_STATEMENT_NOT_ALLOWED'],
  // Variables.
  ['user variable carrying data', 'select @x := (select note from salary limit 1)', 'SQL_VARIABLE'],
  ['system variable', 'select @@secure_file_priv', 'SQL_VARIABLE'],
  // Functions that read files, tables, sessions, or sleep.
  ['LOAD_FILE', "select load_file('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['SLEEP', 'select first_name from employee where sleep(100)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['BENCHMARK', "select benchmark(100000000, sha2('x', 256))", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['GET_LOCK', `select get_lock('${LOCK}', 0)`, 'SQL_FUNCTION_NOT_ALLOWED'],
  ['EXTRACTVALUE error-based leak', 'select extractvalue(1, concat(0x7e, (select note from salary limit 1)))', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['UPDATEXML error-based leak', "select updatexml(1, concat(0x7e, (select note from salary limit 1)), 1)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['stored function (definer rights) reading salary', 'select salary_of(emp_no) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['qualified stored function', `select ${M}.salary_of(1)`, 'SQL_FUNCTION_NOT_ALLOWED'],
  ['quoted stored function', 'select `salary_of`(1) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['NEXTVAL of a sequence', 'select nextval(invoice_seq)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['NEXT VALUE FOR', 'select next value for invoice_seq', 'SQL_PARSE_ERROR'],
  ['USER() / DATABASE()', 'select user(), database()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['VERSION()', 'select version()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['CONNECTION_ID()', 'select connection_id()', 'SQL_FUNCTION_NOT_ALLOWED'],
  // System catalogs.
  ['information_schema.processlist (other SQL)', 'select info from information_schema.processlist', 'SQL_SYSTEM_CATALOG'],
  ['INFORMATION_SCHEMA upper case', 'select * from INFORMATION_SCHEMA.TABLES', 'SQL_SYSTEM_CATALOG'],
  ['mysql.user', 'select authentication_string from mysql.user', 'SQL_SYSTEM_CATALOG'],
  ['`mysql`.`user` quoted', 'select * from `mysql`.`user`', 'SQL_SYSTEM_CATALOG'],
  ['performance_schema', 'select sql_text from performance_schema.events_statements_history', 'SQL_SYSTEM_CATALOG'],
  ['sys schema', 'select * from sys.processlist', 'SQL_SYSTEM_CATALOG'],
  ['catalog in an EXISTS', 'select first_name from employee where exists (select 1 from mysql.user)', 'SQL_SYSTEM_CATALOG'],
  // Name resolution: CTEs, case, qualification, other databases.
  ['CTE body reads salary', 'with t as (select note from salary) select note from t', 'SQL_TABLE_NOT_GRANTED'],
  ['CTE named like the granted table', 'with employee as (select note from salary) select note from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['non-recursive CTE naming itself reads the base table', 'with salary as (select note from salary) select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['CTE scope ends with its subquery', 'select * from (with salary as (select 1 as note) select note from salary) x, salary', 'SQL_TABLE_NOT_GRANTED'],
  ['qualified name is never a CTE', `with salary as (select 1 as note) select note from ${M}.salary`, 'SQL_TABLE_NOT_GRANTED'],
  ['WITH inside a parenthesised UNION branch', '(with salary as (select 1 as note) select note from salary) union select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['recursive CTE joining salary in its recursive term', 'with recursive r (n, v) as (select 1, cast(null as char(100)) union all select n + 1, s.note from r join salary s on s.emp_no = r.n where n < 3) select v from r', 'SQL_TABLE_NOT_GRANTED'],
  ['upper-case SALARY is another table on Linux', 'select note from SALARY', 'SQL_TABLE_NOT_GRANTED'],
  ['qualified salary', `select note from ${M}.salary`, 'SQL_TABLE_NOT_GRANTED'],
  ['backtick-qualified salary', `select note from \`${M}\`.\`salary\``, 'SQL_TABLE_NOT_GRANTED'],
  ['other database', `select note from ${O}.salary`, 'SQL_TABLE_NOT_GRANTED'],
  ['other database, spaces around the dot', `select note from ${O} . salary`, 'SQL_TABLE_NOT_GRANTED'],
  ['other database table named like the grant', `select first_name from employee union select note from ${O}.salary`, 'SQL_TABLE_NOT_GRANTED'],
  ['FROM ONLY is a table named only here', 'select * from only salary', 'SQL_TABLE_NOT_GRANTED'],
  ['view over salary', 'select note from salary_view', 'SQL_TABLE_NOT_GRANTED'],
  ['sequence read as a table', 'select * from invoice_seq', 'SQL_TABLE_NOT_GRANTED'],
  ['DUAL then salary', 'select note from dual, salary', 'SQL_TABLE_NOT_GRANTED'],
  ['leading-dot table name (ODBC)', 'select * from employee, .salary', 'SQL_PARSE_ERROR'],
  ['JSON_TABLE over a subquery', "select * from employee, json_table((select json_arrayagg(note) from salary), '$[*]' columns (v text path '$')) j", 'SQL_PARSE_ERROR'],
  // Set operations, joins, subqueries in every clause.
  ['UNION', 'select first_name from employee union select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['UNION ALL', 'select first_name from employee union all select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['INTERSECT', 'select first_name from employee intersect select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['EXCEPT', 'select note from salary except select first_name from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['parenthesised SELECT', '(select note from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['derived table', 'select * from (select note from salary) s', 'SQL_TABLE_NOT_GRANTED'],
  ['comma join', 'select e.first_name, s.note from employee e, salary s', 'SQL_TABLE_NOT_GRANTED'],
  ['parenthesised join list', 'select * from (employee, salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['JOIN', 'select s.note from employee e join salary s on s.emp_no = e.emp_no', 'SQL_TABLE_NOT_GRANTED'],
  ['STRAIGHT_JOIN', 'select s.note from employee e straight_join salary s', 'SQL_TABLE_NOT_GRANTED'],
  ['nested join', 'select * from employee join (employee e2 join salary on true) on true', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in the select list', 'select (select note from salary limit 1) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in WHERE (boolean oracle)', "select first_name from employee where (select note from salary limit 1) like 'SECRET%'", 'SQL_TABLE_NOT_GRANTED'],
  ['IN subquery', 'select first_name from employee where emp_no in (select emp_no from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['EXISTS subquery', 'select first_name from employee e where exists (select 1 from salary s where s.emp_no = e.emp_no)', 'SQL_TABLE_NOT_GRANTED'],
  ['ANY subquery', 'select first_name from employee where emp_no = any (select emp_no from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in HAVING', 'select count(*) from employee having count(*) > (select count(*) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in ORDER BY', 'select first_name from employee order by (select note from salary limit 1)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in GROUP BY', 'select count(*) from employee group by (select note from salary limit 1)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in JOIN ON', 'select * from employee e join employee f on f.emp_no = (select max(emp_no) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a function argument', 'select concat(first_name, (select note from salary limit 1)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in CASE', 'select case when 1 = 1 then (select note from salary limit 1) end from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a window PARTITION BY', 'select row_number() over (partition by (select note from salary limit 1)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a named WINDOW', 'select row_number() over w from employee window w as (order by (select note from salary limit 1))', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in GROUP_CONCAT', 'select group_concat((select note from salary limit 1)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['LIMIT with a subquery', 'select first_name from employee limit (select count(*) from salary)', 'SQL_PARSE_ERROR'],
  ['LATERAL derived table', 'select * from employee e, lateral (select note from salary s where s.emp_no = e.emp_no) x', 'SQL_TABLE_NOT_GRANTED'],
  ['error-based leak through CAST', 'select cast((select note from salary limit 1) as signed) from employee', 'SQL_TABLE_NOT_GRANTED'],
];

/** Allowed: the analyser reads them exactly as the server does, and only employee is read. */
// prettier-ignore
const MYSQL_ALLOWED: readonly (readonly [name: string, sql: string])[] = [
  ['-- followed by a tab is a comment to both', 'select first_name from employee --\t, (select note from salary limit 1)'],
  ['# comment', 'select first_name from employee # , (select note from salary limit 1)'],
  ["'' inside a string hides the rest of the line", "select first_name from employee where first_name = 'x'' union select note from salary -- '"],
  ['double-quoted token is a string under the pinned sql_mode', 'select "salary" from employee limit 1'],
  ['CTE named salary shadows the table', "with salary as (select 'cte' as note) select note from salary"],
];

// ---------------------------------------------------------------------------------------
// PostgreSQL techniques. The database has `public` (default) and `hr_private`, both readable
// by the shared user, whose role default search_path is `hr_private, public`.
// ---------------------------------------------------------------------------------------
// prettier-ignore
const POSTGRES_REFUSED: readonly Refused[] = [
  // Strings and comments.
  ["\\' ends the string differently without standard_conforming_strings", "select 'a\\' , (select note from salary limit 1) --' from employee", 'SQL_LEXICAL'],
  ['dollar quoting hides nothing', 'select $$x$$, (select note from salary limit 1) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['tagged dollar quoting hides nothing', 'select $a$ $$ $a$, (select note from salary limit 1) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['nested comment closes where PostgreSQL says', 'select first_name /* /* */ from employee */ , (select note from salary limit 1) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['unicode escape identifier U&"s\\0061lary"', 'select note from U&"s\\0061lary"', 'SQL_TABLE_NOT_GRANTED'],
  ['no-break space inside a name', 'select first_name from employee\u00a0where true', 'SQL_PARSE_ERROR'],
  // Statements other than SELECT.
  ['two statements', 'select 1; select note from salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['COMMIT then a statement', 'commit; select note from salary', 'SQL_MULTIPLE_STATEMENTS'],
  ['COMMIT ends the read-only transaction', 'commit', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['COPY table TO STDOUT', 'copy salary to stdout', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['COPY query TO a file', `copy (select note from salary) to '${FILE}-copy'`, 'SQL_STATEMENT_NOT_ALLOWED'],
  ['COPY FROM PROGRAM', "copy employee from program 'id'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DO block', "do $$ begin raise exception '%', (select note from salary limit 1); end $$", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SELECT … INTO a table', 'select * into stolen from salary', 'SQL_SELECT_INTO'],
  ['SELECT … INTO TEMP', 'select * into temp stolen from employee', 'SQL_SELECT_INTO'],
  ['CREATE TABLE AS', 'create temp table stolen as select * from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['FOR UPDATE', 'select * from employee for update', 'SQL_LOCKING_CLAUSE'],
  ['FOR NO KEY UPDATE SKIP LOCKED', 'select * from employee for no key update skip locked', 'SQL_LOCKING_CLAUSE'],
  ['FOR SHARE', 'select * from employee for share', 'SQL_LOCKING_CLAUSE'],
  ['FOR KEY SHARE of a subquery', 'select * from (select * from employee for key share) e', 'SQL_LOCKING_CLAUSE'],
  ['data-modifying CTE: DELETE', 'with d as (delete from salary returning note) select * from d', 'SQL_DATA_MODIFYING_CTE'],
  ['data-modifying CTE: INSERT', 'with i as (insert into employee (emp_no) values (9999) returning emp_no) select * from employee', 'SQL_DATA_MODIFYING_CTE'],
  ['data-modifying CTE: UPDATE', "with u as (update employee set first_name = 'x' returning 1) select * from employee", 'SQL_DATA_MODIFYING_CTE'],
  ['PREPARE', 'prepare p as select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXECUTE', 'execute p', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['CALL', 'call read_salary()', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SHOW', 'show search_path', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['EXPLAIN ANALYZE', 'explain analyze select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET search_path', 'set search_path = hr_private, public', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET ROLE', 'set role postgres', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['SET SESSION AUTHORIZATION', 'set session authorization postgres', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['RESET ALL', 'reset all', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['LISTEN', 'listen gatehouse', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['NOTIFY', "notify gatehouse, 'x'", 'SQL_STATEMENT_NOT_ALLOWED'],
  ['LOCK TABLE', 'lock table salary in access exclusive mode', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['ANALYZE (refreshes pg_stats)', 'analyze salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['VACUUM', 'vacuum salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  ['DECLARE CURSOR', 'declare c cursor for select note from salary', 'SQL_STATEMENT_NOT_ALLOWED'],
  // Functions that read tables, files, settings, or change the session.
  ['query_to_xml', "select query_to_xml('select note from salary', true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['table_to_xml', "select table_to_xml('salary', true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['cursor_to_xml', "select cursor_to_xml('c', 10, true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['database_to_xml', "select database_to_xml(true, true, '')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['xpath over query_to_xml', "select xpath('//note/text()', query_to_xml('select note from salary', true, true, ''))", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['xml cast of employee content', "select (first_name)::xml from employee", 'SQL_TYPE_NOT_ALLOWED'],
  ['XMLPARSE syntax', "select xmlparse(content '<a/>')", 'SQL_UNRESOLVED'],
  ['XMLTABLE in FROM', "select * from xmltable('/a' passing xmlparse(document '<a/>') columns x text path '.')", 'SQL_UNRESOLVED'],
  ['dblink to the same database', `select * from dblink('dbname=${PG_DB}', 'select note from salary') as t(note text)`, 'SQL_FUNCTION_NOT_ALLOWED'],
  ['dblink_exec', `select dblink_exec('dbname=${PG_DB}', 'create table stolen as select * from salary')`, 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_read_file', "select pg_read_file('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_ls_dir', "select pg_ls_dir('.')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_import', "select lo_import('/etc/passwd')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_from_bytea (creates a large object)', "select lo_from_bytea(0, convert_to('x', 'UTF8'))", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_get', 'select lo_get(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['lo_export', `select lo_export(1, '${FILE}-lo')`, 'SQL_FUNCTION_NOT_ALLOWED'],
  ['current_setting', "select current_setting('search_path')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['set_config on the pooled session', "select set_config('search_path', 'hr_private', false)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_catalog.set_config qualified', "select pg_catalog.set_config('search_path', 'hr_private', false)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_sleep', 'select pg_sleep(100)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_sleep_for', "select pg_sleep_for('100 seconds')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_advisory_lock', 'select pg_advisory_lock(4242)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_try_advisory_lock in WHERE', 'select first_name from employee where pg_try_advisory_lock(emp_no)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['nextval', "select nextval('invoice_seq')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['setval', "select setval('invoice_seq', 1000)", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['txid_current', 'select txid_current()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_terminate_backend', 'select pg_terminate_backend(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['pg_notify', "select pg_notify('gatehouse', 'x')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['version()', 'select version()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['current_user', 'select current_user', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['current_catalog / current_schema', 'select current_catalog, current_schema', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['user-defined SECURITY DEFINER function', 'select salary_of(emp_no) from employee', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['schema-qualified user-defined function', 'select public.salary_of(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['quoted user-defined function', 'select "salary_of"(1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['set-returning function in FROM', 'select * from salary_rows()', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['ROWS FROM', 'select * from rows from (salary_rows())', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['LATERAL function', 'select * from employee e, lateral salary_rows() s', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['jsonb_populate_record', "select jsonb_populate_record(null::employee, '{}')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['TABLESAMPLE with an extension method', 'select * from employee tablesample system_rows (10)', 'SQL_FUNCTION_NOT_ALLOWED'],
  // Attribute notation: `(x).f` and `t.f` (t a scalar function in FROM) call f(x).
  ['attribute notation (1).salary_of', 'select (1).salary_of', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation on a function in FROM', 'select g.salary_of from generate_series(1, 2) g', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation on an unaliased function in FROM', 'select generate_series.salary_of from generate_series(1, 1)', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation reading a setting', "select t.current_setting from unnest(array['search_path']) t", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation sleeping', 'select (1.5).pg_sleep', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation taking an advisory lock', 'select (4242).pg_advisory_lock', 'SQL_FUNCTION_NOT_ALLOWED'],
  ['attribute notation on a VALUES column', "select (v.x).current_setting from (values ('search_path')) v(x)", 'SQL_FUNCTION_NOT_ALLOWED'],
  // Types and operators.
  ["'salary'::regclass", "select 'salary'::regclass::oid", 'SQL_TYPE_NOT_ALLOWED'],
  ['CAST AS regclass', "select cast('salary' as regclass)", 'SQL_TYPE_NOT_ALLOWED'],
  ["regclass 'salary' typed literal", "select regclass 'salary'", 'SQL_TYPE_NOT_ALLOWED'],
  ['to_regclass', "select to_regclass('salary')", 'SQL_FUNCTION_NOT_ALLOWED'],
  ['tableoid::regclass', 'select tableoid::regclass from employee', 'SQL_TYPE_NOT_ALLOWED'],
  ['regclass in a CYCLE mark value', "with recursive r as (select 1 as n union all select n + 1 from r where n < 3) cycle n set c to regclass 'salary' default regclass 'employee' using p select * from r", 'SQL_TYPE_NOT_ALLOWED'],
  ['cast to the salary row type', "select row(1, 2, 'x')::salary", 'SQL_TYPE_NOT_ALLOWED'],
  ['schema-qualified operator', 'select 1 operator(public.+) 2', 'SQL_OPERATOR_NOT_ALLOWED'],
  // System catalogs.
  ['pg_stats most_common_vals of salary', "select most_common_vals::text from pg_stats where tablename = 'salary'", 'SQL_SYSTEM_CATALOG'],
  ['pg_catalog.pg_stats', "select most_common_vals::text from pg_catalog.pg_stats where tablename = 'salary'", 'SQL_SYSTEM_CATALOG'],
  ['"pg_stats" quoted', 'select * from "pg_stats"', 'SQL_SYSTEM_CATALOG'],
  ['PG_STATS upper case (folded)', 'select * from PG_STATS', 'SQL_SYSTEM_CATALOG'],
  ['pg_stats in a subquery', "select first_name from employee where exists (select 1 from pg_stats where most_common_vals::text like '%SECRET%')", 'SQL_SYSTEM_CATALOG'],
  ['pg_stat_activity (other sessions SQL)', 'select query from pg_stat_activity', 'SQL_SYSTEM_CATALOG'],
  ['pg_settings', 'select * from pg_settings', 'SQL_SYSTEM_CATALOG'],
  ['pg_proc source of functions', 'select prosrc from pg_proc', 'SQL_SYSTEM_CATALOG'],
  ['pg_authid', 'select rolpassword from pg_authid', 'SQL_SYSTEM_CATALOG'],
  ['pg_locks', 'select * from pg_locks', 'SQL_SYSTEM_CATALOG'],
  ['pg_largeobject', 'select * from pg_largeobject', 'SQL_SYSTEM_CATALOG'],
  ['information_schema.columns', 'select * from information_schema.columns', 'SQL_SYSTEM_CATALOG'],
  ['"information_schema" quoted', 'select * from "information_schema".routines', 'SQL_SYSTEM_CATALOG'],
  ['pg_toast schema', 'select * from pg_toast.pg_toast_2619', 'SQL_SYSTEM_CATALOG'],
  ['pg_temp schema', 'select * from pg_temp.stolen', 'SQL_SYSTEM_CATALOG'],
  // Name resolution.
  ['FROM ONLY salary', 'select note from only salary', 'SQL_TABLE_NOT_GRANTED'],
  ['salary* (with descendants)', 'select note from salary*', 'SQL_TABLE_NOT_GRANTED'],
  ['TABLE salary', 'table salary', 'SQL_TABLE_NOT_GRANTED'],
  ['TABLE ONLY salary', 'table only salary', 'SQL_TABLE_NOT_GRANTED'],
  ['TABLE in a subquery', 'select * from employee where emp_no in (select emp_no from (table salary) s)', 'SQL_TABLE_NOT_GRANTED'],
  ['VALUES with a subquery', 'values ((select note from salary limit 1))', 'SQL_TABLE_NOT_GRANTED'],
  ['public.salary', 'select note from public.salary', 'SQL_TABLE_NOT_GRANTED'],
  ['"public"."salary"', 'select note from "public"."salary"', 'SQL_TABLE_NOT_GRANTED'],
  ['PUBLIC.SALARY folds to public.salary', 'select note from PUBLIC.SALARY', 'SQL_TABLE_NOT_GRANTED'],
  ['"SALARY" is another table', 'select note from "SALARY"', 'SQL_TABLE_NOT_GRANTED'],
  ['other schema', 'select note from hr_private.salary', 'SQL_TABLE_NOT_GRANTED'],
  ['other schema, same name as the grant', 'select first_name from hr_private.employee', 'SQL_TABLE_NOT_GRANTED'],
  ['three-part name (cross database)', `select note from ${PG_DB}.public.salary`, 'SQL_UNRESOLVED'],
  ['view over salary', 'select note from salary_view', 'SQL_TABLE_NOT_GRANTED'],
  ['sequence read as a relation', 'select * from invoice_seq', 'SQL_TABLE_NOT_GRANTED'],
  ['CTE body reads salary', 'with t as (select note from salary) select note from t', 'SQL_TABLE_NOT_GRANTED'],
  ['CTE named like the granted table', 'with employee as (select note from salary) select note from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['non-recursive CTE naming itself', 'with salary as (select note from salary) select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['non-recursive CTE cannot see a later one', 'with a as (select note from salary), salary as (select 1) select * from a', 'SQL_TABLE_NOT_GRANTED'],
  ['CTE scope ends with its subquery', 'select * from (with salary as (select 1 as note) select note from salary) x, salary', 'SQL_TABLE_NOT_GRANTED'],
  ['qualified name is never a CTE', 'with salary as (select 1 as note) select note from public.salary', 'SQL_TABLE_NOT_GRANTED'],
  ['WITH inside a parenthesised UNION branch', '(with salary as (select 1::text as note) select note from salary) union select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['recursive CTE reading salary in its recursive term', 'with recursive r (n, v) as (select 1, null::text union all select n + 1, s.note from r join salary s on s.emp_no = r.n where n < 3) select v from r', 'SQL_TABLE_NOT_GRANTED'],
  // Table-to-JSON and row types.
  ['row_to_json on a salary row', 'select row_to_json(s) from salary s', 'SQL_TABLE_NOT_GRANTED'],
  ['to_jsonb on a salary row', 'select to_jsonb(s.*) from salary s', 'SQL_TABLE_NOT_GRANTED'],
  // Set operations, joins, subqueries in every clause.
  ['UNION', 'select first_name from employee union select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['INTERSECT', 'select first_name from employee intersect select note from salary', 'SQL_TABLE_NOT_GRANTED'],
  ['EXCEPT', 'select note from salary except select first_name from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['derived table', 'select * from (select note from salary) s', 'SQL_TABLE_NOT_GRANTED'],
  ['comma join', 'select e.first_name, s.note from employee e, salary s', 'SQL_TABLE_NOT_GRANTED'],
  ['JOIN USING', 'select note from employee join salary using (emp_no)', 'SQL_TABLE_NOT_GRANTED'],
  ['LATERAL subquery', 'select * from employee e, lateral (select note from salary s where s.emp_no = e.emp_no) x', 'SQL_TABLE_NOT_GRANTED'],
  ['JOIN LATERAL', 'select * from employee e join lateral (select note from salary) x on true', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in the select list', 'select (select note from salary limit 1) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in WHERE (boolean oracle)', "select first_name from employee where (select note from salary limit 1) like 'SECRET%'", 'SQL_TABLE_NOT_GRANTED'],
  ['EXISTS', 'select first_name from employee e where exists (select 1 from salary s where s.emp_no = e.emp_no)', 'SQL_TABLE_NOT_GRANTED'],
  ['= ANY (subquery)', 'select first_name from employee where emp_no = any (select emp_no from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['ARRAY(subquery)', 'select array(select note from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['row comparison with a subquery', 'select first_name from employee where (emp_no, first_name) = (select emp_no, note from salary limit 1)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in HAVING', 'select count(*) from employee having count(*) > (select count(*) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in ORDER BY', 'select first_name from employee order by (select note from salary limit 1)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in GROUP BY', 'select count(*) from employee group by (select note from salary limit 1)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in GROUPING SETS', 'select count(*) from employee group by grouping sets ((select note from salary limit 1), ())', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in DISTINCT ON', 'select distinct on ((select note from salary limit 1)) first_name from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in JOIN ON', 'select * from employee e join employee f on f.emp_no = (select max(emp_no) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in LIMIT', 'select first_name from employee limit (select count(*) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in OFFSET', 'select first_name from employee offset (select count(*) from salary)', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in FETCH FIRST', 'select first_name from employee fetch first (select count(*) from salary) rows only', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a window PARTITION BY', 'select row_number() over (partition by (select note from salary limit 1)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a named WINDOW', 'select row_number() over w from employee window w as (order by (select note from salary limit 1))', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in an aggregate FILTER', 'select count(*) filter (where exists (select 1 from salary)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in an aggregate ORDER BY', 'select string_agg(first_name, \',\' order by (select note from salary limit 1)) from employee', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in TABLESAMPLE REPEATABLE', 'select * from employee tablesample bernoulli (50) repeatable ((select count(*) from salary))', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in a function argument', "select format('%s', (select note from salary limit 1))", 'SQL_TABLE_NOT_GRANTED'],
  ['subquery in COALESCE in FROM', 'select * from coalesce((select note from salary limit 1)) c', 'SQL_TABLE_NOT_GRANTED'],
  ['subquery with COLLATE', 'select (select note from salary limit 1) collate "C"', 'SQL_TABLE_NOT_GRANTED'],
  ['error-based leak through a cast', 'select (select note from salary limit 1)::int', 'SQL_TABLE_NOT_GRANTED'],
];

// prettier-ignore
const POSTGRES_ALLOWED: readonly (readonly [name: string, sql: string])[] = [
  ['role default search_path points at hr_private: pinned to public', 'select first_name, last_name from employee order by emp_no'],
  ['--x is a comment to PostgreSQL', 'select first_name from employee --, (select note from salary limit 1)'],
  ['nested comment swallows the subquery', 'select first_name /* /* */ , (select note from salary limit 1) */ from employee'],
  ["E'\\'' keeps the quote inside the string", "select first_name from employee where first_name = E'\\' , (select note from salary limit 1) --'"],
  ['CTE named salary shadows the table', "with salary as (select 'cte'::text as note) select note from salary"],
  ['row_to_json on an employee row', 'select row_to_json(e) from employee e order by emp_no limit 1'],
  ['CYCLE clause with constants', "with recursive r as (select 1 as n union all select n + 1 from r where n < 3) cycle n set c to 'y' default 'n' using p select n from r"],
];

// ---------------------------------------------------------------------------------------
// Databases.
// ---------------------------------------------------------------------------------------

interface Target {
  readonly engine: EngineKind;
  readonly config: DatabaseConfig;
  /** Everything observable that an attack could have changed, as one comparable value. */
  sideEffects(): Promise<unknown>;
  /** Runs SQL as the shared gateway user directly (no Gatehouse): proves a vector is real. */
  asGatewayUser(sql: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

async function mysqlAdmin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: false });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function createMysqlTarget(): Promise<Target> {
  await mysqlAdmin(async (c) => {
    await c.query(`CREATE DATABASE \`${MYSQL_DB}\``);
    await c.query(`CREATE DATABASE \`${MYSQL_OTHER}\``);
    await c.query(`USE \`${MYSQL_DB}\``);
    await c.query(
      'CREATE TABLE employee (emp_no INT PRIMARY KEY, first_name VARCHAR(50), last_name VARCHAR(50), hire_date DATE)',
    );
    const rows = Array.from({ length: 20 }, (_v, i) => [
      i + 1,
      `First${i + 1}`,
      `Last${i + 1}`,
      '2020-01-01',
    ]);
    await c.query('INSERT INTO employee VALUES ?', [rows]);
    await c.query('CREATE TABLE salary (emp_no INT, amount INT, note VARCHAR(100))');
    await c.query('INSERT INTO salary VALUES (1, 100000, ?), (2, 90000, ?)', [MARKER, MARKER]);
    await c.query('CREATE TABLE SALARY (note VARCHAR(100))');
    await c.query('INSERT INTO SALARY VALUES (?)', [MARKER]);
    await c.query('CREATE VIEW salary_view AS SELECT * FROM salary');
    await c.query('CREATE SEQUENCE invoice_seq');
    await c.query(
      'CREATE FUNCTION salary_of(n INT) RETURNS VARCHAR(100) READS SQL DATA SQL SECURITY DEFINER RETURN (SELECT note FROM salary WHERE emp_no = n LIMIT 1)',
    );
    await c.query('CREATE PROCEDURE read_salary() SQL SECURITY DEFINER SELECT note FROM salary');
    await c.query(`CREATE TABLE \`${MYSQL_OTHER}\`.salary (note VARCHAR(100))`);
    await c.query(`INSERT INTO \`${MYSQL_OTHER}\`.salary VALUES (?)`, [MARKER]);
    for (const host of ['%', 'localhost', '127.0.0.1']) {
      await c.query(`CREATE USER '${GW_USER}'@'${host}' IDENTIFIED BY '${GW_PASSWORD}'`);
      // The realistic shared user: reads everything in the databases it serves, runs their
      // routines. Only Gatehouse stands between a developer and `salary`.
      await c.query(`GRANT SELECT, EXECUTE ON \`${MYSQL_DB}\`.* TO '${GW_USER}'@'${host}'`);
      await c.query(`GRANT SELECT ON \`${MYSQL_OTHER}\`.* TO '${GW_USER}'@'${host}'`);
    }
  });
  const url = new URL(MYSQL_URL);
  const config: DatabaseConfig = {
    id: 'hr_bypass',
    engine: 'mysql',
    environment: 'test',
    host: url.hostname,
    port: Number(url.port || 3306),
    name: MYSQL_DB,
    auth: { kind: 'password', user: GW_USER, passwordEnv: PASSWORD_ENV },
    tls: { required: false },
  };
  return {
    engine: 'mysql',
    config,
    sideEffects: () =>
      mysqlAdmin(async (c) => {
        const [tables] = await c.query(
          // Binary order: `salary` and `SALARY` are both here, and information_schema's
          // case-insensitive collation would tie them and order them differently between calls.
          'SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN (?, ?) ORDER BY BINARY table_schema, BINARY table_name',
          [MYSQL_DB, MYSQL_OTHER],
        );
        const [salary] = await c.query(`SELECT * FROM \`${MYSQL_DB}\`.salary ORDER BY emp_no`);
        const [employee] = await c.query(
          `SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS(',', emp_no, first_name, last_name, hire_date))) AS h FROM \`${MYSQL_DB}\`.employee`,
        );
        const [sequence] = await c.query(
          `SELECT next_not_cached_value FROM \`${MYSQL_DB}\`.invoice_seq`,
        );
        const [lock] = await c.query('SELECT IS_FREE_LOCK(?) AS free', [LOCK]);
        // Gateway sessions: none running a statement, none inside a transaction.
        const [busy] = await c.query(
          "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ? AND command <> 'Sleep'",
          [GW_USER],
        );
        const [transactions] = await c.query(
          'SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.user = ?',
          [GW_USER],
        );
        return { tables, salary, employee, sequence, lock, busy, transactions, files: files() };
      }),
    async asGatewayUser(sql) {
      const c = await mysql.createConnection({
        host: url.hostname,
        port: Number(url.port || 3306),
        user: GW_USER,
        password: GW_PASSWORD,
        database: MYSQL_DB,
        rowsAsArray: true,
      });
      try {
        const [rows] = await c.query(sql);
        return rows as unknown[][];
      } finally {
        await c.end();
      }
    },
    close: () =>
      mysqlAdmin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS \`${MYSQL_DB}\``);
        await c.query(`DROP DATABASE IF EXISTS \`${MYSQL_OTHER}\``);
        for (const host of ['%', 'localhost', '127.0.0.1']) {
          await c.query(`DROP USER IF EXISTS '${GW_USER}'@'${host}'`);
        }
      }),
  };
}

async function pgClient<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function createPostgresTarget(): Promise<Target> {
  const admin = new URL(PG_URL).pathname.slice(1) || 'postgres';
  await pgClient(admin, async (c) => {
    await c.query(`CREATE DATABASE "${PG_DB}"`);
    await c.query(`CREATE ROLE "${GW_USER}" LOGIN PASSWORD '${GW_PASSWORD}'`);
  });
  await pgClient(PG_DB, async (c) => {
    await c.query(
      'CREATE TABLE employee (emp_no int PRIMARY KEY, first_name text, last_name text, hire_date date)',
    );
    await c.query(
      "INSERT INTO employee SELECT n, 'First' || n, 'Last' || n, DATE '2020-01-01' FROM generate_series(1, 20) AS n",
    );
    await c.query('CREATE TABLE salary (emp_no int, amount int, note text)');
    await c.query('INSERT INTO salary VALUES (1, 100000, $1), (2, 90000, $1), (3, 80000, $1)', [
      MARKER,
    ]);
    await c.query('CREATE TABLE "SALARY" (note text)');
    await c.query('INSERT INTO "SALARY" VALUES ($1)', [MARKER]);
    await c.query('CREATE VIEW salary_view AS SELECT * FROM salary');
    await c.query('CREATE SEQUENCE invoice_seq');
    await c.query(
      'CREATE FUNCTION salary_of(int) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$SELECT note FROM public.salary WHERE emp_no = $1$$',
    );
    await c.query(
      'CREATE FUNCTION salary_rows() RETURNS SETOF salary LANGUAGE sql SECURITY DEFINER AS $$SELECT * FROM public.salary$$',
    );
    await c.query(
      'CREATE PROCEDURE read_salary() LANGUAGE sql SECURITY DEFINER AS $$SELECT note FROM public.salary$$',
    );
    await c.query('CREATE SCHEMA hr_private');
    await c.query(
      'CREATE TABLE hr_private.employee (emp_no int, first_name text, last_name text, hire_date date)',
    );
    await c.query("INSERT INTO hr_private.employee VALUES (1, $1, $1, DATE '2020-01-01')", [
      MARKER,
    ]);
    await c.query('CREATE TABLE hr_private.salary (emp_no int, amount int, note text)');
    await c.query('INSERT INTO hr_private.salary VALUES (1, 1, $1)', [MARKER]);
    await c.query('CREATE EXTENSION IF NOT EXISTS dblink');
    await c.query('CREATE EXTENSION IF NOT EXISTS tsm_system_rows');
    // pg_stats now holds MARKER in most_common_vals, visible to anyone who can SELECT salary.
    await c.query('ANALYZE salary');
    for (const schema of ['public', 'hr_private']) {
      await c.query(`GRANT USAGE ON SCHEMA ${schema} TO "${GW_USER}"`);
      await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO "${GW_USER}"`);
    }
    await c.query(`GRANT SELECT ON invoice_seq TO "${GW_USER}"`);
    // A role default that would make `employee` mean hr_private.employee: the engine must pin
    // search_path to the schema the analyser resolved names in.
    await c.query(
      `ALTER ROLE "${GW_USER}" IN DATABASE "${PG_DB}" SET search_path = hr_private, public`,
    );
  });
  const url = new URL(PG_URL);
  const config: DatabaseConfig = {
    id: 'analytics_bypass',
    engine: 'postgres',
    environment: 'test',
    host: url.hostname,
    port: Number(url.port || 5432),
    name: PG_DB,
    defaultSchema: 'public',
    auth: { kind: 'password', user: GW_USER, passwordEnv: PASSWORD_ENV },
    tls: { required: false },
  };
  return {
    engine: 'postgres',
    config,
    sideEffects: () =>
      pgClient(PG_DB, async (c) => {
        const one = async (sql: string, values: unknown[] = []) =>
          (await c.query(sql, values)).rows;
        return {
          // Every relation outside the catalogs, temporary ones included.
          relations: await one(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2",
          ),
          largeObjects: await one('SELECT count(*)::int AS n FROM pg_largeobject_metadata'),
          advisoryLocks: await one(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
          ),
          salary: await one('SELECT * FROM salary ORDER BY emp_no'),
          employee: await one(
            "SELECT count(*)::int AS n, md5(string_agg(e::text, ',' ORDER BY emp_no)) AS h FROM employee e",
          ),
          sequence: await one('SELECT last_value, is_called FROM invoice_seq'),
          roleSettings: await one(
            'SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1',
            [GW_USER],
          ),
          // Gateway sessions: none running a statement, none left inside a transaction.
          busy: await one(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND (state <> 'idle' OR xact_start IS NOT NULL)",
            [GW_USER],
          ),
          preparedTransactions: await one('SELECT count(*)::int AS n FROM pg_prepared_xacts'),
          files: files(),
        };
      }),
    async asGatewayUser(sql) {
      const c = new pg.Client({
        host: url.hostname,
        port: Number(url.port || 5432),
        database: PG_DB,
        user: GW_USER,
        password: GW_PASSWORD,
      });
      await c.connect();
      try {
        return (await c.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
      } finally {
        await c.end();
      }
    },
    async close() {
      await pgClient(admin, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${PG_DB}" WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS "${GW_USER}"`);
      });
    },
  };
}

function files(): Record<string, boolean> {
  return Object.fromEntries(FILES.map((path) => [path, existsSync(path)]));
}

// ---------------------------------------------------------------------------------------
// The gateway under test.
// ---------------------------------------------------------------------------------------

interface Harness {
  readonly target: Target;
  readonly state: State;
  readonly engine: Engine & { executions: number };
  readonly before: unknown;
  query(
    sql: string,
    limits?: Partial<QueryLimits>,
  ): Promise<{ outcome: QueryOutcome; records: AuditRecord[] }>;
  close(): Promise<void>;
}

let requestCounter = 0;

/** The whole audit log (the store pages by at most 1000). */
async function allRecords(state: State): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (;;) {
    const page = await state.audit.query({ limit: 1000, afterSeq: out.at(-1)?.seq ?? 0 });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

async function createHarness(target: Target): Promise<Harness> {
  const stateDir = mkdtempSync(join(tmpdir(), 'gatehouse-bypass-'));
  const clock = () => NOW;
  const state = await openState({ kind: 'sqlite', path: join(stateDir, 'gatehouse.db') }, clock);
  const inner = createEngine(target.config, { poolSize: 2, env: { [PASSWORD_ENV]: GW_PASSWORD } });
  const engine = {
    kind: inner.kind,
    executions: 0,
    execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
      engine.executions += 1;
      return inner.execute(sql, options);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  const filePath = `access/${target.config.id}/${ATTACKER}.yaml`;
  const mergeSha = randomBytes(20).toString('hex');
  const grant: NewGrant = {
    id: grantId('acme/access', filePath, mergeSha),
    repo: 'acme/access',
    requester: ATTACKER,
    database: target.config.id,
    tables: ['employee'],
    access: 'read',
    level: 'low',
    reason: 'bypass suite',
    ticket: null,
    filePath,
    prNumber: 7,
    prUrl: 'https://github.com/acme/access/pull/7',
    headSha: randomBytes(20).toString('hex'),
    mergeSha,
    approvers: [{ login: 'dba-dana', reviewId: 1 }],
    activatedAt: new Date(NOW.getTime() - HOUR),
    expiresAt: new Date(NOW.getTime() + HOUR),
  };
  await state.grants.insert(grant);
  const before = await target.sideEffects();
  const databases = new Map([[target.config.id, target.config]]);
  return {
    target,
    state,
    engine,
    before,
    async query(sql, limits = {}) {
      requestCounter += 1;
      const requestId = `bypass-${requestCounter}`;
      const service = createQueryService({
        databases: () => databases,
        grants: state.grants,
        audit: state.audit,
        engines: () => engine,
        clock,
        limits: { ...LIMITS, ...limits },
      });
      const outcome = await service.query({
        identity: { login: ATTACKER, via: 'github' },
        database: target.config.id,
        sql,
        requestId,
        clientAddress: '203.0.113.66',
      });
      const records = (await allRecords(state)).filter((record) => record.requestId === requestId);
      return { outcome, records };
    },
    async close() {
      await engine.close();
      await state.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

beforeAll(async () => {
  await initSqlAnalysis();
});

/**
 * Execution layer on its own: statements the analyser refuses, sent to the engine directly
 * as if it had been fooled. `fails`: the engine must refuse to run it; `runs`: it may run,
 * and the side-effect check at the end proves it left nothing behind (the transaction is
 * rolled back, the session reset). `then` runs right after, pool-size + 1 times, so that
 * every pooled connection is seen.
 */
interface DirectStep {
  readonly sql: string;
  readonly expect: 'fails' | 'runs';
  readonly then?: { readonly sql: string; readonly rows?: unknown[][]; readonly fails?: true };
}

// prettier-ignore
const MYSQL_DIRECT: readonly DirectStep[] = [
  { sql: 'select 1; select 2', expect: 'fails' },
  { sql: "insert into employee (emp_no) values (999)", expect: 'fails' },
  { sql: 'create temporary table stolen (x int)', expect: 'fails' },
  { sql: `select note from salary into outfile '${FILE}-outfile'`, expect: 'fails' },
  { sql: 'select nextval(invoice_seq)', expect: 'fails' },
  { sql: `select get_lock('${LOCK}', 0)`, expect: 'runs' },
  { sql: 'set @leak = 42', expect: 'runs', then: { sql: 'select @leak', rows: [[null]] } },
  { sql: "set session sql_mode = 'ANSI_QUOTES'", expect: 'runs', then: { sql: 'select "x"', rows: [['x']] } },
  { sql: "prepare s from 'select 1'", expect: 'runs', then: { sql: 'execute s', fails: true } },
];

// prettier-ignore
const POSTGRES_DIRECT: readonly DirectStep[] = [
  { sql: 'select 1; select 2', expect: 'fails' },
  { sql: 'insert into employee (emp_no) values (999)', expect: 'fails' },
  { sql: 'create temp table stolen as select 1', expect: 'fails' },
  { sql: `copy (select note from salary) to '${FILE}-copy'`, expect: 'fails' },
  { sql: "select nextval('invoice_seq')", expect: 'fails' },
  // Large objects can be created in a READ ONLY transaction; the ROLLBACK removes them.
  { sql: "select lo_from_bytea(0, '\\x00'::bytea)", expect: 'runs' },
  { sql: 'select pg_advisory_lock(4242)', expect: 'runs' },
  {
    sql: "select set_config('search_path', 'hr_private', false)",
    expect: 'runs',
    then: { sql: 'select first_name from employee order by emp_no limit 1', rows: [['First1']] },
  },
  { sql: 'set search_path = hr_private', expect: 'runs', then: { sql: 'select first_name from employee order by emp_no limit 1', rows: [['First1']] } },
  { sql: 'prepare p as select 1', expect: 'runs', then: { sql: 'execute p', fails: true } },
];

const SUITES = [
  {
    engine: 'mysql' as const,
    direct: MYSQL_DIRECT,
    create: createMysqlTarget,
    refused: MYSQL_REFUSED,
    allowed: MYSQL_ALLOWED,
    schema: MYSQL_DB,
    /** 20^8 rows of employee joined with itself: hours of work, but only employee. */
    heavy:
      'select count(*) from employee a, employee b, employee c, employee d, employee f, employee g, employee h, employee i',
    realVectors: [
      'select note from salary',
      'select note from SALARY',
      `select note from ${MYSQL_OTHER}.salary`,
      'select salary_of(1)',
    ],
  },
  {
    engine: 'postgres' as const,
    direct: POSTGRES_DIRECT,
    create: createPostgresTarget,
    refused: POSTGRES_REFUSED,
    allowed: POSTGRES_ALLOWED,
    schema: 'public',
    heavy:
      'select count(*) from employee a, employee b, employee c, employee d, employee f, employee g, employee h, employee i',
    realVectors: [
      'select note from salary',
      "select most_common_vals::text from pg_stats where tablename = 'salary'",
      'select first_name from employee', // the role's search_path: hr_private.employee
      'select note from hr_private.salary',
      'select salary_of(1)',
      'select (1).salary_of',
      'select g.salary_of from generate_series(1, 1) g',
      "select query_to_xml('select note from salary', true, true, '')::text",
    ],
  },
];

describe.each(SUITES)('$engine: bypass suite through the query service', (suite) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(await suite.create());
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await h?.target.close();
  });

  it('has at least 60 techniques', () => {
    expect(suite.refused.length).toBeGreaterThanOrEqual(60);
    expect(new Set(suite.refused.map(([name]) => name)).size).toBe(suite.refused.length);
  });

  it('uses vectors that are real: the shared user reads MARKER through each directly', async () => {
    for (const sql of suite.realVectors) {
      const rows = await h.target.asGatewayUser(sql);
      expect(JSON.stringify(rows), sql).toContain(MARKER);
    }
  });

  it.each(suite.refused)('refuses: %s', async (_name, sql, code) => {
    const executed = h.engine.executions;
    const { outcome, records } = await h.query(sql);
    expect(JSON.stringify(outcome)).not.toContain(MARKER);
    expect(JSON.stringify(records)).not.toContain(MARKER);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect({ code: outcome.code, message: outcome.message }).toMatchObject({ code });
    if (code === 'SQL_TABLE_NOT_GRANTED') {
      expect(outcome.hint).toMatch(/^gatehouse request /);
    }
    expect(h.engine.executions).toBe(executed);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      type: 'query.attempt',
      actor: ATTACKER,
      decision: 'refused',
      code,
      sql,
    });
    expect(outcome.auditId).toBe(String(records[0]?.seq));
  });

  it.each(suite.allowed)('allows, reading only employee: %s', async (_name, sql) => {
    const executed = h.engine.executions;
    const { outcome, records } = await h.query(sql);
    expect(JSON.stringify(outcome)).not.toContain(MARKER);
    expect(outcome).toMatchObject({ ok: true });
    expect(h.engine.executions).toBe(executed + 1);
    const attempt = records.find((r) => r.type === 'query.attempt');
    expect(attempt?.decision).toBe('allowed');
    for (const table of attempt?.tables ?? []) expect(table).toBe(`${suite.schema}.employee`);
    expect(records.find((r) => r.type === 'query.outcome')?.decision).toBe('succeeded');
  });

  it('the search_path trick reads public.employee, not the role default hr_private.employee', async () => {
    const { outcome } = await h.query('select first_name from employee order by emp_no limit 1');
    expect(outcome).toMatchObject({ ok: true, result: { rows: [['First1']] } });
  });

  it('a statement that only reads employee but runs too long is stopped (DoS)', async () => {
    const { outcome, records } = await h.query(suite.heavy, { statementTimeoutMs: 1500 });
    expect(outcome).toMatchObject({ ok: false, code: 'QUERY_TIMEOUT' });
    expect(records.map((r) => r.decision)).toEqual(['allowed', 'failed']);
  });

  it.each(suite.direct)('execution layer holds on its own: $sql', async (step) => {
    const options = { maxRows: 10, maxBytes: 1_000_000, timeoutMs: 5000 };
    const run = h.engine.execute(step.sql, options);
    if (step.expect === 'fails') {
      await expect(run).rejects.toMatchObject({ code: 'QUERY_FAILED' });
    } else {
      await run;
    }
    if (step.then === undefined) return;
    // pool size 2: three runs reach every pooled connection at least once.
    for (let i = 0; i < 3; i++) {
      const next = h.engine.execute(step.then.sql, options);
      if (step.then.fails === true) {
        await expect(next).rejects.toMatchObject({ code: 'QUERY_FAILED' });
      } else {
        expect((await next).rows).toEqual(step.then.rows);
      }
    }
  });

  it('after the suite: no side effect, sessions reset, audit chain intact', async () => {
    // An allowed query after every attack still sees a clean, pinned session.
    const { outcome } = await h.query('select count(*) from employee');
    expect(outcome).toMatchObject({ ok: true });
    // A statement killed for its timeout (the DoS case above) leaves the server a moment
    // later than the gateway gives up on it: wait for the sessions to settle, then compare.
    let after = await h.target.sideEffects();
    for (let i = 0; i < 50 && !isDeepStrictEqual(after, h.before); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await h.target.sideEffects();
    }
    expect(after).toEqual(h.before);
    expect(Object.values(files()).every((exists) => !exists)).toBe(true);
    const verification = await h.state.audit.verify();
    expect(verification).toMatchObject({ ok: true });
    const records = await allRecords(h.state);
    const refusals = records.filter((r) => r.type === 'query.attempt' && r.decision === 'refused');
    expect(refusals).toHaveLength(suite.refused.length);
    expect(JSON.stringify(records)).not.toContain(MARKER);
  });
});
