import { runExpiry, type ExpiryRunReport } from '../../grants/lifecycle/lifecycle-app.js';
import { EXIT, type CliIo } from '../cli-io.js';
import { withLifecycle, type LifecycleCommandDeps } from './reconcile.js';

const USAGE = `Usage: gatehouse expire [--dry-run] [--json]

Runs the expiry jobs once: reminder comments on grants about to expire (lead time from
policies/risk.yaml, reminderLead), then the expiry sweep, which opens one revocation pull
request per expired grant on the branch gatehouse/revoke/<grant-id>. Idempotent: safe from a
cron job beside the server, or twice in a row (docs/lifecycle.md).

Options:
  --dry-run   report what would be done, change nothing
  --json      print the report as JSON
  -h, --help  show this help

Configured like \`gatehouse serve\` (docs/lifecycle.md, "Configuration").
Exit status: 0 done, 1 some grants failed or GitHub stopped the run early (run again later),
2 usage or configuration error.
`;

export function renderExpiryReport(report: ExpiryRunReport): string {
  const lines: string[] = [];
  const { reminders, sweep } = report;
  const verb = sweep.dryRun ? 'would ' : '';
  if (!reminders.ran) lines.push('Reminders: another worker is sending them.');
  else {
    lines.push(`Reminders: ${reminders.sent.length} ${verb}sent.`);
    for (const s of reminders.sent)
      lines.push(`  ${s.grantId}  #${s.prNumber}  expires ${s.expiresAt}`);
    for (const f of reminders.failed)
      lines.push(`  failed  ${f.grantId}: ${f.problem.code} ${f.problem.message}`);
  }
  if (!sweep.ran) lines.push('Sweep: another worker is sweeping; nothing was done.');
  else {
    lines.push(`Sweep at ${sweep.now}: ${sweep.items.length} expired grant(s) handled.`);
    for (const item of sweep.items) {
      const pr = item.prNumber === undefined ? '' : `  #${item.prNumber}`;
      const merge =
        item.autoMerge === undefined
          ? ''
          : item.autoMerge.merged
            ? '  (merged)'
            : `  (not merged: ${item.autoMerge.message})`;
      const problem =
        item.problem === undefined ? '' : `: ${item.problem.code} ${item.problem.message}`;
      lines.push(
        `  ${item.outcome.padEnd(14)} ${item.grantId}  ${item.path}${pr}${merge}${problem}`,
      );
    }
    if (sweep.stoppedEarly !== null) {
      lines.push(
        `Stopped early (${sweep.stoppedEarly.code}${sweep.stoppedEarly.retryAt === undefined ? '' : `, GitHub resets at ${sweep.stoppedEarly.retryAt}`}); the next run continues.`,
      );
    } else if (sweep.remaining) {
      lines.push('More expired grants remain; the next run continues.');
    }
  }
  if (sweep.dryRun) lines.push('Dry run: nothing was changed.');
  return `${lines.join('\n')}\n`;
}

export async function runExpireCommand(
  args: readonly string[],
  io: CliIo,
  deps: LifecycleCommandDeps = {},
): Promise<number> {
  return withLifecycle('expire', USAGE, args, io, deps, async (runtime, flags) => {
    const report = await runExpiry(runtime.deps, { dryRun: flags.dryRun });
    io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderExpiryReport(report));
    const failed =
      report.reminders.failed.length > 0 ||
      report.reminders.stoppedEarly !== null ||
      report.sweep.stoppedEarly !== null ||
      report.sweep.items.some((item) => item.outcome === 'failed');
    return failed ? EXIT.FAILED : EXIT.OK;
  });
}

export async function expire(args: readonly string[], io: CliIo): Promise<number> {
  return runExpireCommand(args, io);
}
