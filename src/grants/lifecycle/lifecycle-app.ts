import type { Probot, ProbotOctokit } from 'probot';
import { processMergedPullRequest } from './activation.js';
import { processPush } from './direct-push.js';
import { sweepExpired, type SweepReport } from './expiry-sweeper.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub } from './lifecycle-github.js';
import { createOctokitLifecycleGithub } from './octokit/octokit-lifecycle-github.js';
import { reconcile } from './reconcile.js';
import { sendReminders, type ReminderReport } from './reminder.js';

/**
 * The grant lifecycle as a Probot app plus its scheduled jobs. Webhooks make activation and
 * revocation prompt; reconcile and the expiry sweep make them certain (webhooks can be lost,
 * processes restart, timers die with them; anchors.md §4).
 */
export function registerLifecycle(app: Probot, deps: LifecycleDeps): void {
  const { config } = deps;
  const githubFor =
    deps.githubFor ??
    ((octokit: ProbotOctokit): LifecycleGithub =>
      createOctokitLifecycleGithub(
        octokit,
        config.appId === undefined ? {} : { appId: config.appId },
      ));
  const serves = (repository: { owner: { login: string } | null; name: string }): boolean =>
    repository.owner?.login.toLowerCase() === config.repository.owner.toLowerCase() &&
    repository.name.toLowerCase() === config.repository.name.toLowerCase();

  app.on('pull_request.closed', async (context) => {
    const { repository, pull_request: pr } = context.payload;
    if (!serves(repository) || pr.merged !== true) return;
    const outcome = await processMergedPullRequest(deps, githubFor(context.octokit), {
      pullNumber: pr.number,
      defaultBranch: repository.default_branch,
      ...(pr.merged_by?.login === undefined ? {} : { mergedBy: pr.merged_by.login }),
      headRef: pr.head.ref,
      source: 'webhook',
      deliveryId: context.id,
    });
    deps.log.info(
      {
        delivery: context.id,
        pr: pr.number,
        outcome: outcome.kind,
        ...(outcome.kind === 'processed'
          ? {
              activated: outcome.activated.map((a) => a.grantId),
              revoked: outcome.revoked.map((r) => r.grantId),
              refused: outcome.refused?.codes ?? null,
            }
          : {}),
      },
      'lifecycle: merged pull request processed',
    );
  });

  app.on('push', async (context) => {
    const { repository, ...push } = context.payload;
    if (!serves(repository)) return;
    const outcome = await processPush(deps, githubFor(context.octokit), {
      ref: push.ref,
      before: push.before,
      after: push.after,
      deleted: push.deleted,
      forced: push.forced,
      pusher: push.pusher.name ?? push.sender?.login ?? 'unknown',
      defaultBranch: repository.default_branch ?? repository.master_branch ?? 'main',
      commits: push.commits.map((commit) => ({
        id: commit.id,
        added: commit.added ?? [],
        removed: commit.removed ?? [],
        modified: commit.modified ?? [],
      })),
      deliveryId: context.id,
    });
    if (outcome.kind === 'ignored') {
      deps.log.info(
        { delivery: context.id, after: push.after, revoked: outcome.revoked },
        'lifecycle: push without a merged pull request ignored',
      );
    }
  });
}

export interface ExpiryRunReport {
  readonly reminders: ReminderReport;
  readonly sweep: SweepReport;
}

/** One expiry run: reminders first (they concern grants still active), then the sweep. This
 * is what `gatehouse expire` and the `serve` timer do. */
export async function runExpiry(
  deps: LifecycleDeps,
  options: { readonly now?: Date; readonly dryRun?: boolean; readonly leadMs?: number } = {},
): Promise<ExpiryRunReport> {
  const now = options.now ?? deps.clock();
  const dryRun = options.dryRun === true;
  const reminders = await sendReminders(deps, {
    now,
    dryRun,
    ...(options.leadMs === undefined ? {} : { leadMs: options.leadMs }),
  });
  const sweep = await sweepExpired(deps, { now, dryRun });
  return { reminders, sweep };
}

export interface LifecycleSchedules {
  /** Clears the timers; a run in progress finishes on its own. */
  stop(): void;
  /** Resolves when no run is in progress (await it before closing the state store). */
  idle(): Promise<void>;
}

/**
 * In-process timers for `serve`: reconcile (also once at start) and the expiry run. Timers are
 * `unref`ed so they never keep the process alive; a run never overlaps the previous one of the
 * same job; each run catches and logs its own errors. With PostgreSQL state every job runs
 * under the leader lock, so replicas do not duplicate work; an external cron calling
 * `gatehouse expire` or `gatehouse reconcile` is equally fine (every step is idempotent).
 * A period of 0 turns the job off.
 */
export function startLifecycleSchedules(
  deps: LifecycleDeps,
  options: {
    readonly reconcileEveryMs: number;
    readonly sweepEveryMs: number;
    /** Reconcile once right away (default true): heals what happened while we were down. */
    readonly reconcileAtStart?: boolean;
  },
): LifecycleSchedules {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;

  const job = (name: string, fn: () => Promise<unknown>) => {
    let current: Promise<void> | null = null;
    return (): void => {
      if (stopped || current !== null) return;
      current = (async () => {
        try {
          const report = await fn();
          deps.log.info({ job: name, report }, `lifecycle: ${name} finished`);
        } catch (error) {
          deps.log.error({ err: error, job: name }, `lifecycle: ${name} failed`);
        }
      })().finally(() => {
        if (current !== null) running.delete(current);
        current = null;
      });
      running.add(current);
    };
  };

  const every = (ms: number, run: () => void, atStart: boolean): void => {
    if (ms <= 0) return;
    const timer = setInterval(run, ms);
    timer.unref();
    timers.push(timer);
    if (atStart) run();
  };

  every(
    options.reconcileEveryMs,
    job('reconcile', () => reconcile(deps)),
    options.reconcileAtStart ?? true,
  );
  every(
    options.sweepEveryMs,
    job('expiry', () => runExpiry(deps)),
    false,
  );

  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
