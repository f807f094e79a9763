import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadRepoContext } from '../../policy/repo-context.js';
import { CODEOWNERS_PATHS, DATABASES_PATH, RISK_POLICY_PATH } from '../../policy/repo-context.js';
import { describeRequirement, type RiskDecision } from '../../policy/risk-decision.js';
import {
  directoryReader,
  findRepositoryRoot,
  isDirectory,
  isFile,
  listYamlFiles,
  readCapped,
  repoPath,
} from '../../requests/local-repository.js';
import { validateRequestFile } from '../../requests/validate-request.js';
import { formatDuration } from '../../requests/duration.js';
import type { Diagnostic } from '../../util/diagnostic.js';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse validate [--json] [paths…]

Checks access-request files against policies/ and CODEOWNERS of the same repository
(schema, declared databases and tables, lifetime, risk policy). Paths are files or
directories; the default is access/. Files under policies/ and CODEOWNERS are checked
every time.

Options:
  --json      print [{"file","ok","risk","errors":[{"line","column","field","code","message"}]}]
  -h, --help  show this help

Exit status: 0 all valid, 1 some file invalid, 2 usage or configuration error.
`;

/** One line of `--json` output (the shape is documented in docs/cli.md). */
export interface ValidateResult {
  readonly file: string;
  readonly ok: boolean;
  /** The risk level, when the policy gave one (also for denials). */
  readonly risk: string | null;
  readonly errors: readonly Omit<Diagnostic, 'file'>[];
}

export async function validate(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr(`gatehouse validate: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (parsed.values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const json = parsed.values.json === true;

  const root = await findRepositoryRoot(io.cwd);
  if (root === null) {
    io.stderr(
      `gatehouse validate: no ${DATABASES_PATH} in ${io.cwd} or any parent directory; run it inside an access repository.\n`,
    );
    return EXIT.USAGE;
  }
  const display = (repoRelative: string): string =>
    toPosix(path.relative(io.cwd, path.join(root, repoRelative))) || '.';

  // Every named path must exist: a typo in CI must not turn into "0 files, all valid".
  const targets = parsed.positionals.length > 0 ? parsed.positionals : [path.join(root, 'access')];
  const files: string[] = [];
  for (const target of targets) {
    const absolute = path.resolve(io.cwd, target);
    if (await isDirectory(absolute)) files.push(...(await listYamlFiles(absolute)));
    else if (await isFile(absolute)) files.push(absolute);
    else if (parsed.positionals.length === 0)
      continue; // a repository without access/ yet
    else {
      io.stderr(`gatehouse validate: ${target}: no such file or directory\n`);
      return EXIT.USAGE;
    }
  }

  const loaded = await loadRepoContext(directoryReader(root));
  if (loaded.context === undefined) {
    const byFile = groupByFile(loaded.diagnostics);
    if (json) {
      const results: ValidateResult[] = [...byFile].map(([file, diagnostics]) => ({
        file: display(file),
        ok: false,
        risk: null,
        errors: diagnostics.map(withoutFile),
      }));
      io.stdout(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      io.stderr(
        `gatehouse validate: the repository's policies are invalid; no request can be checked against them.\n`,
      );
      for (const d of loaded.diagnostics) io.stdout(formatDiagnostic(display(d.file), d));
    }
    return EXIT.USAGE;
  }
  const context = loaded.context;

  const policyFiles = new Set<string>([DATABASES_PATH, RISK_POLICY_PATH, ...CODEOWNERS_PATHS]);
  const now = new Date();
  const results: ValidateResult[] = [];
  const lines: string[] = [];
  for (const file of [...new Set(files)]) {
    const relative = repoPath(root, file);
    if (policyFiles.has(relative)) {
      // Already validated by loadRepoContext above.
      results.push({ file: display(relative), ok: true, risk: null, errors: [] });
      lines.push(`ok  ${display(relative)}\n`);
      continue;
    }
    const { decision, diagnostics } = validateRequestFile({
      path: relative,
      bytes: await readCapped(file),
      context,
      now,
    });
    // A request refused for its duration still has a level: show it.
    const risk = decision === undefined ? null : (decision.level ?? null);
    results.push({
      file: display(relative),
      ok: diagnostics.length === 0,
      risk,
      errors: diagnostics.map(withoutFile),
    });
    if (diagnostics.length === 0) {
      lines.push(`ok  ${display(relative)}  ${summarize(decision)}\n`);
    } else {
      for (const d of diagnostics) lines.push(formatDiagnostic(display(relative), d));
    }
  }

  const invalid = results.filter((r) => !r.ok).length;
  if (json) {
    io.stdout(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    io.stdout(lines.join(''));
    const noun = results.length === 1 ? 'file' : 'files';
    io.stdout(
      results.length === 0
        ? 'No request files to check.\n'
        : `${results.length} ${noun} checked, ${invalid} invalid.\n`,
    );
  }
  return invalid > 0 ? EXIT.FAILED : EXIT.OK;
}

/** `file:line:column code message`, the format editors and CI annotators understand. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column} ${d.code} ${d.message}\n`;
}

/** "risk medium (rule prod): 1 approval from @acme/dba; at most 1d". */
export function summarize(decision: RiskDecision | undefined): string {
  if (decision === undefined || decision.kind !== 'approve') return '';
  const approvals = decision.approvals.map(describeRequirement).join(' and ');
  return `risk ${decision.level} (rule ${decision.rule}): ${approvals}; at most ${formatDuration(decision.maxDurationMs)}`;
}

function withoutFile(d: Diagnostic): Omit<Diagnostic, 'file'> {
  return { line: d.line, column: d.column, field: d.field, code: d.code, message: d.message };
}

function groupByFile(diagnostics: readonly Diagnostic[]): Map<string, Diagnostic[]> {
  const map = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) map.set(d.file, [...(map.get(d.file) ?? []), d]);
  return map;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
