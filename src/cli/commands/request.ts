import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATABASES_PATH, loadRepoContext } from '../../policy/repo-context.js';
import { describeRequirement } from '../../policy/risk-decision.js';
import { formatDuration } from '../../requests/duration.js';
import {
  directoryReader,
  findRepositoryRoot,
  isFile,
  repoPath,
} from '../../requests/local-repository.js';
import { renderRequest, type RequestFields } from '../../requests/render-request.js';
import { validateRequestFile } from '../../requests/validate-request.js';
import { GatehouseError } from '../../errors/catalogue.js';
import { EXIT, type CliIo } from '../cli-io.js';
import { formatDiagnostic } from './validate.js';

const USAGE = `Usage: gatehouse request <database> --tables a,b (--for 4h | --until ISO) --reason "…"
                         [--requester login] [--ticket ID] [--name file] [--open-pr]

Writes a new access request under access/<database>/, checks it exactly as the review gate
will, and prints its risk level, who must approve, and the git commands to open the pull
request. Never overwrites a file.

Options:
  --tables a,b     tables to read (table or schema.table), comma-separated; * for all
  --for 4h         how long, from the merge: 30m, 4h, 2d
  --until ISO      or until when: 2025-03-01T18:00:00Z (with an offset)
  --reason "…"     why you need it (shown to approvers, kept in the audit log)
  --requester      your GitHub login (default: git config github.user)
  --ticket ID      an incident or ticket ID or URL
  --name file      file name under access/<database>/ (default: <login>-<date>-<tables>)
  --open-pr        also push a branch and open the pull request
  -h, --help       show this help

Exit status: 0 written, 1 the request is invalid or the file exists, 2 usage or
configuration error.
`;

/**
 * The seam for `--open-pr` (issue 3, "Developers open PRs from the CLI"): src/github/open-pr.ts
 * provides it. It receives the request as written and returns the pull request's URL.
 */
export interface OpenPullRequest {
  (input: {
    /** Root of the access repository on disk. */
    readonly root: string;
    /** Repository-relative path of the request file (already written). */
    readonly path: string;
    readonly content: string;
    readonly branch: string;
    readonly title: string;
    readonly body: string;
    readonly io: CliIo;
  }): Promise<{ readonly url: string }>;
}

/**
 * `--open-pr`: pushes the file to a branch and opens the PR through the REST API
 * (src/github/open-pr.ts). The repository is GATEHOUSE_REPOSITORY (owner/name) or the GitHub
 * remote `origin`; the API is GATEHOUSE_GITHUB_API_URL, or GHE_HOST for GitHub Enterprise.
 */
async function loadOpenPullRequest(): Promise<OpenPullRequest | undefined> {
  const { openAccessPullRequest } = await import('../../github/open-pr.js');
  const { resolveGithubToken } = await import('../../github/resolve-token.js');
  return async ({ root, path, content, title, body, io }) => {
    const apiBaseUrl =
      io.env.GATEHOUSE_GITHUB_API_URL ??
      (io.env.GHE_HOST === undefined
        ? 'https://api.github.com'
        : `${io.env.GHE_PROTOCOL ?? 'https'}://${io.env.GHE_HOST}/api/v3`);
    const slug = io.env.GATEHOUSE_REPOSITORY ?? (await originRepository(root));
    const match = slug === undefined ? null : /^([^/\s]+)\/([^/\s]+)$/.exec(slug);
    if (match === null) {
      throw new GatehouseError(
        'CONFIG_INVALID',
        'GATEHOUSE_REPOSITORY: set it to owner/name (no GitHub remote named origin was found)',
      );
    }
    const { token } = await resolveGithubToken(io.env);
    const opened = await openAccessPullRequest({
      apiBaseUrl,
      token,
      owner: match[1] as string,
      repo: match[2] as string,
      filePath: path,
      content,
      title,
      body,
    });
    return { url: opened.url };
  };
}

/** owner/name of the `origin` remote when it is a GitHub-style URL. */
async function originRepository(root: string): Promise<string | undefined> {
  const url = await new Promise<string>((resolve) => {
    execFile('git', ['-C', root, 'remote', 'get-url', 'origin'], (error, stdout) =>
      resolve(error ? '' : stdout.trim()),
    );
  });
  const match = /[:/]([^/:]+)\/([^/]+?)(?:\.git)?$/.exec(url);
  return match === null ? undefined : `${match[1]}/${match[2]}`;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export async function request(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        tables: { type: 'string' },
        for: { type: 'string' },
        until: { type: 'string' },
        reason: { type: 'string' },
        requester: { type: 'string' },
        ticket: { type: 'string' },
        name: { type: 'string' },
        'open-pr': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }

  const [database, ...extra] = positionals;
  if (database === undefined)
    return usage(io, 'name the database, e.g. gatehouse request hr_prod …');
  if (extra.length > 0) return usage(io, `unexpected argument ${extra[0] ?? ''}`);
  const tables = (values.tables ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tables.length === 0) return usage(io, '--tables is required, e.g. --tables employee,title');
  if ((values.for === undefined) === (values.until === undefined)) {
    return usage(io, 'give exactly one of --for (like 4h) and --until (like 2025-03-01T18:00:00Z)');
  }
  if (values.reason === undefined)
    return usage(io, '--reason is required: say why you need access');
  let name = values.name?.replace(/\.ya?ml$/i, '');
  if (name !== undefined && !NAME.test(name)) {
    return usage(io, `--name ${values.name ?? ''}: use letters, digits, ., _ and - only`);
  }

  const openPr = values['open-pr'] === true ? await loadOpenPullRequest() : undefined;
  if (values['open-pr'] === true && openPr === undefined) {
    io.stderr(
      'gatehouse request: --open-pr is not available yet in this version; run without it and open the pull request with the git commands printed.\n',
    );
    return EXIT.USAGE;
  }

  const requester = values.requester ?? (await gitConfig('github.user', io));
  if (requester === undefined) {
    return usage(
      io,
      'who is asking? pass --requester <your GitHub login> or run git config --global github.user <login>',
    );
  }

  const root = await findRepositoryRoot(io.cwd);
  if (root === null) {
    io.stderr(
      `gatehouse request: no ${DATABASES_PATH} in ${io.cwd} or any parent directory; run it inside an access repository.\n`,
    );
    return EXIT.USAGE;
  }
  const loaded = await loadRepoContext(directoryReader(root));
  if (loaded.context === undefined) {
    io.stderr(`gatehouse request: the repository's policies are invalid; fix them first:\n`);
    for (const d of loaded.diagnostics) io.stderr(formatDiagnostic(d.file, d));
    return EXIT.USAGE;
  }
  const context = loaded.context;

  const fields: RequestFields = {
    requester,
    database,
    tables,
    ...(values.for === undefined ? {} : { duration: values.for }),
    ...(values.until === undefined ? {} : { expires: values.until }),
    reason: values.reason,
    ...(values.ticket === undefined ? {} : { ticket: values.ticket }),
  };
  const content = renderRequest(fields);
  const now = new Date();

  // A default name gets a numeric suffix rather than failing: the reminder before expiry tells
  // people to run this same command again while the old file still exists.
  const explicitName = name !== undefined;
  name ??= defaultName(requester, tables, now);
  let relative = `access/${database}/${name}.yaml`;
  for (let n = 2; !explicitName && n < 100 && (await isFile(path.join(root, relative))); n++) {
    relative = `access/${database}/${name}-${n}.yaml`;
  }

  // THE validation, exactly as the review gate will run it, before anything is written.
  const { decision, diagnostics } = validateRequestFile({
    path: relative,
    bytes: content,
    context,
    now,
    author: requester,
  });
  if (diagnostics.length > 0) {
    io.stderr(`gatehouse request: the request is not valid; nothing was written.\n`);
    for (const d of diagnostics) {
      io.stderr(`${d.code} ${d.field === '' ? '' : `${d.field}: `}${d.message}\n`);
    }
    return EXIT.FAILED;
  }

  const absolute = path.join(root, ...relative.split('/'));
  try {
    await mkdir(path.dirname(absolute), { recursive: true });
    // `wx` fails if the file exists, even if it appeared after the check above.
    await writeFile(absolute, content, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      io.stderr(
        `gatehouse request: REQ_FILE_EXISTS ${relative} already exists and is never overwritten; choose another --name.\n`,
      );
      return EXIT.FAILED;
    }
    throw error;
  }

  const shown = path.relative(io.cwd, absolute).split(path.sep).join('/');
  const branch = `access/${path.basename(relative, '.yaml')}`;
  const lifetime = values.for ?? `until ${values.until ?? ''}`;
  const title = `Access request: read ${database} ${tables.join(', ')} for ${lifetime}`;
  const out: string[] = [`Wrote ${shown}\n\n`];
  if (decision?.kind === 'approve') {
    const db = context.databases.get(database);
    out.push(
      `  database   ${database}${db === undefined ? '' : ` (${db.environment})`}\n`,
      `  tables     ${tables.join(', ')}\n`,
      `  lifetime   ${lifetime}, counted from the merge\n`,
      `  risk       ${decision.level} (rule ${decision.rule}), at most ${formatDuration(decision.maxDurationMs)}\n`,
      `  approvals  ${decision.approvals.map(describeRequirement).join(' and ')}\n`,
    );
  }

  if (openPr !== undefined) {
    let url: string;
    try {
      ({ url } = await openPr({
        root,
        path: repoPath(root, absolute),
        content,
        branch,
        title,
        body: values.reason,
        io,
      }));
    } catch (error) {
      // The file is written; only the PR is missing. Say why and how to finish by hand.
      if (!(error instanceof GatehouseError)) throw error;
      io.stdout(out.join(''));
      io.stderr(
        `gatehouse request: ${error.code} ${error.message}\nThe file is written; open the pull request by hand (git push, then gh pr create).\n`,
      );
      return EXIT.FAILED;
    }
    out.push(`\nOpened ${url}\n`);
    io.stdout(out.join(''));
    return EXIT.OK;
  }

  out.push(
    `\nOpen the pull request:\n`,
    `  git switch -c ${branch}\n`,
    `  git add ${shellQuote(shown)}\n`,
    `  git commit -m ${shellQuote(title)}\n`,
    `  git push -u origin ${branch}\n`,
    `  gh pr create --fill    # or open it on GitHub\n`,
  );
  io.stdout(out.join(''));
  return EXIT.OK;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`gatehouse request: ${message}\n\n${USAGE}`);
  return EXIT.USAGE;
}

/** `alice-2025-06-02-employee-title`: who, when, what; lower case for case-insensitive file
 * systems. */
function defaultName(requester: string, tables: readonly string[], now: Date): string {
  const slug = tables
    .map((t) => (t === '*' ? 'all' : t))
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return `${requester.toLowerCase()}-${now.toISOString().slice(0, 10)}-${slug || 'tables'}`;
}

/** `git config --get <key>`, or undefined when unset or git is missing. */
function gitConfig(key: string, io: CliIo): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['config', '--get', key],
      { cwd: io.cwd, env: { ...io.env }, timeout: 5_000 },
      (error, stdout) => {
        const value = stdout.trim();
        resolve(error !== null || value === '' ? undefined : value);
      },
    );
  });
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
