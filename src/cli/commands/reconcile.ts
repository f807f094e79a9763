import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { configuredClock } from '../../config/configured-clock.js';
import { GatehouseError } from '../../errors/catalogue.js';
import type { LifecycleGithub } from '../../grants/lifecycle/lifecycle-github.js';
import {
  openLifecycleRuntime,
  type LifecycleRuntime,
} from '../../grants/lifecycle/lifecycle-runtime.js';
import {
  reconcile as runReconcile,
  type ReconcileReport,
} from '../../grants/lifecycle/reconcile.js';
import { EXIT, type CliIo } from '../cli-io.js';

const USAGE = `Usage: gatehouse reconcile [--dry-run] [--json]

Rebuilds the grant index from the access repository: every request file on the default
branch whose merge was approved becomes a grant (if missing), and grants whose file is gone
or was replaced are revoked. Heals lost webhooks and bootstraps a new state store. Safe to
run at any time, beside the server too (docs/lifecycle.md).

Options:
  --dry-run   report what would change, change nothing
  --json      print the report as JSON
  -h, --help  show this help

Configured like \`gatehouse serve\`: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET,
GATEHOUSE_REPOSITORY, GATEHOUSE_STATE, GHE_HOST/GHE_PROTOCOL or GATEHOUSE_GITHUB_API_URL.
Exit status: 0 done, 1 some files could not be checked (the report says which; run again),
2 usage or configuration error.
`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Test seam: replaces the App client (GitHub) the command would build from the config. */
export interface LifecycleCommandDeps {
  readonly github?: () => Promise<LifecycleGithub>;
}

/** Parses flags, opens the runtime from the environment, runs `fn`, closes. Shared by
 * `reconcile` and `expire`. */
export async function withLifecycle(
  name: string,
  usage: string,
  args: readonly string[],
  io: CliIo,
  deps: LifecycleCommandDeps,
  fn: (runtime: LifecycleRuntime, flags: { dryRun: boolean; json: boolean }) => Promise<number>,
): Promise<number> {
  let values: { 'dry-run'?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`gatehouse ${name}: ${(error as Error).message}\n\n${usage}`);
    return EXIT.USAGE;
  }
  if (values.help === true) {
    io.stdout(usage);
    return EXIT.OK;
  }
  let runtime: LifecycleRuntime;
  try {
    const config = loadConfig(io.env, io.cwd);
    runtime = await openLifecycleRuntime(
      config,
      configuredClock(config.clock),
      deps.github === undefined ? {} : { github: deps.github },
    );
  } catch (error) {
    if (error instanceof GatehouseError) {
      io.stderr(`gatehouse ${name}: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_GITHUB_APP_MISSING'
        ? EXIT.USAGE
        : EXIT.FAILED;
    }
    throw error;
  }
  try {
    return await fn(runtime, { dryRun: values['dry-run'] === true, json: values.json === true });
  } catch (error) {
    if (error instanceof GatehouseError) {
      io.stderr(`gatehouse ${name}: ${error.code}: ${error.message}\n`);
      return EXIT.FAILED;
    }
    throw error;
  } finally {
    await runtime.close();
  }
}

export function renderReconcileReport(report: ReconcileReport): string {
  if (!report.ran) return 'Another worker is reconciling right now; nothing was done.\n';
  const lines: string[] = [];
  const where =
    report.branch === null
      ? 'the access repository'
      : `${report.branch} at ${(report.headSha ?? '').slice(0, 12)}`;
  lines.push(`Reconciled ${where}: ${report.files} request file(s).`);
  const verb = report.dryRun ? 'would ' : '';
  for (const a of report.activated) {
    lines.push(
      `  ${verb}activate ${a.grantId}  ${a.path}  (#${a.prNumber}) until ${a.expiresAt.toISOString()}${a.clamped ? ' (clamped to the level maximum)' : ''}`,
    );
  }
  for (const r of report.revoked)
    lines.push(`  ${verb}revoke   ${r.grantId}  ${r.path}: ${r.reason}`);
  for (const r of report.refused) {
    lines.push(`  refused  ${r.path}  (#${r.prNumber}): ${r.codes.join(', ')}`);
  }
  for (const u of report.unjustified) {
    lines.push(`  no merged pull request  ${u.path}  (LIFECYCLE_NO_MERGED_PR): grants nothing`);
  }
  for (const p of report.problems) {
    lines.push(`  problem  ${p.path ?? '(repository)'}: ${p.code} ${p.message}`);
  }
  if (report.stoppedEarly !== null) {
    lines.push(`Stopped early (${report.stoppedEarly.code}); the next run continues.`);
  }
  if (report.activated.length + report.revoked.length === 0) lines.push('Nothing to change.');
  if (report.dryRun) lines.push('Dry run: nothing was changed.');
  return `${lines.join('\n')}\n`;
}

export async function runReconcileCommand(
  args: readonly string[],
  io: CliIo,
  deps: LifecycleCommandDeps = {},
): Promise<number> {
  return withLifecycle('reconcile', USAGE, args, io, deps, async (runtime, flags) => {
    const report = await runReconcile(runtime.deps, { dryRun: flags.dryRun });
    io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReconcileReport(report));
    return report.problems.length > 0 || report.stoppedEarly !== null ? EXIT.FAILED : EXIT.OK;
  });
}

export async function reconcile(args: readonly string[], io: CliIo): Promise<number> {
  return runReconcileCommand(args, io);
}
