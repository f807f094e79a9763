import { loadModule, parseSync, scanSync } from 'libpg-query';
import type { ErrorCode } from '../../errors/catalogue.js';
import type { Analysis } from '../analysis.js';
import { AnalysisCollector, refusedAnalysis } from '../analysis-collector.js';
import { isFunctionAllowed } from '../function-allow-list.js';
import { isSystemSchema } from '../system-schemas.js';

/**
 * PostgreSQL / Aurora PostgreSQL analysis with libpg-query, the server's own parser compiled
 * to WASM: comments, `\'` in strings, `FROM ONLY`, `TABLE t`, identifier case folding and
 * dollar quoting are read exactly as the server reads them (anchors.md §6).
 *
 * The walker is an allow-list over the JSON parse tree: every node type it accepts is listed
 * below with how each of its keys is treated. A node type it does not know, or a known node
 * with an unknown key that holds an object, refuses the statement (SQL_UNRESOLVED); a new
 * PostgreSQL syntax can therefore only ever be refused, never silently skipped.
 *
 * Identifier case: libpg-query folds unquoted identifiers to lower case and keeps quoted ones,
 * as the server does; resolved names are compared exactly (`"Salary"` is not `salary`).
 */

let ready = false;

/** Loads the WASM parser once; `analyzePostgres` refuses until it has resolved. */
export async function initPostgresParser(): Promise<void> {
  if (ready) return;
  await loadModule();
  ready = true;
}

export function isPostgresParserReady(): boolean {
  return ready;
}

const MAX_DEPTH = 200;

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
type JsonObject = { readonly [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `node`: a wrapped node or a list of them, walked. `leaf`: must not hold an object.
 * `skip`: a known object that cannot hold a query, function call or relation. */
type KeyKind = 'node' | 'leaf' | 'skip';
type Spec = Readonly<Record<string, KeyKind>>;

const SPECS: Readonly<Record<string, Spec>> = {
  A_Const: { ival: 'skip', fval: 'skip', boolval: 'skip', sval: 'skip', bsval: 'skip', isnull: 'leaf' },
  ColumnRef: { fields: 'node' },
  ParamRef: { number: 'leaf' },
  ResTarget: { name: 'leaf', indirection: 'node', val: 'node' },
  BoolExpr: { boolop: 'leaf', args: 'node' },
  NullTest: { arg: 'node', nulltesttype: 'leaf', argisrow: 'leaf' },
  BooleanTest: { arg: 'node', booltesttype: 'leaf' },
  CaseExpr: { arg: 'node', args: 'node', defresult: 'node', casetype: 'leaf', casecollid: 'leaf' },
  CaseWhen: { expr: 'node', result: 'node' },
  CoalesceExpr: { args: 'node' },
  MinMaxExpr: { op: 'leaf', args: 'node' },
  RowExpr: { args: 'node', row_format: 'leaf', colnames: 'node' },
  A_ArrayExpr: { elements: 'node', list_start: 'leaf', list_end: 'leaf' },
  A_Indirection: { arg: 'node', indirection: 'node' },
  A_Indices: { is_slice: 'leaf', lidx: 'node', uidx: 'node' },
  CollateClause: { arg: 'node', collname: 'node' },
  NamedArgExpr: { arg: 'node', name: 'leaf', argnumber: 'leaf' },
  GroupingSet: { kind: 'leaf', content: 'node' },
  GroupingFunc: { args: 'node' },
  WindowDef: {
    name: 'leaf', refname: 'leaf', partitionClause: 'node', orderClause: 'node',
    frameOptions: 'leaf', startOffset: 'node', endOffset: 'node',
  },
  List: { items: 'node' },
  String: { sval: 'leaf' },
  Integer: { ival: 'leaf' },
  Float: { fval: 'leaf' },
  Boolean: { boolval: 'leaf' },
  BitString: { bsval: 'leaf' },
  A_Star: {},
  SQLValueFunction: { op: 'leaf', typmod: 'leaf' },
  JoinExpr: {
    jointype: 'leaf', isNatural: 'leaf', larg: 'node', rarg: 'node', usingClause: 'node',
    join_using_alias: 'skip', quals: 'node', alias: 'skip', rtindex: 'leaf',
  },
  RangeSubselect: { lateral: 'leaf', subquery: 'node', alias: 'skip' },
}; // prettier-ignore

/** Operators of the built-in types. A user-defined operator can run any function, so any
 * other operator, and any operator qualified with a schema other than pg_catalog, is refused. */
// prettier-ignore
const OPERATORS = new Set([
  '=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '^', '||', '~~', '!~~', '~~*',
  '!~~*', '~', '!~', '~*', '!~*', '@>', '<@', '&&', '->', '->>', '#>', '#>>', '?', '?|', '?&',
  '@?', '@@', '|/', '||/', '@', '&', '|', '#', '<<', '>>', '#-',
  'BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC',
]);

/** Types a value may be cast to: built-in, with input functions that read nothing else.
 * `regclass` and friends look up catalogs; domains and user types can run user code. */
// prettier-ignore
const TYPES = new Set([
  'bool', 'boolean', 'int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'numeric',
  'decimal', 'float4', 'float8', 'real', 'text', 'varchar', 'bpchar', 'char', 'date', 'time',
  'timetz', 'timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'uuid', 'bytea', 'inet',
  'cidr', 'macaddr', 'bit', 'varbit', 'money',
]);

const SQL_VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
};

class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly location: number | undefined,
  ) {}
}

export function analyzePostgres(sql: string, defaultSchema: string): Analysis {
  if (!ready) {
    return refusedAnalysis(
      'unknown',
      'SQL_ANALYSER_UNAVAILABLE',
      'The PostgreSQL parser is not loaded yet (initSqlAnalysis() was not awaited).',
    );
  }
  const positions = new Positions(sql);
  const differential = checkStringDifferential(sql);
  if (differential !== undefined) {
    return refusedAnalysis(
      'select',
      'SQL_LEXICAL',
      "A backslash before a quote in a string ends it differently when standard_conforming_strings is off; double the quote instead ('it''s') or use E'…'.",
      positions.of(differential),
    );
  }
  let stmts: Json;
  try {
    stmts = (parseSync(sql) as unknown as { stmts?: Json }).stmts ?? [];
  } catch (error) {
    if (error instanceof Error && error.message === 'Query cannot be empty') {
      return refusedAnalysis('empty', 'SQL_EMPTY', 'No statement was given.');
    }
    const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
      ?.cursorPosition;
    const message = error instanceof Error ? error.message : 'syntax error';
    return refusedAnalysis(
      'unknown',
      'SQL_PARSE_ERROR',
      `The statement could not be parsed: ${message}.`,
      typeof cursor === 'number' ? positions.of(cursor) : undefined,
    );
  }
  if (!Array.isArray(stmts) || stmts.length === 0) {
    return refusedAnalysis('empty', 'SQL_EMPTY', 'No statement was given.');
  }
  if (stmts.length > 1) {
    const second = stmts[1];
    const at =
      isObject(second) && typeof second.stmt_location === 'number'
        ? second.stmt_location
        : undefined;
    return refusedAnalysis(
      'multiple',
      'SQL_MULTIPLE_STATEMENTS',
      'Only one statement per query is allowed.',
      at === undefined ? undefined : positions.of(at),
    );
  }
  const raw = stmts[0];
  const stmt = isObject(raw) && isObject(raw.stmt) ? raw.stmt : undefined;
  const type = stmt === undefined ? undefined : Object.keys(stmt)[0];
  const collector = new AnalysisCollector();
  collector.statementType = statementType(type);
  if (stmt === undefined || type !== 'SelectStmt') {
    collector.refuse(
      'SQL_STATEMENT_NOT_ALLOWED',
      `${collector.statementType.toUpperCase()} statements are not allowed; only a plain SELECT (or WITH … SELECT) is.`,
      1,
    );
    return collector.finish();
  }
  const walker = new PostgresWalker(collector, defaultSchema, positions);
  try {
    walker.select(stmt.SelectStmt, new Set());
    walker.checkAttributeNotation();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    collector.refuse(error.code, error.message, positions.of(error.location));
  }
  return collector.finish();
}

/** `InsertStmt` → `insert`, `VariableSetStmt` → `set`, `CopyStmt` → `copy`. */
function statementType(type: string | undefined): string {
  if (type === undefined) return 'unknown';
  const special: Record<string, string> = {
    VariableSetStmt: 'set',
    VariableShowStmt: 'show',
    TransactionStmt: 'transaction',
    DoStmt: 'do',
    CreateTableAsStmt: 'create table as',
  };
  return special[type] ?? type.replace(/Stmt$/, '').toLowerCase();
}

/** Output columns of allowed set-returning functions that have named OUT parameters. */
const FUNCTION_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  json_each: ['key', 'value'],
  jsonb_each: ['key', 'value'],
  json_each_text: ['key', 'value'],
  jsonb_each_text: ['key', 'value'],
  json_array_elements: ['value'],
  jsonb_array_elements: ['value'],
  json_array_elements_text: ['value'],
  jsonb_array_elements_text: ['value'],
};

class PostgresWalker {
  private depth = 0;
  /**
   * Attribute notation: PostgreSQL reads `q.f` as the function call `f(q)` when `q` has no
   * column `f` (https://www.postgresql.org/docs/15/rowtypes.html#ROWTYPES-USAGE). For a table,
   * subquery or CTE `q` is a row, and only functions taking a row can be called (built-ins:
   * to_json, row_to_json, pg_typeof, …; user-defined ones are the residual risk in docs).
   * For a function in FROM that returns a scalar, `q` is that scalar, so `t.current_setting
   * FROM unnest(array['search_path']) t` calls current_setting('search_path'), and
   * `g.pg_sleep FROM generate_series(1, 1) g` sleeps. These maps record, per name a function
   * in FROM can be referred to by, the columns it really has.
   */
  private readonly functionRelations = new Map<string, Set<string>>();
  private readonly qualifiedColumns: {
    qualifier: string;
    field: string;
    location: number | undefined;
  }[] = [];

  constructor(
    private readonly out: AnalysisCollector,
    private readonly defaultSchema: string,
    private readonly positions: Positions,
  ) {}

  select(node: Json | undefined, outer: ReadonlySet<string>): void {
    this.enter();
    if (!isObject(node)) this.unresolved('a query of an unknown shape', undefined);
    const ctes = this.withClause(node.withClause, outer);
    for (const [key, value] of Object.entries(node)) {
      switch (key) {
        case 'withClause':
        case 'op':
        case 'all':
        case 'limitOption':
        case 'groupDistinct':
          if (key !== 'withClause' && typeof value === 'object' && value !== null) {
            this.unresolved(`'${key}'`, undefined);
          }
          break;
        case 'intoClause':
          throw new Refusal('SQL_SELECT_INTO', 'SELECT … INTO is not allowed.', locationIn(value));
        case 'lockingClause':
          throw new Refusal(
            'SQL_LOCKING_CLAUSE',
            'Locking clauses (FOR UPDATE, FOR SHARE, …) are not allowed.',
            undefined,
          );
        case 'larg':
        case 'rarg':
          this.select(value, ctes);
          break;
        case 'distinctClause':
        case 'targetList':
        case 'fromClause':
        case 'whereClause':
        case 'groupClause':
        case 'havingClause':
        case 'windowClause':
        case 'valuesLists':
        case 'sortClause':
        case 'limitOffset':
        case 'limitCount':
          this.node(value, ctes);
          break;
        default:
          if (typeof value === 'object' && value !== null) {
            this.unresolved(`the SELECT clause '${key}'`, undefined);
          }
      }
    }
    this.depth--;
  }

  /** Non-recursive: each CTE sees those before it. RECURSIVE: every CTE of the list is
   * visible everywhere in it (PostgreSQL allows forward references then). */
  private withClause(clause: Json | undefined, outer: ReadonlySet<string>): ReadonlySet<string> {
    if (clause === undefined || clause === null) return outer;
    if (!isObject(clause) || !Array.isArray(clause.ctes))
      this.unresolved('the WITH clause', undefined);
    for (const key of Object.keys(clause)) {
      if (!['ctes', 'recursive', 'location'].includes(key))
        this.unresolved(`'${key}' in WITH`, undefined);
    }
    const list = clause.ctes.map((wrapped) => {
      const cte = isObject(wrapped) ? wrapped.CommonTableExpr : undefined;
      if (!isObject(cte) || typeof cte.ctename !== 'string') {
        this.unresolved('a common table expression', undefined);
      }
      return cte as JsonObject & { ctename: string };
    });
    const recursive = clause.recursive === true;
    const all = new Set([...outer, ...list.map((cte) => cte.ctename)]);
    const visible = new Set(outer);
    for (const cte of list) {
      for (const [key, value] of Object.entries(cte)) {
        const known = [
          'ctename',
          'ctequery',
          'aliascolnames',
          'ctematerialized',
          'search_clause',
          'cycle_clause',
          'location',
          'cterecursive',
          'cterefcount',
        ];
        if (!known.includes(key) && typeof value === 'object' && value !== null) {
          this.unresolved(`'${key}' in a common table expression`, cte.location);
        }
      }
      this.cteClauses(cte, recursive ? all : visible);
      const query = cte.ctequery;
      const kind = isObject(query) ? Object.keys(query)[0] : undefined;
      if (!isObject(query) || kind !== 'SelectStmt') {
        throw new Refusal(
          'SQL_DATA_MODIFYING_CTE',
          `The WITH query '${cte.ctename}' is ${kind === undefined ? 'not a SELECT' : `a ${statementType(kind).toUpperCase()}`}; only SELECT is allowed in WITH.`,
          typeof cte.location === 'number' ? cte.location : undefined,
        );
      }
      this.select(query.SelectStmt, recursive ? all : visible);
      visible.add(cte.ctename);
    }
    return all;
  }

  /**
   * The column lists, SEARCH and CYCLE clauses of a CTE. CYCLE's mark values are constants
   * to the grammar, but `regclass 'salary'` is a constant too (a cast that reads the
   * catalog): they are walked like any expression, the rest must be names.
   */
  private cteClauses(cte: JsonObject, ctes: ReadonlySet<string>): void {
    const location = cte.location;
    const names = (value: Json | undefined, what: string): void => {
      if (value !== undefined && stringList(value) === undefined) this.unresolved(what, location);
    };
    names(cte.aliascolnames, 'the column list of a common table expression');
    const search = cte.search_clause;
    if (search !== undefined) {
      if (!isObject(search)) this.unresolved('SEARCH', location);
      for (const [key, value] of Object.entries(search)) {
        if (key === 'search_col_list') names(value, 'SEARCH');
        else if (!['search_breadth_first', 'search_seq_column', 'location'].includes(key)) {
          this.unresolved(`'${key}' in SEARCH`, location);
        } else if (typeof value === 'object' && value !== null) this.unresolved('SEARCH', location);
      }
    }
    const cycle = cte.cycle_clause;
    if (cycle !== undefined) {
      if (!isObject(cycle)) this.unresolved('CYCLE', location);
      for (const [key, value] of Object.entries(cycle)) {
        if (key === 'cycle_col_list') names(value, 'CYCLE');
        else if (key === 'cycle_mark_value' || key === 'cycle_mark_default') this.node(value, ctes);
        else if (!['cycle_mark_column', 'cycle_path_column', 'location'].includes(key)) {
          this.unresolved(`'${key}' in CYCLE`, location);
        } else if (typeof value === 'object' && value !== null) this.unresolved('CYCLE', location);
      }
    }
  }

  /** A wrapped node (`{ "Type": { … } }`), a list of them, or the empty placeholder `{}`. */
  node(value: Json | undefined, ctes: ReadonlySet<string>): void {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) this.node(item, ctes);
      return;
    }
    if (!isObject(value)) this.unresolved('a value where a node was expected', undefined);
    const keys = Object.keys(value);
    if (keys.length === 0) return;
    if (keys.length !== 1) this.unresolved('a node of an unknown shape', undefined);
    const type = keys[0]!;
    const inner = value[type];
    if (!isObject(inner)) this.unresolved(`the node ${type}`, undefined);
    this.enter();
    switch (type) {
      case 'SelectStmt':
        this.select(inner, ctes);
        break;
      case 'RangeVar':
        this.relation(inner, ctes);
        break;
      case 'FuncCall':
        this.functionCall(inner, ctes);
        break;
      case 'A_Expr':
        this.operator(inner.name, inner.location);
        this.fields(
          type,
          inner,
          { kind: 'leaf', name: 'skip', lexpr: 'node', rexpr: 'node' },
          ctes,
        );
        break;
      case 'SubLink':
        if (inner.operName !== undefined) this.operator(inner.operName, inner.location);
        this.fields(
          type,
          inner,
          {
            subLinkType: 'leaf',
            subLinkId: 'leaf',
            testexpr: 'node',
            operName: 'skip',
            subselect: 'node',
          },
          ctes,
        );
        break;
      case 'SortBy':
        if (inner.useOp !== undefined) this.operator(inner.useOp, inner.location);
        this.fields(
          type,
          inner,
          { node: 'node', sortby_dir: 'leaf', sortby_nulls: 'leaf', useOp: 'skip' },
          ctes,
        );
        break;
      case 'TypeCast':
        this.typeName(inner.typeName);
        this.fields(type, inner, { arg: 'node', typeName: 'skip' }, ctes);
        break;
      case 'RangeFunction':
        this.rangeFunction(inner, ctes);
        break;
      case 'RangeTableSample':
        this.tableSample(inner, ctes);
        break;
      case 'SQLValueFunction': {
        const name = typeof inner.op === 'string' ? SQL_VALUE_FUNCTIONS[inner.op] : undefined;
        if (name === undefined) {
          // CURRENT_USER, SESSION_USER, USER, CURRENT_ROLE, CURRENT_CATALOG, CURRENT_SCHEMA
          // read the session (the shared user, the database): not on the allow-list.
          const op = typeof inner.op === 'string' ? inner.op.replace(/^SVFOP_/, '') : '(unknown)';
          this.out.addFunction(op.toLowerCase());
          this.out.refuse(
            'SQL_FUNCTION_NOT_ALLOWED',
            `The function ${op} is not on the allow-list.`,
            this.positions.of(typeof inner.location === 'number' ? inner.location : undefined),
          );
        } else {
          this.out.addFunction(name);
        }
        this.fields(type, inner, SPECS.SQLValueFunction!, ctes);
        break;
      }
      case 'CoalesceExpr':
        this.out.addFunction('coalesce');
        this.fields(type, inner, SPECS.CoalesceExpr!, ctes);
        break;
      case 'MinMaxExpr':
        this.out.addFunction(inner.op === 'IS_LEAST' ? 'least' : 'greatest');
        this.fields(type, inner, SPECS.MinMaxExpr!, ctes);
        break;
      case 'WindowDef':
        this.fields(type, inner, SPECS.WindowDef!, ctes);
        break;
      case 'ColumnRef': {
        const fields = stringList(inner.fields);
        if (fields !== undefined && fields.length >= 2) {
          this.qualifiedColumns.push({
            qualifier: fields[fields.length - 2]!,
            field: fields[fields.length - 1]!,
            location: typeof inner.location === 'number' ? inner.location : undefined,
          });
        }
        this.fields(type, inner, SPECS.ColumnRef!, ctes);
        break;
      }
      case 'A_Indirection':
        this.fieldSelection(inner);
        this.fields(type, inner, SPECS.A_Indirection!, ctes);
        break;
      default: {
        const spec = SPECS[type];
        if (spec === undefined) {
          this.unresolved(`the syntax ${type}`, inner.location);
        }
        this.fields(type, inner, spec, ctes);
      }
    }
    this.depth--;
  }

  private fields(type: string, inner: JsonObject, spec: Spec, ctes: ReadonlySet<string>): void {
    for (const [key, value] of Object.entries(inner)) {
      if (key === 'location') continue;
      const kind = spec[key];
      if (kind === 'node') this.node(value, ctes);
      else if (kind === 'skip') assertNoQuery(value, inner.location);
      else if (typeof value === 'object' && value !== null) {
        this.unresolved(`'${key}' in ${type}`, inner.location);
      }
    }
  }

  private relation(range: JsonObject, ctes: ReadonlySet<string>): void {
    this.fields(
      'RangeVar',
      range,
      {
        catalogname: 'leaf',
        schemaname: 'leaf',
        relname: 'leaf',
        inh: 'leaf',
        relpersistence: 'leaf',
        alias: 'skip',
      },
      ctes,
    );
    const location = typeof range.location === 'number' ? range.location : undefined;
    if (range.catalogname !== undefined) {
      throw new Refusal(
        'SQL_UNRESOLVED',
        'Three-part names (database.schema.table) are not supported.',
        location,
      );
    }
    const name = range.relname;
    const schema = range.schemaname;
    if (typeof name !== 'string' || (schema !== undefined && typeof schema !== 'string')) {
      this.unresolved('a relation name', location);
    }
    // FROM ONLY t (inh: false) reads the same table t, without its children.
    if (schema === undefined && ctes.has(name)) return;
    const resolved = schema ?? this.defaultSchema;
    this.out.addTable({ schema: resolved, name });
    if (isSystemSchema('postgres', resolved)) {
      this.out.refuse(
        'SQL_SYSTEM_CATALOG',
        `The system schema '${resolved}' cannot be queried.`,
        this.positions.of(location),
      );
    } else if (schema === undefined && name.startsWith('pg_')) {
      // pg_catalog is searched first, before any schema on search_path: `pg_stats`,
      // `pg_stat_activity`, `pg_user` are catalogs even when unqualified.
      this.out.refuse(
        'SQL_SYSTEM_CATALOG',
        `'${name}' resolves to the system catalog pg_catalog.${name}.`,
        this.positions.of(location),
      );
    }
  }

  private functionCall(call: JsonObject, ctes: ReadonlySet<string>): void {
    const names = stringList(call.funcname);
    const location = typeof call.location === 'number' ? call.location : undefined;
    let name: string | undefined;
    if (names?.length === 1) name = names[0];
    else if (names?.length === 2 && names[0] === 'pg_catalog') name = names[1];
    if (name === undefined) {
      this.out.refuse(
        'SQL_FUNCTION_NOT_ALLOWED',
        `The function ${names?.join('.') ?? '(unknown)'}() is schema-qualified; only built-in functions are allowed.`,
        this.positions.of(location),
      );
    } else {
      this.out.addFunction(name);
      if (!isFunctionAllowed('postgres', name)) {
        this.out.refuse(
          'SQL_FUNCTION_NOT_ALLOWED',
          `The function ${name}() is not on the allow-list.`,
          this.positions.of(location),
        );
      }
    }
    const { over, ...rest } = call;
    this.fields('FuncCall', rest, {
      funcname: 'skip', args: 'node', agg_order: 'node', agg_filter: 'node', agg_within_group: 'leaf',
      agg_star: 'leaf', agg_distinct: 'leaf', func_variadic: 'leaf', funcformat: 'leaf',
    }, ctes); // prettier-ignore
    if (over !== undefined) {
      if (!isObject(over)) this.unresolved('OVER', location);
      this.fields('WindowDef', over, SPECS.WindowDef!, ctes);
    }
  }

  private operator(name: Json | undefined, location: Json | undefined): void {
    const names = stringList(name);
    const symbol =
      names?.length === 1
        ? names[0]
        : names?.length === 2 && names[0] === 'pg_catalog'
          ? names[1]
          : undefined;
    if (symbol === undefined || !OPERATORS.has(symbol)) {
      throw new Refusal(
        'SQL_OPERATOR_NOT_ALLOWED',
        `The operator ${names?.join('.') ?? '(unknown)'} is not on the allow-list.`,
        typeof location === 'number' ? location : undefined,
      );
    }
  }

  private typeName(value: Json | undefined): void {
    if (!isObject(value)) this.unresolved('a type name', undefined);
    const names = stringList(value.names);
    const location = typeof value.location === 'number' ? value.location : undefined;
    const name =
      names?.length === 1
        ? names[0]
        : names?.length === 2 && names[0] === 'pg_catalog'
          ? names[1]
          : undefined;
    if (name === undefined || !TYPES.has(name) || value.setof === true || value.pct_type === true) {
      throw new Refusal(
        'SQL_TYPE_NOT_ALLOWED',
        `A cast to the type ${names?.join('.') ?? '(unknown)'} is not allowed.`,
        location,
      );
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'typmods') {
        if (
          !Array.isArray(child) ||
          child.some((m) => !isObject(m) || Object.keys(m)[0] !== 'A_Const')
        ) {
          this.unresolved('a type modifier', location);
        }
      } else if (!['names', 'typemod', 'arrayBounds', 'location', 'typeOid'].includes(key)) {
        this.unresolved(`'${key}' in a type name`, location);
      }
    }
  }

  /**
   * `(expr).name` selects the field `name` of a row, or calls `name(expr)` when there is no
   * such field, whatever the type of `expr`: `('search_path'::text).current_setting`,
   * `(1).salary_of` (attribute notation, see functionRelations). Only a ROW(…) constructor is
   * known to be a row here; on anything else the name must be an allowed function, so that
   * either reading is safe. Field access on a column works as `t.col` instead.
   */
  private fieldSelection(indirection: JsonObject): void {
    const arg = indirection.arg;
    let row = isObject(arg) && Object.keys(arg)[0] === 'RowExpr';
    const items = Array.isArray(indirection.indirection) ? indirection.indirection : [];
    for (const item of items) {
      const name = isObject(item) && isObject(item.String) ? item.String.sval : undefined;
      if (typeof name === 'string' && !row && !isFunctionAllowed('postgres', name)) {
        throw new Refusal(
          'SQL_FUNCTION_NOT_ALLOWED',
          `'(…).${name}' may call the function ${name}() (attribute notation), which is not on the allow-list; select fields of a table as alias.column.`,
          locationOf(arg),
        );
      }
      row = false;
    }
  }

  /** Called once the whole statement is walked: `q.f` where `q` names a function in FROM
   * must be one of its columns, or an allowed function. */
  checkAttributeNotation(): void {
    for (const { qualifier, field, location } of this.qualifiedColumns) {
      const columns = this.functionRelations.get(qualifier);
      if (columns === undefined || columns.has(field) || isFunctionAllowed('postgres', field)) {
        continue;
      }
      throw new Refusal(
        'SQL_FUNCTION_NOT_ALLOWED',
        `'${qualifier}.${field}' is not a column of the function result '${qualifier}', so PostgreSQL would call the function ${field}(${qualifier}) (attribute notation), which is not on the allow-list.`,
        location,
      );
    }
  }

  private noteFunctionRelation(range: JsonObject): void {
    const functions: Json[] = [];
    if (Array.isArray(range.functions)) {
      for (const pair of range.functions) {
        const items = isObject(pair) && isObject(pair.List) ? pair.List.items : undefined;
        if (Array.isArray(items) && items[0] !== undefined) functions.push(items[0]);
      }
    }
    const names = new Set<string>();
    const columns = new Set<string>();
    for (const fn of functions) {
      const call = isObject(fn) && isObject(fn.FuncCall) ? fn.FuncCall : undefined;
      const name = stringList(call?.funcname)?.at(-1);
      if (name === undefined) continue;
      names.add(name);
      for (const column of FUNCTION_COLUMNS[name] ?? []) columns.add(column);
    }
    const alias = isObject(range.alias) ? range.alias : undefined;
    if (alias !== undefined) {
      if (typeof alias.aliasname !== 'string') this.unresolved('a function alias', undefined);
      names.add(alias.aliasname);
      for (const column of stringList(alias.colnames) ?? []) columns.add(column);
    } else if (names.size < functions.length) {
      // The name such a function is referred to by is not a plain function name.
      this.unresolved('an expression in FROM without an alias', undefined);
    }
    if (range.ordinality === true) columns.add('ordinality');
    for (const name of names) {
      const known = this.functionRelations.get(name) ?? new Set<string>();
      for (const column of [...names, ...columns]) known.add(column);
      this.functionRelations.set(name, known);
    }
  }

  private rangeFunction(range: JsonObject, ctes: ReadonlySet<string>): void {
    this.noteFunctionRelation(range);
    for (const [key, value] of Object.entries(range)) {
      if (key === 'functions') {
        if (!Array.isArray(value)) this.unresolved('a function in FROM', undefined);
        for (const pair of value) {
          const items = isObject(pair) && isObject(pair.List) ? pair.List.items : undefined;
          if (!Array.isArray(items) || items.length === 0 || items.length > 2) {
            this.unresolved('a function in FROM', undefined);
          }
          this.node(items[0], ctes);
          const columns = items[1];
          if (columns !== undefined && !(isObject(columns) && Object.keys(columns).length === 0)) {
            // Column definition lists only make sense for record-returning functions such
            // as dblink(); none of those is allowed.
            this.unresolved('a column definition list', undefined);
          }
        }
      } else if (key === 'coldeflist') {
        if (Array.isArray(value) && value.length > 0)
          this.unresolved('a column definition list', undefined);
      } else if (!['lateral', 'ordinality', 'is_rowsfrom', 'alias'].includes(key)) {
        this.unresolved(`'${key}' in a function in FROM`, undefined);
      }
    }
  }

  private tableSample(sample: JsonObject, ctes: ReadonlySet<string>): void {
    const method = stringList(sample.method);
    if (method?.length !== 1 || (method[0] !== 'bernoulli' && method[0] !== 'system')) {
      throw new Refusal(
        'SQL_FUNCTION_NOT_ALLOWED',
        `The TABLESAMPLE method ${method?.join('.') ?? '(unknown)'} is not allowed.`,
        typeof sample.location === 'number' ? sample.location : undefined,
      );
    }
    this.fields(
      'RangeTableSample',
      sample,
      { relation: 'node', method: 'skip', args: 'node', repeatable: 'node' },
      ctes,
    );
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

  private unresolved(what: string, location: Json | undefined): never {
    throw new Refusal(
      'SQL_UNRESOLVED',
      `The analyser does not understand ${what}; it refuses what it cannot prove safe.`,
      typeof location === 'number' ? location : undefined,
    );
  }
}

/** Node types that read relations or run code. A key skipped as harmless (aliases, constants,
 * names) must not hold one: a safety net should a future parser version move one there. */
const ACTIVE_NODES = new Set([
  'SelectStmt',
  'RangeVar',
  'FuncCall',
  'SubLink',
  'A_Expr',
  'TypeCast',
]);

function assertNoQuery(value: Json | undefined, location: Json | undefined): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) assertNoQuery(item, location);
    return;
  }
  for (const [key, child] of Object.entries(value as JsonObject)) {
    if (ACTIVE_NODES.has(key)) {
      throw new Refusal(
        'SQL_UNRESOLVED',
        `The analyser found ${key} in an unexpected place; it refuses what it cannot prove safe.`,
        typeof location === 'number' ? location : undefined,
      );
    }
    assertNoQuery(child, location);
  }
}

/** `[{ "String": { "sval": "x" } }, …]` → `["x", …]`, or undefined for anything else. */
function stringList(value: Json | undefined): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const inner = isObject(item) && isObject(item.String) ? item.String.sval : undefined;
    if (typeof inner !== 'string') return undefined;
    out.push(inner);
  }
  return out;
}

/** The location of a wrapped node (`{ "Type": { location } }`), when it has one. */
function locationOf(value: Json | undefined): number | undefined {
  if (!isObject(value)) return undefined;
  const inner = Object.values(value)[0];
  return isObject(inner) && typeof inner.location === 'number' ? inner.location : undefined;
}

function locationIn(value: Json | undefined): number | undefined {
  if (!isObject(value)) return undefined;
  const rel = value.rel;
  return isObject(rel) && typeof rel.location === 'number' ? rel.location : undefined;
}

/**
 * With standard_conforming_strings on (the default since PostgreSQL 9.1, and what libpg-query
 * assumes) `'a\'` is a complete string; with it off the backslash escapes the quote. A plain
 * string whose end differs between the two readings is refused, so the analysis holds even on
 * a server configured the old way. Returns the byte offset of the first such string.
 */
function checkStringDifferential(sql: string): number | undefined {
  if (!sql.includes('\\')) return undefined;
  let tokens: readonly { start: number; end: number; text: string; tokenName: string }[];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return undefined; // the parser reports the error itself
  }
  const bytes = Buffer.from(sql, 'utf8');
  for (const token of tokens) {
    if (token.tokenName !== 'SCONST' || !token.text.startsWith("'") || !token.text.includes('\\')) {
      continue;
    }
    // Re-read the literal with backslash escapes, over the raw bytes.
    let i = token.start + 1;
    let end = -1;
    while (i < bytes.length) {
      const c = bytes[i];
      if (c === 0x5c) {
        i += 2;
        continue;
      }
      if (c === 0x27) {
        if (bytes[i + 1] === 0x27) {
          i += 2;
          continue;
        }
        end = i + 1;
        break;
      }
      i++;
    }
    if (end !== token.end) return token.start;
  }
  return undefined;
}

/** libpg-query reports byte offsets into the UTF-8 text; reasons carry 1-based characters. */
class Positions {
  private readonly ascii: boolean;
  constructor(private readonly sql: string) {
    this.ascii = !/[^\x00-\x7f]/.test(sql);
  }

  of(byteOffset: number | undefined): number | undefined {
    if (byteOffset === undefined || byteOffset < 0) return undefined;
    if (this.ascii) return Math.min(byteOffset, this.sql.length) + 1;
    const prefix = Buffer.from(this.sql, 'utf8').subarray(0, byteOffset).toString('utf8');
    return Math.min(prefix.length, this.sql.length) + 1;
  }
}
