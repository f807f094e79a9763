import nodeSqlParser from 'node-sql-parser/build/mysql.js';
import type { ErrorCode } from '../../errors/catalogue.js';
import type { Analysis } from '../analysis.js';
import { AnalysisCollector, refusedAnalysis } from '../analysis-collector.js';
import { isFunctionAllowed } from '../function-allow-list.js';
import { isSystemSchema } from '../system-schemas.js';
import { lexMysql, type MysqlToken } from './mysql-lexer.js';

/**
 * MySQL / Aurora MySQL / MariaDB analysis: the lexical pre-scan of mysql-lexer.ts, then
 * node-sql-parser 5.4 on the sanitised text, then our own walk of its AST. We never read
 * node-sql-parser's `tableList`: it lists CTE names as tables and misses nothing we can check
 * (anchors.md §6). The walk is an allow-list: a node type or a key holding a node that this
 * file does not know refuses the statement (SQL_UNRESOLVED).
 *
 * Identifier case: table and database names are compared exactly as written. On Linux
 * (lower_case_table_names=0) `Salary` and `salary` are different tables; on a server that
 * folds names, exact comparison can only refuse more than needed, never less.
 */

// The per-dialect build is a CommonJS bundle exporting `Parser`.
const { Parser } = nodeSqlParser as unknown as {
  Parser: new () => { parse(sql: string, options: object): { ast: unknown } };
};
const parser = new Parser();
const PARSE_OPTIONS = { database: 'mysql', parseOptions: { includeLocations: true } };

/** Recursion guard: deeper trees are refused rather than risking a stack overflow. */
const MAX_DEPTH = 200;

/** Words node-sql-parser presents as function calls that are really SQL syntax. */
const PSEUDO_FUNCTIONS = new Set(['exists', 'any', 'all', 'some']);

/** Functions MySQL writes with FROM inside their parentheses (`EXTRACT(YEAR FROM d)`). */
const FROM_FUNCTIONS = new Set(['EXTRACT', 'TRIM', 'SUBSTRING', 'SUBSTR']);

/** Words after FROM / JOIN that do not start a table name. */
const NOT_TABLE_WORDS = new Set(['SELECT', 'WITH', 'LATERAL', 'DUAL']);

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonObject = { readonly [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SELECT_KEYS = new Set([
  'with', 'type', 'options', 'distinct', 'columns', 'into', 'from', 'where', 'groupby', 'having',
  'orderby', 'limit', 'locking_read', 'window', 'collate', 'loc', '_next', 'set_op',
  'parentheses_symbol', '_orderby', '_limit',
]); // prettier-ignore

/** For each expression type: how each key is treated. `expr` is walked; `leaf` must hold no
 * node (strings, numbers, loc); `skip` holds known-harmless objects (COLLATE, data types). */
type KeyKind = 'expr' | 'leaf' | 'skip';
const LITERAL: Record<string, KeyKind> = {
  value: 'leaf',
  prefix: 'leaf',
  suffix: 'skip',
  escape: 'expr',
};
const EXPRESSIONS: Record<string, Record<string, KeyKind>> = {
  column_ref: { table: 'skip', column: 'skip', collate: 'skip', suffix: 'skip', order_by: 'leaf' },
  binary_expr: { operator: 'leaf', left: 'expr', right: 'expr', parentheses: 'leaf' },
  unary_expr: { operator: 'leaf', expr: 'expr', parentheses: 'leaf' },
  expr_list: { value: 'expr', parentheses: 'leaf', separator: 'leaf' },
  case: { expr: 'expr', args: 'expr', parentheses: 'leaf' },
  when: { cond: 'expr', result: 'expr' },
  else: { result: 'expr' },
  cast: { expr: 'expr', target: 'skip', keyword: 'leaf', symbol: 'leaf', parentheses: 'leaf' },
  interval: { expr: 'expr', unit: 'leaf' },
  ESCAPE: { value: 'expr' },
  collate: { collate: 'skip', keyword: 'leaf' },
  datatype: { dataType: 'leaf', length: 'leaf', parentheses: 'leaf', suffix: 'skip' },
  origin: { value: 'leaf' },
  default: { value: 'leaf' },
  star: { value: 'leaf' },
  number: LITERAL, bigint: LITERAL, bool: LITERAL, boolean: LITERAL, null: LITERAL, date: LITERAL,
  datetime: LITERAL, time: LITERAL, timestamp: LITERAL, hex_string: LITERAL,
  full_hex_string: LITERAL, bit_string: LITERAL, natural_string: LITERAL,
  single_quote_string: LITERAL, double_quote_string: LITERAL, string: LITERAL,
}; // prettier-ignore

class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly offset: number | undefined,
  ) {}
}

export function analyzeMysql(sql: string, defaultSchema: string): Analysis {
  const lexed = lexMysql(sql);
  if (!lexed.ok) {
    return refusedAnalysis(
      lexed.statementType,
      lexed.reason.code,
      lexed.reason.message,
      lexed.reason.position,
    );
  }
  let ast: unknown;
  try {
    ast = parser.parse(lexed.parserText, PARSE_OPTIONS).ast;
  } catch (error) {
    const offset = (error as { location?: { start?: { offset?: number } } }).location?.start
      ?.offset;
    return refusedAnalysis(
      'select',
      'SQL_PARSE_ERROR',
      'The statement could not be parsed as a MySQL SELECT.',
      typeof offset === 'number' ? offset + 1 : undefined,
    );
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) {
      return refusedAnalysis(
        'select',
        'SQL_MULTIPLE_STATEMENTS',
        'Only one statement per query is allowed.',
      );
    }
    ast = ast[0];
  }
  const collector = new AnalysisCollector();
  const root = ast as Json;
  const type =
    isObject(root) && typeof root.type === 'string' ? root.type.toLowerCase() : 'unknown';
  collector.statementType = type;
  if (type !== 'select') {
    collector.refuse(
      'SQL_STATEMENT_NOT_ALLOWED',
      `${type.toUpperCase()} statements are not allowed; only a plain SELECT (or WITH … SELECT) is.`,
      1,
    );
    return collector.finish();
  }
  const walker = new MysqlWalker(collector, defaultSchema, lexed.tokens);
  try {
    walker.select(root, new Set());
    walker.crossCheckFromClauses();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    collector.refuse(
      error.code,
      error.message,
      error.offset === undefined ? undefined : error.offset + 1,
    );
  }
  return collector.finish();
}

class MysqlWalker {
  private depth = 0;
  private readonly tokenAt = new Map<number, number>();
  /** Offsets where the walk found a table (or CTE) reference. */
  private readonly tableStarts = new Set<number>();

  constructor(
    private readonly out: AnalysisCollector,
    private readonly defaultSchema: string,
    private readonly tokens: readonly MysqlToken[],
  ) {
    tokens.forEach((token, index) => this.tokenAt.set(token.start, index));
  }

  select(node: Json | undefined, outerCtes: ReadonlySet<string>): void {
    this.enter();
    if (!isObject(node) || node.type !== 'select')
      this.unresolved('a query of an unknown shape', node);
    for (const [key, value] of Object.entries(node)) {
      if (!SELECT_KEYS.has(key) && value !== null && value !== undefined) {
        this.unresolved(`the clause '${key}'`, node);
      }
    }
    const ctes = this.withClause(node.with, outerCtes);
    if (node.into !== null && node.into !== undefined) {
      if (
        !isObject(node.into) ||
        Object.entries(node.into).some(([k, v]) => k !== 'position' || v !== null)
      ) {
        throw new Refusal('SQL_SELECT_INTO', 'SELECT … INTO is not allowed.', offsetOf(node));
      }
    }
    if (node.locking_read !== null && node.locking_read !== undefined) {
      throw new Refusal('SQL_LOCKING_CLAUSE', 'Locking clauses are not allowed.', offsetOf(node));
    }
    if (node.options !== null && node.options !== undefined) {
      if (!Array.isArray(node.options) || node.options.some((o) => typeof o !== 'string')) {
        this.unresolved('SELECT options', node);
      }
    }
    if (typeof node.distinct === 'object' && node.distinct !== null) {
      this.unresolved('DISTINCT ON', node);
    }
    if (node.from !== null && node.from !== undefined) this.from(node.from, ctes);
    if (Array.isArray(node.columns)) {
      for (const column of node.columns) {
        if (!isObject(column)) this.unresolved('a select-list item', node);
        this.expr(column.expr, ctes);
      }
    } else if (node.columns !== '*') {
      this.unresolved('the select list', node);
    }
    this.expr(node.where, ctes);
    this.expr(node.having, ctes);
    const groupby = node.groupby;
    if (isObject(groupby)) {
      this.expr(groupby.columns, ctes);
      this.expr(groupby.modifiers, ctes);
    } else {
      this.expr(groupby, ctes);
    }
    this.orderBy(node.orderby, ctes);
    if (isObject(node.limit)) this.expr(node.limit.value, ctes);
    else if (node.limit !== null && node.limit !== undefined) this.unresolved('LIMIT', node);
    if (isObject(node.window)) {
      const items = node.window.expr;
      if (!Array.isArray(items)) this.unresolved('WINDOW', node);
      for (const item of items) {
        if (!isObject(item)) this.unresolved('WINDOW', node);
        this.windowSpec(item.as_window_specification, ctes);
      }
    } else if (node.window !== null && node.window !== undefined) {
      this.unresolved('WINDOW', node);
    }
    // ORDER BY / LIMIT of a parenthesised set operation.
    this.orderBy(node._orderby, ctes);
    if (isObject(node._limit)) this.expr(node._limit.value, ctes);
    else if (node._limit !== null && node._limit !== undefined) this.unresolved('LIMIT', node);
    // `WITH … SELECT … UNION SELECT …`: the WITH scopes over the whole set operation, and
    // node-sql-parser hangs it on the first branch. `(WITH s AS (…) SELECT …) UNION SELECT …
    // FROM s` comes out the same but with `parentheses_symbol` on that branch, and there the
    // WITH ends at the parenthesis (MySQL 8 reads the second `s` as a base table): the later
    // branches then see only the outer CTEs. Treating a CTE of that branch as in scope would
    // skip a grant check; out of scope only refuses more.
    if (node._next !== null && node._next !== undefined) {
      this.select(node._next, node.parentheses_symbol === true ? outerCtes : ctes);
    }
    this.depth--;
  }

  /** CTE scoping: each CTE sees the ones before it, and itself only under RECURSIVE; the
   * statement sees them all. A name counts as a CTE only when it matches exactly: treating a
   * base table as a CTE would skip a grant check, the other way round only refuses. */
  private withClause(list: Json | undefined, outer: ReadonlySet<string>): ReadonlySet<string> {
    if (list === null || list === undefined) return outer;
    if (!Array.isArray(list) || list.length === 0) this.unresolved('the WITH clause', undefined);
    const recursive = isObject(list[0]) && list[0].recursive === true;
    const visible = new Set(outer);
    for (const cte of list) {
      if (!isObject(cte) || !isObject(cte.name) || typeof cte.name.value !== 'string') {
        this.unresolved('a common table expression', cte);
      }
      for (const key of Object.keys(cte)) {
        if (!['name', 'stmt', 'columns', 'recursive'].includes(key))
          this.unresolved(`the CTE key '${key}'`, cte);
      }
      const name = cte.name.value;
      const body = isObject(cte.stmt) ? (cte.stmt.ast ?? cte.stmt) : undefined;
      this.select(body, recursive ? new Set([...visible, name]) : visible);
      visible.add(name);
    }
    return visible;
  }

  private from(clause: Json, ctes: ReadonlySet<string>): void {
    // `FROM (t1, t2)` comes as one object rather than a list.
    const items = isObject(clause) ? [clause] : clause;
    if (!Array.isArray(items)) this.unresolved('the FROM clause', undefined);
    for (const item of items) {
      if (!isObject(item)) this.unresolved('a FROM item', undefined);
      if (item.type === 'dual' && Object.keys(item).every((k) => k === 'type' || k === 'loc'))
        continue;
      for (const [key, value] of Object.entries(item)) {
        const known = [
          'db',
          'table',
          'as',
          'loc',
          'join',
          'on',
          'using',
          'expr',
          'prefix',
          'parentheses',
          'joins',
        ];
        if (!known.includes(key) && value !== null && value !== undefined) {
          this.unresolved(`the FROM item key '${key}'`, item);
        }
      }
      if (item.prefix !== null && item.prefix !== undefined && item.prefix !== 'lateral') {
        this.unresolved(`'${String(item.prefix)}' in FROM`, item);
      }
      if (typeof item.table === 'string' && (item.expr === undefined || item.expr === null)) {
        this.baseTable(item, ctes);
      } else if (isObject(item.expr) && item.expr.ast !== undefined) {
        this.select(item.expr.ast, ctes);
      } else if (Array.isArray(item.expr)) {
        this.from(item.expr, ctes);
        if (Array.isArray(item.joins) && item.joins.length > 0)
          this.unresolved('a join list', item);
      } else {
        this.unresolved('a FROM item', item);
      }
      this.expr(item.on, ctes);
      if (item.using !== null && item.using !== undefined) {
        if (!Array.isArray(item.using)) this.unresolved('USING', item);
        for (const column of item.using) {
          if (
            typeof column !== 'string' &&
            !(isObject(column) && typeof column.value === 'string')
          ) {
            this.unresolved('USING', item);
          }
        }
      }
    }
  }

  private baseTable(item: JsonObject, ctes: ReadonlySet<string>): void {
    const table = item.table as string;
    const db = item.db;
    if (db !== null && typeof db !== 'string') this.unresolved('a qualified table name', item);
    const offset = offsetOf(item);
    if (offset === undefined) this.unresolved(`the table '${table}'`, item);
    // The parser's reading must match the lexer's: the identifiers at that offset.
    const index = this.tokenAt.get(offset);
    const names = db === null ? [table] : [db, table];
    const first = index === undefined ? undefined : this.tokens[index];
    const ok =
      first !== undefined &&
      index !== undefined &&
      identifierMatches(first, names[0]!) &&
      (names.length === 1 ||
        (this.tokens[index + 1]?.value === '.' &&
          this.tokens[index + 1]?.kind === 'punct' &&
          identifierMatches(this.tokens[index + 2], names[1]!)));
    if (!ok) {
      throw new Refusal(
        'SQL_UNRESOLVED',
        `The analyser cannot prove how the server reads the table name '${table}'.`,
        offset,
      );
    }
    this.tableStarts.add(offset);
    if (db === null && ctes.has(table)) return;
    const schema = db ?? this.defaultSchema;
    this.out.addTable({ schema, name: table });
    if (isSystemSchema('mysql', schema)) {
      this.out.refuse(
        'SQL_SYSTEM_CATALOG',
        `The system schema '${schema}' cannot be queried.`,
        offset + 1,
      );
    }
  }

  private orderBy(list: Json | undefined, ctes: ReadonlySet<string>): void {
    if (list === null || list === undefined) return;
    if (!Array.isArray(list)) this.unresolved('ORDER BY', undefined);
    for (const item of list) {
      if (!isObject(item)) this.unresolved('ORDER BY', undefined);
      for (const key of Object.keys(item)) {
        if (!['expr', 'type', 'nulls', 'loc'].includes(key)) this.unresolved('ORDER BY', item);
      }
      this.expr(item.expr, ctes);
    }
  }

  private windowSpec(spec: Json | undefined, ctes: ReadonlySet<string>): void {
    if (typeof spec === 'string') return; // a named window
    if (!isObject(spec) || !isObject(spec.window_specification))
      this.unresolved('a window', undefined);
    const ws = spec.window_specification;
    for (const [key, value] of Object.entries(ws)) {
      if (key === 'partitionby') {
        if (Array.isArray(value)) for (const p of value) this.expr(isObject(p) ? p.expr : p, ctes);
      } else if (key === 'orderby') {
        this.orderBy(value, ctes);
      } else if (key === 'window_frame_clause') {
        this.expr(value, ctes);
      } else if (key !== 'name' || (value !== null && typeof value !== 'string')) {
        this.unresolved('a window', ws);
      }
    }
  }

  expr(node: Json | undefined, ctes: ReadonlySet<string>): void {
    if (node === null || node === undefined || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) this.expr(item, ctes);
      return;
    }
    const value = node as JsonObject;
    this.enter();
    const type = value.type;
    if (type === undefined && value.ast !== undefined) {
      // A subquery: scalar, IN, EXISTS, ANY/ALL.
      this.select(value.ast, ctes);
    } else if (type === 'select') {
      this.select(value, ctes);
    } else if (type === 'function') {
      this.functionCall(value, ctes);
    } else if (type === 'aggr_func') {
      this.aggregate(value, ctes);
    } else if (type === 'window') {
      this.windowSpec(value.as_window_specification, ctes);
    } else if (type === 'extract') {
      this.out.addFunction('extract');
      if (!isObject(value.args)) this.unresolved('EXTRACT', value);
      this.expr(value.args.source, ctes);
    } else if (type === 'var' || type === 'assign') {
      throw new Refusal(
        'SQL_VARIABLE',
        'User and system variables cannot be read or assigned.',
        offsetOf(value),
      );
    } else if (typeof type === 'string' && Object.hasOwn(EXPRESSIONS, type)) {
      const spec = EXPRESSIONS[type]!;
      for (const [key, child] of Object.entries(value)) {
        if (key === 'type' || key === 'loc') continue;
        const kind = spec[key];
        if (kind === 'expr') this.expr(child, ctes);
        else if (kind === 'skip') this.assertNoQuery(child, value);
        else if (typeof child === 'object' && child !== null)
          this.unresolved(`'${key}' in ${type}`, value);
      }
    } else {
      this.unresolved(`the expression type '${String(type)}'`, value);
    }
    this.depth--;
  }

  private functionCall(node: JsonObject, ctes: ReadonlySet<string>): void {
    const nameNode = node.name;
    if (!isObject(nameNode) || !Array.isArray(nameNode.name))
      this.unresolved('a function name', node);
    if ((nameNode.schema !== undefined && nameNode.schema !== null) || nameNode.name.length !== 1) {
      throw new Refusal(
        'SQL_FUNCTION_NOT_ALLOWED',
        'Schema-qualified (stored) functions are not allowed.',
        offsetOf(node),
      );
    }
    const part = nameNode.name[0];
    if (
      !isObject(part) ||
      typeof part.value !== 'string' ||
      (part.type !== 'default' && part.type !== 'origin')
    ) {
      throw new Refusal(
        'SQL_FUNCTION_NOT_ALLOWED',
        'Quoted function names (stored functions) are not allowed.',
        offsetOf(node),
      );
    }
    const name = part.value.toLowerCase();
    for (const [key, child] of Object.entries(node)) {
      if (
        !['type', 'name', 'args', 'over', 'loc', 'suffix', 'args_parentheses'].includes(key) &&
        child !== null
      ) {
        this.unresolved(`'${key}' in a function call`, node);
      }
    }
    this.checkFunctionToken(node, name);
    if (PSEUDO_FUNCTIONS.has(name)) {
      this.expr(node.args, ctes);
      return;
    }
    this.useFunction(name, node);
    this.expr(node.args, ctes);
    if (node.over !== null && node.over !== undefined) this.expr(node.over, ctes);
  }

  private aggregate(node: JsonObject, ctes: ReadonlySet<string>): void {
    if (typeof node.name !== 'string') this.unresolved('an aggregate', node);
    const name = node.name.toLowerCase();
    this.checkFunctionToken(node, name);
    this.useFunction(name, node);
    for (const [key, child] of Object.entries(node)) {
      if (!['type', 'name', 'args', 'over', 'loc'].includes(key) && child !== null) {
        this.unresolved(`'${key}' in an aggregate`, node);
      }
    }
    const args = node.args;
    if (isObject(args)) {
      for (const [key, child] of Object.entries(args)) {
        if (key === 'expr') this.expr(child, ctes);
        else if (key === 'orderby') this.orderBy(child, ctes);
        else if (key === 'separator') this.expr(isObject(child) ? child.value : child, ctes);
        else if (
          key !== 'distinct' &&
          key !== 'loc' &&
          typeof child === 'object' &&
          child !== null
        ) {
          this.unresolved(`'${key}' in an aggregate`, node);
        }
      }
    } else if (args !== null && args !== undefined) {
      this.unresolved('aggregate arguments', node);
    }
    if (node.over !== null && node.over !== undefined) this.expr(node.over, ctes);
  }

  /** Keys skipped as harmless (COLLATE, cast targets, names) must really hold no query,
   * function call or column: a safety net against a grammar change moving one there. */
  private assertNoQuery(value: Json | undefined, node: JsonObject): void {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) this.assertNoQuery(item, node);
      return;
    }
    const object = value as JsonObject;
    if (
      'ast' in object ||
      ['select', 'function', 'aggr_func', 'column_ref'].includes(String(object.type))
    ) {
      this.unresolved('a query or call in an unexpected place', node);
    }
    for (const child of Object.values(object)) this.assertNoQuery(child, node);
  }

  private useFunction(name: string, node: JsonObject): void {
    this.out.addFunction(name);
    if (!isFunctionAllowed('mysql', name)) {
      const offset = offsetOf(node);
      this.out.refuse(
        'SQL_FUNCTION_NOT_ALLOWED',
        `The function ${name}() is not on the allow-list.`,
        offset === undefined ? undefined : offset + 1,
      );
    }
  }

  /** The function name the parser reports must be the word the lexer saw at that offset. */
  private checkFunctionToken(node: JsonObject, name: string): void {
    const offset = offsetOf(node);
    const index = offset === undefined ? undefined : this.tokenAt.get(offset);
    const token = index === undefined ? undefined : this.tokens[index];
    if (token?.kind !== 'word' || token.value.toLowerCase() !== name) {
      throw new Refusal(
        'SQL_UNRESOLVED',
        `The analyser cannot prove which function '${name}' is called.`,
        offset,
      );
    }
  }

  /**
   * Defence in depth against the parser dropping a table: every identifier that follows
   * FROM or JOIN in the text must be where the walk found a table, unless the FROM belongs
   * to EXTRACT / TRIM / SUBSTRING.
   */
  crossCheckFromClauses(): void {
    const openers: string[] = [];
    for (let k = 0; k < this.tokens.length; k++) {
      const token = this.tokens[k]!;
      if (token.kind === 'punct' && token.value === '(') {
        const previous = this.tokens[k - 1];
        openers.push(previous?.kind === 'word' ? previous.value.toUpperCase() : '');
        continue;
      }
      if (token.kind === 'punct' && token.value === ')') {
        openers.pop();
        continue;
      }
      if (token.kind !== 'word') continue;
      const upper = token.value.toUpperCase();
      if (upper !== 'FROM' && !upper.endsWith('JOIN')) continue;
      if (upper === 'FROM' && FROM_FUNCTIONS.has(openers.at(-1) ?? '')) continue;
      const next = this.tokens[k + 1];
      if (
        next === undefined ||
        next.kind === 'punct' ||
        next.kind === 'string' ||
        next.kind === 'number'
      )
        continue;
      if (next.kind === 'word' && NOT_TABLE_WORDS.has(next.value.toUpperCase())) continue;
      if (!this.tableStarts.has(next.start)) {
        throw new Refusal(
          'SQL_UNRESOLVED',
          `The analyser cannot prove how the server reads the table after ${upper}.`,
          next.start,
        );
      }
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw new Refusal(
        'SQL_UNRESOLVED',
        'The statement is nested too deeply to analyse.',
        undefined,
      );
    }
  }

  private unresolved(what: string, node: Json | undefined): never {
    throw new Refusal(
      'SQL_UNRESOLVED',
      `The analyser does not understand ${what}; it refuses what it cannot prove safe.`,
      offsetOf(node),
    );
  }
}

function identifierMatches(token: MysqlToken | undefined, name: string): boolean {
  if (token === undefined) return false;
  return (
    (token.kind === 'word' || token.kind === 'quoted' || token.kind === 'dquoted') &&
    token.value === name
  );
}

/** 0-based offset from node-sql-parser's `loc`, when it has one. */
function offsetOf(node: Json | undefined): number | undefined {
  if (!isObject(node) || !isObject(node.loc) || !isObject(node.loc.start)) return undefined;
  const offset = node.loc.start.offset;
  return typeof offset === 'number' ? offset : undefined;
}
