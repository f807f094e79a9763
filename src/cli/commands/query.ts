import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli-io.js';
import {
  formatCsv,
  formatTable,
  RESULT_FORMATS,
  type ResultFormat,
} from '../format/result-format.js';
import {
  createServerClient,
  EXIT_UNREACHABLE,
  ghAuthToken,
  resolveServerUrl,
  resolveToken,
  type ApiError,
  type GhAuthToken,
} from '../server-client.js';

const USAGE = `Usage: gatehouse query <database> "<sql>" [--format table|json|csv] [--max-rows N] [--server URL]

Runs one read-only statement through the Gatehouse server, as you.
  --format     table (default), json or csv
  --max-rows   rows to return at most (the server caps it; default 1000)
  --server     server URL (default: GATEHOUSE_SERVER or http://127.0.0.1:3000)
Token: GATEHOUSE_TOKEN, GITHUB_TOKEN or \`gh auth token\`.
Exit codes: 0 rows returned, 1 refused or failed, 2 usage, 3 server unreachable.
`;

export const NO_TOKEN_MESSAGE =
  'no token: set GATEHOUSE_TOKEN or GITHUB_TOKEN, or sign in with `gh auth login`';

/** Prints a refusal or failure: code, message, and the exact command that would fix it. */
export function printApiError(io: CliIo, command: string, status: number, error: ApiError): void {
  const lines = [`gatehouse ${command}: ${error.code} (HTTP ${status}): ${error.message}`];
  if (error.hint !== undefined) lines.push('', 'To request access, run:', `  ${error.hint}`);
  if (error.auditId !== undefined) lines.push('', `audit id: ${error.auditId}`);
  io.stderr(lines.join('\n') + '\n');
}

export async function runQuery(
  args: readonly string[],
  io: CliIo,
  deps: { readonly fetch?: typeof fetch; readonly gh?: GhAuthToken } = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        'max-rows': { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`gatehouse query: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const [database, sql, ...extra] = positionals;
  if (database === undefined || sql === undefined || extra.length > 0) {
    io.stderr(
      `gatehouse query: expected a database and one SQL string (quote the SQL)\n\n${USAGE}`,
    );
    return EXIT.USAGE;
  }
  const format = RESULT_FORMATS.find((f) => f === (values.format ?? 'table'));
  if (format === undefined) {
    io.stderr(`gatehouse query: --format must be table, json or csv\n`);
    return EXIT.USAGE;
  }
  let maxRows: number | undefined;
  if (values['max-rows'] !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(values['max-rows'])) {
      io.stderr(`gatehouse query: --max-rows must be a positive whole number\n`);
      return EXIT.USAGE;
    }
    maxRows = Number(values['max-rows']);
  }
  const serverUrl = resolveServerUrl(io.env, values.server);
  if (serverUrl === null) {
    io.stderr(`gatehouse query: the server URL is not an http(s) URL\n`);
    return EXIT.USAGE;
  }
  const token = await resolveToken(io.env, deps.gh ?? ghAuthToken);
  if (token === null) {
    io.stderr(`gatehouse query: ${NO_TOKEN_MESSAGE}\n`);
    return EXIT.USAGE;
  }

  const client = createServerClient({
    serverUrl,
    token,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  });
  const result = await client.query({
    database,
    sql,
    ...(maxRows === undefined ? {} : { maxRows }),
  });
  switch (result.kind) {
    case 'unreachable':
      io.stderr(`gatehouse query: ${result.message}\n`);
      return EXIT_UNREACHABLE;
    case 'error':
      if (format === 'json') io.stdout(JSON.stringify({ error: result.error }, null, 2) + '\n');
      printApiError(io, 'query', result.status, result.error);
      return EXIT.FAILED;
    case 'ok':
      printResult(io, format, result.body);
      return EXIT.OK;
  }
}

function printResult(
  io: CliIo,
  format: ResultFormat,
  body: {
    readonly columns: readonly { readonly name: string; readonly type: string }[];
    readonly rows: readonly (readonly unknown[])[];
    readonly rowCount: number;
    readonly truncated: boolean;
    readonly auditId: string;
  },
): void {
  if (format === 'json') {
    io.stdout(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  io.stdout(format === 'csv' ? formatCsv(body) : formatTable(body));
  // The footer goes to stderr so that stdout pipes cleanly into other tools.
  const rows = `${body.rowCount} row${body.rowCount === 1 ? '' : 's'}`;
  const truncated = body.truncated ? `, truncated (raise --max-rows to see more)` : '';
  io.stderr(`(${rows}${truncated}; audit id ${body.auditId})\n`);
}

export async function query(args: readonly string[], io: CliIo): Promise<number> {
  return runQuery(args, io);
}
