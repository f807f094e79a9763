import { GatehouseError } from '../../errors/catalogue.js';
import { grantId } from '../grant-id.js';
import type { Grant } from '../grant.js';
import { processMergedPullRequest, type ActivatedGrant, type RevokedGrant } from './activation.js';
import {
  MAX_CONSECUTIVE_OUTAGES,
  problemOf as toProblem,
  stopsAtOnce,
  type LifecycleProblem,
} from './lifecycle-problem.js';
import { repoName, repoRef, type LifecycleDeps } from './lifecycle-deps.js';
import type { LifecycleGithub, PullSummary } from './lifecycle-github.js';
import { revokeGrant } from './revoke-grant.js';

/**
 * Reconcile (issue 4): git is the source of truth and the grant store a derived index, so
 * rebuild the index from the default branch. For every request file at the branch head, find
 * the PR that merged its current content (last commit for the path → its associated merged
 * PR), verify it as activation on merge does, and activate what is missing; then revoke the
 * grants whose file is gone or whose content a later merge (or a direct push) replaced. It
 * bootstraps a new deployment from an existing repository and heals lost webhooks and
 * restarts. `dryRun` changes nothing (neither state nor GitHub) and reports what it would do.
 */
export interface ReconcileOptions {
  readonly now?: Date;
  readonly dryRun?: boolean;
}

export interface ReconcileProblem extends LifecycleProblem {
  readonly path: string | null;
}

function problemOf(path: string | null, error: unknown): ReconcileProblem {
  return { path, ...toProblem(error) };
}

export interface ReconcileReport {
  /** False when another worker was reconciling (nothing was done). */
  readonly ran: boolean;
  readonly dryRun: boolean;
  readonly branch: string | null;
  readonly headSha: string | null;
  /** Request files at the branch head. */
  readonly files: number;
  /** Grants created (or, in a dry run, that would be). */
  readonly activated: readonly ActivatedGrant[];
  /** Files whose merge was not sufficiently approved: they grant nothing. */
  readonly refused: readonly {
    readonly path: string;
    readonly prNumber: number;
    readonly codes: readonly string[];
  }[];
  readonly revoked: readonly RevokedGrant[];
  /** Files whose current content came from no merged PR (a direct push): they grant nothing. */
  readonly unjustified: readonly { readonly path: string; readonly commit: string | null }[];
  /** What could not be checked this time; the next run tries again. */
  readonly problems: readonly ReconcileProblem[];
  /** Set when a rate limit or a GitHub outage stopped the run early. */
  readonly stoppedEarly: ReconcileProblem | null;
}

/** Where a request file can be (the same rule as `validateRequestFile`'s REQ_PATH). Any other
 * file under access/ is no request and grants nothing. */
const REQUEST_FILE = /^access\/[^/]+\/[^/]+\.yaml$/;

export async function reconcile(
  deps: LifecycleDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const dryRun = options.dryRun === true;
  if (dryRun) return run(deps, dryRun, options.now ?? deps.clock());
  const locked = await deps.state.leader.runExclusive('reconcile', () =>
    run(deps, dryRun, options.now ?? deps.clock()),
  );
  return locked.ran ? locked.value : { ...emptyReport(dryRun), ran: false };
}

function emptyReport(dryRun: boolean): ReconcileReport {
  return {
    ran: true,
    dryRun,
    branch: null,
    headSha: null,
    files: 0,
    activated: [],
    refused: [],
    revoked: [],
    unjustified: [],
    problems: [],
    stoppedEarly: null,
  };
}

/** The PR that brought a commit to the default branch: merged into it, the earliest merge
 * (a commit can sit in several PRs when a branch is reused). */
function mergingPull(pulls: readonly PullSummary[], branch: string): PullSummary | undefined {
  return pulls
    .filter((p) => p.mergedAt !== null && p.mergeCommitSha !== null && p.baseRef === branch)
    .sort((a, b) => Date.parse(a.mergedAt ?? '') - Date.parse(b.mergedAt ?? ''))[0];
}

async function run(deps: LifecycleDeps, dryRun: boolean, now: Date): Promise<ReconcileReport> {
  const repo = repoRef(deps.config);
  const fullName = repoName(deps.config);
  const report = {
    ...emptyReport(dryRun),
    activated: [] as ActivatedGrant[],
    refused: [] as { path: string; prNumber: number; codes: readonly string[] }[],
    revoked: [] as RevokedGrant[],
    unjustified: [] as { path: string; commit: string | null }[],
    problems: [] as ReconcileProblem[],
    stoppedEarly: null as ReconcileProblem | null,
    branch: null as string | null,
    headSha: null as string | null,
  };

  // The grants are read BEFORE the branch head: every grant in this snapshot was inserted
  // after its merge, so its merge is in the history of the head read next. A grant created
  // by a merge after that read is not in the snapshot and can never be revoked by mistake.
  const snapshot = (await deps.state.grants.list({ unrevoked: true })).filter(
    (grant) => grant.repo === fullName,
  );

  let github: LifecycleGithub;
  let files: readonly string[];
  try {
    github = await deps.github();
    const branch = await github.getDefaultBranch(repo);
    const head = await github.getBranchHead(repo, branch);
    if (head === null) {
      throw new GatehouseError(
        'LIFECYCLE_GITHUB_REFUSED',
        `The default branch ${branch} has no head.`,
      );
    }
    report.branch = branch;
    report.headSha = head;
    files = (await github.listFiles(repo, head, 'access/'))
      .map((file) => file.path)
      .filter((path) => REQUEST_FILE.test(path))
      .sort();
  } catch (error) {
    report.stoppedEarly = problemOf(null, error);
    report.problems.push(report.stoppedEarly);
    return report;
  }
  const branch = report.branch ?? '';
  const head = report.headSha ?? '';
  report.files = files.length;

  // path → id of the grant its current content justifies (null: no merged PR).
  const current = new Map<string, string | null>();
  const processedPulls = new Set<number>();
  let outages = 0;
  for (const path of files) {
    try {
      const commit = await github.lastCommitForPath(repo, head, path);
      const pull =
        commit === null
          ? undefined
          : mergingPull(await github.pullsForCommit(repo, commit), branch);
      if (pull === undefined || pull.mergeCommitSha === null) {
        current.set(path, null);
        report.unjustified.push({ path, commit });
        continue;
      }
      const id = grantId(fullName, path, pull.mergeCommitSha);
      current.set(path, id);
      if ((await deps.state.grants.get(id)) !== null || processedPulls.has(pull.number)) continue;
      processedPulls.add(pull.number);
      // A refusal is final (the merge and its reviews do not change), so a PR already refused
      // is not evaluated again on every run.
      const refusedBefore = await deps.state.audit.query({
        types: ['grant.activation_refused'],
        prNumber: pull.number,
        limit: 100,
      });
      const earlier = refusedBefore.find((r) => r.mergeSha === pull.mergeCommitSha);
      if (earlier !== undefined) {
        const codes = earlier.details?.['codes'];
        report.refused.push({
          path,
          prNumber: pull.number,
          codes: Array.isArray(codes) ? codes.map(String) : [],
        });
        continue;
      }
      const outcome = await processMergedPullRequest(deps, github, {
        pullNumber: pull.number,
        defaultBranch: branch,
        source: 'reconcile',
        dryRun,
      });
      if (outcome.kind !== 'processed') {
        if (outcome.kind === 'busy') continue; // another worker is activating it right now
        report.problems.push({
          path,
          code: 'LIFECYCLE_NO_MERGED_PR',
          message: `#${outcome.prNumber} is ${outcome.kind === 'not_merged' ? 'not merged' : `merged into ${outcome.baseRef}`}.`,
        });
        continue;
      }
      report.activated.push(...outcome.activated.filter((a) => a.created));
      report.revoked.push(...outcome.revoked);
      if (outcome.refused !== null) {
        report.refused.push({ path, prNumber: pull.number, codes: outcome.refused.codes });
      }
      outages = 0;
    } catch (error) {
      const problem = problemOf(path, error);
      report.problems.push(problem);
      outages = problem.code === 'LIFECYCLE_GITHUB_UNAVAILABLE' ? outages + 1 : 0;
      if (stopsAtOnce(problem) || outages >= MAX_CONSECUTIVE_OUTAGES) {
        report.stoppedEarly = problem;
        break;
      }
    }
  }

  // Revoke what git no longer justifies. Files not resolved above (a problem, or the run
  // stopped early) are left alone; only a file that is gone needs no lookup.
  const present = new Set(files);
  const alreadyRevoked = new Set(report.revoked.map((r) => r.grantId));
  for (const grant of snapshot) {
    if (alreadyRevoked.has(grant.id)) continue;
    const reason = staleReason(grant, present, current, branch, head);
    if (reason === null) continue;
    try {
      const done = dryRun
        ? true
        : await revokeGrant(deps, grant, { at: now, by: 'gatehouse', reason, sha: head });
      if (done) report.revoked.push({ grantId: grant.id, path: grant.filePath, reason });
    } catch (error) {
      const problem = problemOf(grant.filePath, error);
      report.problems.push(problem);
      if (stopsAtOnce(problem)) {
        report.stoppedEarly ??= problem;
        break;
      }
    }
  }
  return report;
}

function staleReason(
  grant: Grant,
  present: ReadonlySet<string>,
  current: ReadonlyMap<string, string | null>,
  branch: string,
  head: string,
): string | null {
  const at = `${branch} at ${head.slice(0, 12)}`;
  if (!present.has(grant.filePath)) {
    return `reconcile: ${grant.filePath} is no longer on ${at}`;
  }
  if (!current.has(grant.filePath)) return null; // not resolved this run
  const id = current.get(grant.filePath);
  if (id === grant.id) return null;
  return id === null
    ? `reconcile: ${grant.filePath} on ${at} was changed without a merged pull request`
    : `reconcile: ${grant.filePath} on ${at} holds a later request (grant ${id})`;
}
