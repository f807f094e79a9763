import { parse as parseYaml } from 'yaml';
import type { ErrorCode } from '../errors/catalogue.js';
import type { Approver } from '../grants/grant.js';
import { ownersOf } from '../policy/codeowners.js';
import { evaluateMetaChange } from '../policy/evaluate-risk.js';
import { CODEOWNERS_PATHS, type RepoContext } from '../policy/repo-context.js';
import type { ResolvedRequirement, RiskDecision } from '../policy/risk-decision.js';
import type { RiskPolicy } from '../policy/risk-policy.js';
import type { AccessRequest } from '../requests/access-request.js';
import { validateRequestFile } from '../requests/validate-request.js';
import type { Diagnostic } from '../util/diagnostic.js';
import {
  countApprovals,
  hasNoPossibleApprover,
  membershipQueries,
  normalizeLogin,
  type ApprovalOutcome,
  type CommitFact,
  type MembershipFacts,
  type ReviewFact,
} from './approval/count-approvals.js';
import {
  COMMENT_MARKER,
  renderComment,
  renderSummary,
  renderTitle,
  toAnnotations,
} from './pr-report.js';

/**
 * The pure half of the review gate: classify a pull request's changed paths, decide each file
 * (request, revocation, policy change) and count approvals, over plain data. The I/O edge
 * (`evaluate-pull-request.ts`) fetches the data; `pr-report.ts` renders the result.
 */

/** A changed file as `GET /repos/{o}/{r}/pulls/{n}/files` lists it. */
export interface ChangedFile {
  readonly path: string;
  /** added | modified | removed | renamed | copied | changed | unchanged */
  readonly status: string;
  /** For `renamed`: the old path. */
  readonly previousPath?: string;
}

export type PathKind = 'request' | 'meta' | 'other';

export function classifyPath(path: string): PathKind {
  if (path.startsWith('access/')) return 'request';
  // Files that define the policy: a change to any of them is judged by the meta rule.
  if (path.startsWith('policies/') || (CODEOWNERS_PATHS as readonly string[]).includes(path)) {
    return 'meta';
  }
  return 'other';
}

export interface PrChangeSet {
  /** Added or modified request files (a rename's new path counts as added). */
  readonly requests: readonly { readonly path: string; readonly modified: boolean }[];
  /** Deleted request files (a rename's old path counts as deleted). */
  readonly revocations: readonly string[];
  readonly meta: readonly string[];
  readonly other: readonly string[];
}

export function classifyChangedFiles(files: readonly ChangedFile[]): PrChangeSet {
  const requests: { path: string; modified: boolean }[] = [];
  const revocations: string[] = [];
  const meta: string[] = [];
  const other: string[] = [];
  const place = (path: string, removed: boolean, modified: boolean): void => {
    const kind = classifyPath(path);
    if (kind === 'request') {
      if (removed) revocations.push(path);
      else requests.push({ path, modified });
    } else if (kind === 'meta') meta.push(path);
    else other.push(path);
  };
  for (const file of files) {
    if (file.status === 'unchanged') continue;
    if (file.status === 'renamed' && file.previousPath !== undefined) {
      place(file.previousPath, true, false);
      place(file.path, false, false);
    } else {
      place(
        file.path,
        file.status === 'removed',
        file.status !== 'added' && file.status !== 'copied',
      );
    }
  }
  return { requests, revocations, meta, other };
}

// ---------------------------------------------------------------------------------------------
// Step 1: assess each file (validation and risk decision), before approvals are known.

export type FileKind = 'request' | 'revocation' | 'meta';

/** A grant backed by a deleted request file that is over: why it ended, and when. */
export interface EndedGrant {
  readonly requester: string;
  readonly ended: 'expired' | 'revoked';
  readonly at: Date;
}

/**
 * What the grant store says, at `now`, about the grants a deleted request file backs. Computed
 * by the I/O edge (`evaluatePullRequest`'s `activeGrantsForPath`); plain data here.
 * - `active`: deleting the file ends live access, so issue 3's rule applies (the requester: no
 *   approval; anyone else: one CODEOWNER approval).
 * - `inactive`: no grant backed by the file is active (it expired, was revoked, or was never
 *   activated; `last` is the latest that ended, null when none did). Access already ended: the
 *   gateway checks `expires_at` and `revoked_at` on every query (src/grants/grant.ts), so the
 *   deletion removes no access and needs no approval, whoever deletes it. This is what lets the
 *   lifecycle's revocation PRs for expired grants, opened by the App, pass without a DBA.
 * - `unknown`: the store could not be read. Treated as `active` (fail closed), never as "no grant".
 */
export type DeletedFileGrant =
  | { readonly state: 'active'; readonly requesters: readonly string[] }
  | { readonly state: 'inactive'; readonly last: EndedGrant | null }
  | { readonly state: 'unknown'; readonly cause: string };

/** Why a deleted request file needs the approvals it does (the report says it). */
export interface RevocationBasis {
  /** The store's fact; `unchecked` when no store was consulted (the CLI, tests, the lifecycle
   * at merge, or a PR that also adds requests): the file is taken to back an active grant. */
  readonly grant: DeletedFileGrant | { readonly state: 'unchecked' };
  /** The PR author is the requester (of the active grants, or else of the file at the base). */
  readonly byRequester: boolean;
}

export interface FileAssessment {
  readonly path: string;
  readonly kind: FileKind;
  readonly request?: AccessRequest;
  readonly decision?: RiskDecision;
  /** For revocations: the requester of the deleted file (null when it cannot be read). */
  readonly revokedRequester?: string | null;
  /** For revocations: why approval is or is not needed. */
  readonly revocation?: RevocationBasis;
  /** The approvals this file needs; empty when none are needed or the file is refused. */
  readonly requirements: readonly ResolvedRequirement[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface PrIdentity {
  readonly number: number;
  readonly author: string;
  readonly headSha: string;
  readonly htmlUrl: string;
}

export interface AssessInput {
  readonly pr: PrIdentity;
  readonly changes: PrChangeSet;
  /** Policy, databases and CODEOWNERS from the BASE branch (never the head). */
  readonly context: RepoContext | undefined;
  readonly contextDiagnostics: readonly Diagnostic[];
  /** Head contents of added/modified request files (null: missing at head). */
  readonly headFiles: ReadonlyMap<string, Uint8Array | null>;
  /** Base contents of modified and deleted request files (null: missing at base). */
  readonly baseFiles: ReadonlyMap<string, Uint8Array | null>;
  /** For policy changes: diagnostics of loading the policy as the head would leave it. */
  readonly headPolicyDiagnostics: readonly Diagnostic[];
  /** Teams (as written in the policy's rules) of which the PR author is an ACTIVE member. */
  readonly requesterTeams: ReadonlySet<string>;
  /**
   * The grant store's fact per deleted request path. Absent: no store was consulted and every
   * deleted file is taken to back an active grant (issue 3's rule). Present but missing a
   * path: that path counts as `unknown` (treated as active). Ignored when the PR also adds or
   * modifies requests: the lifecycle re-evaluates such a PR at merge without the store, and the
   * gate must not pass what activation would then refuse.
   */
  readonly deletedFileGrants?: ReadonlyMap<string, DeletedFileGrant>;
  readonly now: Date;
}

export interface Assessment {
  readonly files: readonly FileAssessment[];
  /** Problems of the PR as a whole (PR_MIXED, PR_FOREIGN_PATH, PR_EMPTY, policy load). */
  readonly diagnostics: readonly Diagnostic[];
  /** Every path the PR touches: annotations go only on these (others are not in the diff). */
  readonly changedPaths: ReadonlySet<string>;
}

function prDiagnostic(file: string, code: ErrorCode, message: string): Diagnostic {
  return { file, line: 0, column: 0, field: '', code, message };
}

/** The `requester` of a request file as stored at the base, read leniently: the base file was
 * valid when merged; all we need is whose it is. Null when it cannot be read. */
export function requesterOf(bytes: Uint8Array | null | undefined): string | null {
  if (bytes === null || bytes === undefined) return null;
  try {
    const doc: unknown = parseYaml(new TextDecoder('utf-8', { fatal: true }).decode(bytes), {
      maxAliasCount: 0,
    });
    if (typeof doc === 'object' && doc !== null && 'requester' in doc) {
      const requester = (doc as { requester: unknown }).requester;
      return typeof requester === 'string' ? requester : null;
    }
  } catch {
    // Unreadable base file: treated as someone else's (fail closed).
  }
  return null;
}

function sameLogin(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && normalizeLogin(a) === normalizeLogin(b);
}

/** Whether the PR author revokes their own access: the requesters of the active grants when
 * the store named them, else the requester written in the file at the base (fail closed: an
 * unreadable file is someone else's). */
export function revocationBasis(
  author: string,
  fileRequester: string | null,
  grant: RevocationBasis['grant'],
): RevocationBasis {
  const byRequester =
    grant.state === 'active'
      ? grant.requesters.length > 0 && grant.requesters.every((r) => sameLogin(r, author))
      : sameLogin(fileRequester, author);
  return { grant, byRequester };
}

function requirementsOf(decision: RiskDecision | undefined): readonly ResolvedRequirement[] {
  return decision?.kind === 'approve' ? decision.approvals : [];
}

function noApproverDiagnostics(
  path: string,
  requirements: readonly ResolvedRequirement[],
): Diagnostic[] {
  return requirements.some(hasNoPossibleApprover)
    ? [
        prDiagnostic(
          path,
          'PR_NO_APPROVERS',
          `Nobody can approve ${path}: a requirement names no user, no team, and the file has no CODEOWNER (a GitHub user or team). Fix CODEOWNERS or policies/risk.yaml on the base branch.`,
        ),
      ]
    : [];
}

export function assessPullRequest(input: AssessInput): Assessment {
  const { changes, pr } = input;
  const diagnostics: Diagnostic[] = [];
  const changedPaths = new Set([
    ...changes.requests.map((r) => r.path),
    ...changes.revocations,
    ...changes.meta,
    ...changes.other,
  ]);
  const hasRequests = changes.requests.length + changes.revocations.length > 0;
  const total =
    changes.requests.length +
    changes.revocations.length +
    changes.meta.length +
    changes.other.length;

  if (total === 0) {
    diagnostics.push(prDiagnostic('', 'PR_EMPTY', 'The pull request changes no files.'));
  }
  if (hasRequests && changes.meta.length > 0) {
    diagnostics.push(
      prDiagnostic(
        changes.meta[0] ?? '',
        'PR_MIXED',
        `Changes to policies/ or CODEOWNERS (${changes.meta.join(', ')}) cannot be mixed with access requests in one pull request: open one pull request for each.`,
      ),
    );
  }
  if (hasRequests) {
    for (const path of changes.other) {
      diagnostics.push(
        prDiagnostic(
          path,
          'PR_FOREIGN_PATH',
          `${path} is not an access request; a pull request with access requests may change only files under access/ (one purpose per pull request).`,
        ),
      );
    }
  }
  // Any problem in the base policy or CODEOWNERS refuses the PR: a skipped CODEOWNERS line
  // could hand a path to a broader owner (see src/policy/codeowners.ts), so fail closed.
  diagnostics.push(...input.contextDiagnostics);
  if (input.context === undefined || input.contextDiagnostics.length > 0) {
    if (input.contextDiagnostics.length === 0) {
      diagnostics.push(
        prDiagnostic('policies/', 'POLICY_INVALID', 'The base branch policy could not be loaded.'),
      );
    }
    return { files: [], diagnostics, changedPaths };
  }
  const context = input.context;
  const files: FileAssessment[] = [];

  for (const { path, modified } of changes.requests) {
    const bytes = input.headFiles.get(path) ?? null;
    const fileDiagnostics: Diagnostic[] = [];
    if (modified) {
      // Modifying a request file is a new request (full approval again), and only its own
      // requester may do it: someone else's edit could cut or stretch their grant.
      const owner = requesterOf(input.baseFiles.get(path));
      if (!sameLogin(owner, pr.author)) {
        fileDiagnostics.push(
          prDiagnostic(
            path,
            'PR_OTHERS_REQUEST',
            `${path} belongs to ${owner === null ? 'another requester' : `@${owner}`}; only its requester may change it. Delete it in a revocation pull request or add your own request file.`,
          ),
        );
      }
    }
    if (bytes === null) {
      fileDiagnostics.push(
        prDiagnostic(path, 'FILE_UNREADABLE', `${path} could not be read at the head commit.`),
      );
      files.push({ path, kind: 'request', requirements: [], diagnostics: fileDiagnostics });
      continue;
    }
    const result = validateRequestFile({
      path,
      bytes,
      context,
      now: input.now,
      author: pr.author,
      requesterTeams: input.requesterTeams,
    });
    const requirements = requirementsOf(result.decision);
    fileDiagnostics.push(...result.diagnostics, ...noApproverDiagnostics(path, requirements));
    files.push({
      path,
      kind: 'request',
      ...(result.request === undefined ? {} : { request: result.request }),
      ...(result.decision === undefined ? {} : { decision: result.decision }),
      requirements,
      diagnostics: fileDiagnostics,
    });
  }

  const grantFacts = changes.requests.length === 0 ? input.deletedFileGrants : undefined;
  for (const path of changes.revocations) {
    const requester = requesterOf(input.baseFiles.get(path));
    const revocation = revocationBasis(
      pr.author,
      requester,
      grantFacts === undefined
        ? { state: 'unchecked' }
        : (grantFacts.get(path) ?? { state: 'unknown', cause: 'no answer for this path' }),
    );
    // Issue 3: a requester may give up their own access without approval; anyone else needs
    // one CODEOWNER of the file (read from the base branch) to end a live grant. A file whose
    // grant is over removes no access when deleted: no approval (see DeletedFileGrant).
    const requirements: ResolvedRequirement[] =
      revocation.byRequester || revocation.grant.state === 'inactive'
        ? []
        : [
            {
              count: 1,
              from: { codeowners: true, teams: [], users: [] },
              codeowners: ownersOf(context.codeowners, path),
            },
          ];
    files.push({
      path,
      kind: 'revocation',
      revokedRequester: requester,
      revocation,
      requirements,
      diagnostics: noApproverDiagnostics(path, requirements),
    });
  }

  if (!hasRequests) {
    // Without requests, every changed path (policies/, CODEOWNERS, and anything else in the
    // repository, such as schemas/ or .github/workflows) changes the machinery that guards
    // access, so the stricter meta rule applies to all of them (anchors.md §2).
    const paths = [...changes.meta, ...changes.other];
    if (paths.length > 0) {
      const decision = evaluateMetaChange({
        paths,
        policy: context.policy,
        codeowners: context.codeowners,
      });
      const requirements = requirementsOf(decision);
      const unplaced = input.headPolicyDiagnostics.filter((d) => !paths.includes(d.file));
      paths.forEach((path, index) => {
        files.push({
          path,
          kind: 'meta',
          decision,
          requirements,
          diagnostics: [
            ...input.headPolicyDiagnostics.filter((d) => d.file === path),
            ...(index === 0 ? unplaced : []),
            ...noApproverDiagnostics(path, requirements),
          ],
        });
      });
    }
  }
  return { files, diagnostics, changedPaths };
}

// ---------------------------------------------------------------------------------------------
// Step 2: with reviews, commits and memberships, decide the PR.

export type FileStatus = 'approved' | 'awaiting_approval' | 'invalid' | 'denied' | 'error';

export interface FileEvaluation extends FileAssessment {
  readonly status: FileStatus;
  /** The level's name (for denials too); null for revocations and refused files. */
  readonly level: string | null;
  readonly rule: string | null;
  readonly approvals: ApprovalOutcome;
}

export type CheckConclusion = 'success' | 'action_required' | 'failure';

/** A check-run annotation (https://docs.github.com/en/rest/checks/runs#update-a-check-run). */
export interface CheckAnnotation {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly startColumn?: number;
  readonly endColumn?: number;
  readonly level: 'failure' | 'warning' | 'notice';
  readonly title: string;
  readonly message: string;
}

export interface PrEvaluation {
  readonly prNumber: number;
  readonly prAuthor: string;
  readonly headSha: string;
  readonly htmlUrl: string;
  readonly conclusion: CheckConclusion;
  /** Check-run title, e.g. "High risk: 1 of 2 approvals; needs @acme/security". */
  readonly title: string;
  /** Check-run summary (markdown): one table per file. */
  readonly summary: string;
  /** The requester-facing comment body (markdown, with the hidden marker). */
  readonly comment: string;
  /** One per diagnostic, on the YAML line it names. */
  readonly annotations: readonly CheckAnnotation[];
  /** The strictest level of the PR (`denied` when any file is denied); null when none. */
  readonly level: string | null;
  /** `gatehouse:risk-<level>`, or null when the PR has no risk level. */
  readonly label: string | null;
  /** Catalogue codes of everything that keeps the check from success, deduplicated. */
  readonly codes: readonly ErrorCode[];
  readonly files: readonly FileEvaluation[];
  /** PR-level diagnostics (mixing, foreign paths, policy load, API failure). */
  readonly diagnostics: readonly Diagnostic[];
  /** Teams (`org/slug`) and users whose approval is still missing (for review requests). */
  readonly missingReviewers: {
    readonly teams: readonly string[];
    readonly users: readonly string[];
  };
  /** Everyone whose approval counted, per file. */
  readonly approvers: readonly Approver[];
}

export interface DecideInput {
  readonly pr: PrIdentity;
  readonly assessment: Assessment;
  readonly policy: RiskPolicy | undefined;
  readonly commits: readonly CommitFact[];
  readonly reviews: readonly ReviewFact[];
  readonly membership: MembershipFacts;
}

/** Every (team, login) pair the PR's files need, deduplicated. */
export function membershipQueriesFor(
  pr: PrIdentity,
  assessment: Assessment,
  commits: readonly CommitFact[],
  reviews: readonly ReviewFact[],
): readonly { readonly team: string; readonly login: string }[] {
  const seen = new Map<string, { team: string; login: string }>();
  for (const file of assessment.files) {
    for (const q of membershipQueries({
      prAuthor: pr.author,
      headSha: pr.headSha,
      commits,
      reviews,
      requirements: file.requirements,
    })) {
      seen.set(`${q.team}\n${q.login}`, q);
    }
  }
  return [...seen.values()];
}

function statusOf(file: FileAssessment, approvals: ApprovalOutcome): FileStatus {
  if (file.decision?.kind === 'error') return 'error';
  if (file.decision?.kind === 'deny') return 'denied';
  if (file.diagnostics.length > 0) return 'invalid';
  if (file.kind !== 'revocation' && file.decision === undefined) return 'invalid';
  return approvals.satisfied ? 'approved' : 'awaiting_approval';
}

/** Position of a level in the policy (declaration order: later is stricter); deny is the
 * strictest of all. Unknown names sort first. */
export function levelRank(
  policy: RiskPolicy | undefined,
  level: string | null,
  denied: boolean,
): number {
  if (denied) return Number.MAX_SAFE_INTEGER;
  if (level === null || policy === undefined) return -1;
  return [...policy.levels.keys()].indexOf(level);
}

export function labelFor(level: string | null): string | null {
  return level === null
    ? null
    : `gatehouse:risk-${level.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}`;
}

export function decideFiles(input: DecideInput): readonly FileEvaluation[] {
  return input.assessment.files.map((file): FileEvaluation => {
    const approvals = countApprovals({
      prAuthor: input.pr.author,
      headSha: input.pr.headSha,
      commits: input.commits,
      reviews: input.reviews,
      requirements: file.requirements,
      membership: input.membership,
    });
    const decision = file.decision;
    return {
      ...file,
      status: statusOf(file, approvals),
      level: decision !== undefined && decision.kind !== 'error' ? decision.level : null,
      rule: decision !== undefined && decision.kind !== 'error' ? decision.rule : null,
      approvals,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Step 3: the PR's verdict, rendered.

function dedupe<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function missingReviewersOf(files: readonly FileEvaluation[]): PrEvaluation['missingReviewers'] {
  const teams: string[] = [];
  const users: string[] = [];
  for (const file of files) {
    if (file.status !== 'awaiting_approval') continue;
    for (const outcome of file.approvals.requirements) {
      if (outcome.missing === 0) continue;
      teams.push(...outcome.requirement.from.teams.map((t) => t.replace(/^@/, '').toLowerCase()));
      users.push(...outcome.requirement.from.users.map(normalizeLogin));
      if (outcome.requirement.from.codeowners) {
        for (const owner of outcome.requirement.codeowners) {
          if (!owner.startsWith('@')) continue;
          if (owner.includes('/')) teams.push(owner.slice(1).toLowerCase());
          else users.push(normalizeLogin(owner));
        }
      }
    }
  }
  return { teams: dedupe(teams).sort(), users: dedupe(users).sort() };
}

export function buildPrEvaluation(input: DecideInput): PrEvaluation {
  const files = decideFiles(input);
  const diagnostics = input.assessment.diagnostics;
  const denied = files.some((f) => f.status === 'denied');
  let level: string | null = null;
  for (const file of files) {
    if (file.level === null) continue;
    if (
      level === null ||
      levelRank(input.policy, file.level, file.status === 'denied') >
        levelRank(input.policy, level, false)
    ) {
      level = file.level;
    }
  }
  const labelLevel = denied ? 'denied' : level;

  const failed =
    diagnostics.length > 0 ||
    files.length === 0 ||
    files.some((f) => f.status === 'invalid' || f.status === 'denied' || f.status === 'error');
  const conclusion: CheckConclusion = failed
    ? 'failure'
    : files.every((f) => f.status === 'approved')
      ? 'success'
      : 'action_required';

  const codes: ErrorCode[] = [...diagnostics.map((d) => d.code)];
  for (const file of files) {
    codes.push(...file.diagnostics.map((d) => d.code));
    if (file.decision?.kind === 'deny') codes.push('POLICY_DENIED');
    if (file.decision?.kind === 'error') codes.push(file.decision.code);
    if (file.approvals.blockedBy.length > 0) codes.push('PR_CHANGES_REQUESTED');
    if (file.status === 'awaiting_approval') codes.push('PR_NOT_APPROVED');
  }
  if (files.length === 0 && diagnostics.length === 0) codes.push('PR_EMPTY');

  const title = renderTitle({ conclusion, level: labelLevel, files, diagnostics });
  const allDiagnostics = [...diagnostics, ...files.flatMap((f) => f.diagnostics)];
  return {
    prNumber: input.pr.number,
    prAuthor: input.pr.author,
    headSha: input.pr.headSha,
    htmlUrl: input.pr.htmlUrl,
    conclusion,
    title,
    summary: renderSummary({ files, diagnostics, level: labelLevel, headSha: input.pr.headSha }),
    comment: renderComment({ pr: input.pr, conclusion, title, files }),
    annotations: toAnnotations(
      allDiagnostics.filter((d) => input.assessment.changedPaths.has(d.file)),
    ),
    level: labelLevel,
    label: labelFor(labelLevel),
    codes: dedupe(codes),
    files,
    diagnostics,
    missingReviewers: missingReviewersOf(files),
    approvers: files.flatMap((f) => f.approvals.approvers),
  };
}

/** The verdict when the evaluation itself could not finish (GitHub API failure after retries,
 * or a bug): never success; the check says why (PR_EVALUATION_FAILED). */
export function failedEvaluation(pr: PrIdentity, cause: string): PrEvaluation {
  const diagnostic = prDiagnostic(
    '',
    'PR_EVALUATION_FAILED',
    `The pull request could not be evaluated: ${cause}. Re-run the check once GitHub is reachable; until then the check stays failed.`,
  );
  return {
    prNumber: pr.number,
    prAuthor: pr.author,
    headSha: pr.headSha,
    htmlUrl: pr.htmlUrl,
    conclusion: 'failure',
    title: 'Evaluation failed: GitHub API error; the check is not a success',
    summary: `**\`PR_EVALUATION_FAILED\`**: ${diagnostic.message}`,
    comment: `${COMMENT_MARKER}\n**Gatehouse**: the pull request could not be evaluated (GitHub API failure). Use "Re-run" on the check **Gatehouse / access policy**.`,
    annotations: [],
    level: null,
    label: null,
    codes: ['PR_EVALUATION_FAILED'],
    files: [],
    diagnostics: [diagnostic],
    missingReviewers: { teams: [], users: [] },
    approvers: [],
  };
}
