import { loadRiskPolicy } from '../../policy/load-risk-policy.js';
import { RISK_POLICY_PATH } from '../../policy/repo-context.js';
import { isGrantActive } from '../grant.js';
import { appendOnce } from './append-once.js';
import { repoName, repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub } from './lifecycle-github.js';
import { reminderComment, reminderMarker } from './lifecycle-messages.js';
import {
  MAX_CONSECUTIVE_OUTAGES,
  problemOf,
  stopsAtOnce,
  type LifecycleProblem,
} from './lifecycle-problem.js';
import { upsertMarkedComment } from './upsert-marked-comment.js';

/**
 * Reminders before expiry (issue 4): once per grant, a comment on the PR that granted it, with
 * the exact `gatehouse request` command to extend it (an extension is a new PR, approved
 * again). The lead time is the policy's `reminderLead` (policies/risk.yaml on the default
 * branch, default 30m) unless given. Once per grant: the store keeps the first reminder time,
 * the comment is found by its marker, the audit record is written once.
 */
export const DEFAULT_REMINDER_LEAD_MS = 30 * 60_000;

export interface ReminderOptions {
  readonly now?: Date;
  /** Default: `reminderLead` of the policy on the default branch. */
  readonly leadMs?: number;
  /** Default: the config's `maxPerSweep`. */
  readonly limit?: number;
  readonly dryRun?: boolean;
}

export interface ReminderReport {
  readonly ran: boolean;
  readonly dryRun: boolean;
  readonly leadMs: number | null;
  readonly sent: readonly {
    readonly grantId: string;
    readonly prNumber: number;
    readonly expiresAt: string;
  }[];
  readonly failed: readonly { readonly grantId: string; readonly problem: LifecycleProblem }[];
  readonly stoppedEarly: LifecycleProblem | null;
}

export async function sendReminders(
  deps: LifecycleDeps,
  options: ReminderOptions = {},
): Promise<ReminderReport> {
  const dryRun = options.dryRun === true;
  const locked = await deps.state.leader.runExclusive('expiry-reminders', () =>
    remind(deps, options, dryRun),
  );
  return locked.ran
    ? locked.value
    : { ran: false, dryRun, leadMs: null, sent: [], failed: [], stoppedEarly: null };
}

async function remind(
  deps: LifecycleDeps,
  options: ReminderOptions,
  dryRun: boolean,
): Promise<ReminderReport> {
  const now = options.now ?? deps.clock();
  const repo = repoRef(deps.config);
  const sent: { grantId: string; prNumber: number; expiresAt: string }[] = [];
  const failed: { grantId: string; problem: LifecycleProblem }[] = [];
  let github: LifecycleGithub;
  let leadMs: number;
  try {
    github = await deps.github();
    leadMs = options.leadMs ?? (await policyLead(deps, github));
  } catch (error) {
    return { ran: true, dryRun, leadMs: null, sent, failed, stoppedEarly: problemOf(error) };
  }

  const fullName = repoName(deps.config);
  const due = (
    await deps.state.grants.expiringSoon(now, leadMs, options.limit ?? deps.config.maxPerSweep)
  ).filter((grant) => grant.repo === fullName && isGrantActive(grant, now));
  let outages = 0;
  for (const grant of due) {
    if (dryRun) {
      sent.push({
        grantId: grant.id,
        prNumber: grant.prNumber,
        expiresAt: grant.expiresAt.toISOString(),
      });
      continue;
    }
    try {
      await upsertMarkedComment(
        github,
        repo,
        grant.prNumber,
        reminderMarker(grant.id),
        reminderComment(grant, now),
      );
      await deps.state.grants.markReminderSent(grant.id, now);
      await appendOnce(
        deps.state.audit,
        {
          type: 'grant.reminder_sent',
          actor: 'gatehouse',
          database: grant.database,
          grantIds: [grant.id],
          prNumbers: [grant.prNumber],
          prUrl: grant.prUrl,
          decision: 'reminded',
          details: { expiresAt: grant.expiresAt.toISOString(), requester: grant.requester },
        },
        { grantId: grant.id },
      );
      sent.push({
        grantId: grant.id,
        prNumber: grant.prNumber,
        expiresAt: grant.expiresAt.toISOString(),
      });
      outages = 0;
    } catch (error) {
      const problem = problemOf(error);
      failed.push({ grantId: grant.id, problem });
      outages = problem.code === 'LIFECYCLE_GITHUB_UNAVAILABLE' ? outages + 1 : 0;
      if (stopsAtOnce(problem) || outages >= MAX_CONSECUTIVE_OUTAGES) {
        return { ran: true, dryRun, leadMs, sent, failed, stoppedEarly: problem };
      }
    }
  }
  return { ran: true, dryRun, leadMs, sent, failed, stoppedEarly: null };
}

/** `reminderLead` from policies/risk.yaml on the default branch; the default when the policy
 * cannot be read or is invalid (a reminder is a courtesy: it must not stop the sweep). */
async function policyLead(deps: LifecycleDeps, github: LifecycleGithub): Promise<number> {
  const repo = repoRef(deps.config);
  const branch = await github.getDefaultBranch(repo);
  const bytes = await github.readFile(repo, RISK_POLICY_PATH, branch);
  if (bytes === null) return DEFAULT_REMINDER_LEAD_MS;
  const loaded = loadRiskPolicy(RISK_POLICY_PATH, bytes);
  if (loaded.policy === undefined) {
    deps.log.warn(
      { codes: loaded.diagnostics.map((d) => d.code) },
      'lifecycle: policies/risk.yaml is invalid; reminders use the default lead time',
    );
    return DEFAULT_REMINDER_LEAD_MS;
  }
  return loaded.policy.reminderLeadMs;
}
