import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli-io.js';
import { formatTable } from '../format/result-format.js';
import {
  createServerClient,
  EXIT_UNREACHABLE,
  ghAuthToken,
  resolveServerUrl,
  resolveToken,
  type GhAuthToken,
  type GrantView,
} from '../server-client.js';
import { NO_TOKEN_MESSAGE, printApiError } from './query.js';

const USAGE = `Usage: gatehouse grants [--format table|json] [--server URL]

Lists your grants that are active now: database, tables, expiry and the approving PR.
Exit codes: 0 listed (even when there are none), 1 refused or failed, 2 usage, 3 server unreachable.
`;

/** "in 1h 20m" style remaining time, for people scanning the list during an incident. */
export function remaining(expiresAt: Date, now: Date): string {
  const ms = expiresAt.getTime() - now.getTime();
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts = [days > 0 ? `${days}d` : '', hours > 0 ? `${hours}h` : '', `${mins}m`];
  return `in ${parts.filter((p) => p !== '').join(' ')}`;
}

function grantsTable(grants: readonly GrantView[], now: Date): string {
  return formatTable({
    columns: ['database', 'tables', 'expires', 'level', 'pull request'].map((name) => ({
      name,
      type: 'text',
    })),
    rows: grants.map((grant) => [
      grant.database,
      grant.tables.join(', '),
      `${grant.expiresAt} (${remaining(new Date(grant.expiresAt), now)})`,
      grant.level,
      grant.prUrl,
    ]),
  });
}

export async function runGrants(
  args: readonly string[],
  io: CliIo,
  deps: { readonly fetch?: typeof fetch; readonly gh?: GhAuthToken; readonly now?: Date } = {},
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      allowPositionals: false,
      strict: true,
      options: {
        format: { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr(`gatehouse grants: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') {
    io.stderr(`gatehouse grants: --format must be table or json\n`);
    return EXIT.USAGE;
  }
  const serverUrl = resolveServerUrl(io.env, values.server);
  if (serverUrl === null) {
    io.stderr(`gatehouse grants: the server URL is not an http(s) URL\n`);
    return EXIT.USAGE;
  }
  const token = await resolveToken(io.env, deps.gh ?? ghAuthToken);
  if (token === null) {
    io.stderr(`gatehouse grants: ${NO_TOKEN_MESSAGE}\n`);
    return EXIT.USAGE;
  }
  const client = createServerClient({
    serverUrl,
    token,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  });
  const result = await client.grants();
  switch (result.kind) {
    case 'unreachable':
      io.stderr(`gatehouse grants: ${result.message}\n`);
      return EXIT_UNREACHABLE;
    case 'error':
      if (format === 'json') io.stdout(JSON.stringify({ error: result.error }, null, 2) + '\n');
      printApiError(io, 'grants', result.status, result.error);
      return EXIT.FAILED;
    case 'ok': {
      const { login, grants } = result.body;
      if (format === 'json') {
        io.stdout(JSON.stringify(result.body, null, 2) + '\n');
      } else if (grants.length === 0) {
        io.stdout(
          `${login} holds no active grant. Ask for one with: gatehouse request <database> --tables <t> --for 4h --reason "…"\n`,
        );
      } else {
        io.stdout(grantsTable(grants, deps.now ?? new Date()));
      }
      return EXIT.OK;
    }
  }
}

export async function grants(args: readonly string[], io: CliIo): Promise<number> {
  return runGrants(args, io);
}
