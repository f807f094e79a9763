import { parseArgs } from 'node:util';
import type { EngineKind } from '../../policy/databases.js';
import type { Analysis, Authorization, Reason, TableRef } from '../../sql/analysis.js';
import { analyzeSql, initSqlAnalysis } from '../../sql/analyze-sql.js';
import { authorizeTables } from '../../sql/authorize.js';
import { requestHint } from '../../sql/request-hint.js';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse explain --engine mysql|postgres --database <db> [--schema <schema>]
                         [--grant t1,t2|*]... [--json] "<sql>"

Shows what a statement reads (statement type, tables, functions) and whether grants cover it,
with the same analyser the query gateway uses. Nothing is sent to any database.

  --engine    mysql (also Aurora MySQL, MariaDB) or postgres (also Aurora PostgreSQL)
  --database  the database name on the server. MySQL: the default database of unqualified
              table names. Both: the database named in the suggested 'gatehouse request'.
  --schema    PostgreSQL: the schema of unqualified table names (default: public).
              MySQL: overrides the default database.
  --grant     the table list of one grant ('*', 'table' or 'schema.table', comma-separated);
              repeat for several grants. Without --grant, reports what the query needs.
  --json      print {"allowed","statementType","tables","functions","reasons"}

Exit status: 0 allowed (or, without --grant, acceptable), 1 refused, 2 usage error.
`;

export async function explain(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        engine: { type: 'string' },
        database: { type: 'string' },
        schema: { type: 'string' },
        grant: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const engine = values.engine;
  if (engine !== 'mysql' && engine !== 'postgres') {
    return usageError(io, '--engine must be mysql or postgres.');
  }
  const database = values.database;
  if (database === undefined || database.trim() === '') {
    return usageError(io, '--database is required.');
  }
  if (positionals.length !== 1) {
    return usageError(io, 'Give exactly one SQL statement, quoted, as the last argument.');
  }
  const sql = positionals[0]!;
  const defaultSchema = values.schema ?? (engine === 'mysql' ? database : 'public');
  const grants = values.grant?.map((list) =>
    list
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0),
  );
  if (grants?.some((list) => list.length === 0)) {
    return usageError(io, '--grant needs a comma-separated table list or *.');
  }

  await initSqlAnalysis();
  const analysis = analyzeSql({ engine, sql, defaultSchema });
  const authorization =
    grants === undefined
      ? undefined
      : authorizeTables({ analysis, engine, defaultSchema, grantedTables: grants });
  const allowed = authorization?.allowed ?? analysis.ok;
  const reasons = authorization?.reasons ?? analysis.reasons;

  if (values.json === true) {
    io.stdout(
      `${JSON.stringify(
        {
          allowed,
          statementType: analysis.statementType,
          tables: analysis.tables.map((t) => ({ schema: t.schema, name: t.name })),
          functions: analysis.functions,
          reasons: reasons.map((r) => ({ code: r.code, message: r.message })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout(human(engine, database, defaultSchema, analysis, authorization, sql));
  }
  return allowed ? EXIT.OK : EXIT.FAILED;
}

function human(
  engine: EngineKind,
  database: string,
  defaultSchema: string,
  analysis: Analysis,
  authorization: Authorization | undefined,
  sql: string,
): string {
  const lines = [
    `Engine:     ${engine} (unqualified tables resolve to ${defaultSchema})`,
    `Statement:  ${analysis.statementType}`,
    `Tables:     ${list(analysis.tables.map(qualified))}`,
    `Functions:  ${list(analysis.functions)}`,
  ];
  if (!analysis.ok) {
    lines.push('Decision:   refused');
    lines.push(...analysis.reasons.map((r) => reasonLine(r, sql)));
  } else if (authorization === undefined) {
    lines.push(
      analysis.tables.length === 0
        ? 'Decision:   acceptable; it reads no table'
        : `Decision:   acceptable; it needs a grant covering ${list(analysis.tables.map(qualified))}`,
    );
    if (analysis.tables.length > 0) {
      lines.push(`Request:    ${requestHint(database, analysis.tables, defaultSchema)}`);
    }
  } else if (authorization.allowed) {
    lines.push('Decision:   allowed');
  } else {
    lines.push('Decision:   refused');
    lines.push(...authorization.reasons.map((r) => reasonLine(r, sql)));
    if (authorization.missing.length > 0) {
      lines.push(`Request:    ${requestHint(database, authorization.missing, defaultSchema)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function reasonLine(reason: Reason, sql: string): string {
  if (reason.position === undefined) return `  ${reason.code}  ${reason.message}`;
  const { line, column } = lineColumn(sql, reason.position);
  return `  ${reason.code}  ${reason.message} (line ${line}, column ${column})`;
}

/** 1-based character offset → 1-based line and column, for people reading the SQL. */
function lineColumn(sql: string, position: number): { line: number; column: number } {
  const before = sql.slice(0, position - 1);
  const newlines = before.split('\n');
  return { line: newlines.length, column: (newlines.at(-1)?.length ?? 0) + 1 };
}

function qualified(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '(none)' : items.join(', ');
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`gatehouse explain: ${message}\n\n${USAGE}`);
  return EXIT.USAGE;
}
