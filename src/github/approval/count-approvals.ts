import type { Approver } from '../../grants/grant.js';
import type { ResolvedRequirement } from '../../policy/risk-decision.js';

/**
 * Approval counting for one file of a pull request: pure, over plain data (no Octokit, no
 * clock). The rules follow palantir/policy-bot and GitHub, made stricter where those are
 * lenient (anchors.md §3, issue 3 "Counting approvals"):
 * - only APPROVED reviews count, and only a reviewer's LATEST verdict;
 * - the review must be on the current head SHA (`commit_id == head.sha`), stronger than
 *   policy-bot's time-based `invalidate_on_push`;
 * - never from the PR author nor from anyone who authored or committed a commit of the PR;
 * - the reviewer must qualify: a listed user, an ACTIVE member of a listed team, or a
 *   CODEOWNER of the file (a user owner or an active member of an owning team);
 * - a latest CHANGES_REQUESTED from a qualifying reviewer blocks; DISMISSED never counts;
 * - one person counts toward one requirement only (bipartite matching over the slots).
 */

/** A review as GitHub lists it (`GET /repos/{o}/{r}/pulls/{n}/reviews`). */
export interface ReviewFact {
  readonly id: number;
  /** Login of the reviewer; null for deleted ("ghost") accounts. */
  readonly user: string | null;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING. */
  readonly state: string;
  /** The head SHA the review was made on. */
  readonly commitId: string | null;
  /** ISO 8601; null while the review is pending. */
  readonly submittedAt: string | null;
}

/** A commit of the pull request, with the GitHub logins linked to its author and committer. */
export interface CommitFact {
  readonly sha: string;
  readonly author: string | null;
  readonly committer: string | null;
}

/** Precomputed team memberships: `org/slug` (lower case) → logins (lower case) whose
 * membership is ACTIVE. A pair that is absent means "not an active member" (fail closed). */
export interface MembershipFacts {
  readonly teamMembers: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface ApprovalInput {
  readonly prAuthor: string;
  readonly headSha: string;
  readonly commits: readonly CommitFact[];
  readonly reviews: readonly ReviewFact[];
  readonly requirements: readonly ResolvedRequirement[];
  readonly membership: MembershipFacts;
}

/** Why a review does or does not count. A review can carry several reasons. */
export type ReviewReason =
  /** Counted toward a requirement. */
  | 'counted'
  /** Would count, but every requirement it qualifies for is already met. */
  | 'not_needed'
  /** The reviewer submitted a later verdict (approval, change request or dismissal). */
  | 'not_latest'
  /** Made on an older commit than the current head. */
  | 'stale_commit'
  /** The reviewer is the pull request author. */
  | 'author'
  /** The reviewer authored or committed a commit of the pull request. */
  | 'committer'
  /** The reviewer is no listed user, no active member of a listed team, no CODEOWNER. */
  | 'not_qualified'
  /** The review was dismissed. */
  | 'dismissed'
  /** The reviewer requested changes. */
  | 'changes_requested'
  /** A comment-only review: never a verdict (GitHub's review decision ignores them too). */
  | 'commented'
  /** Not submitted yet. */
  | 'pending'
  /** The reviewer's account no longer exists. */
  | 'no_user';

export interface ReviewVerdict {
  readonly reviewId: number;
  readonly login: string | null;
  readonly state: string;
  readonly counted: boolean;
  /** Index into `requirements` when counted. */
  readonly requirement: number | null;
  readonly reasons: readonly ReviewReason[];
}

export interface RequirementOutcome {
  readonly requirement: ResolvedRequirement;
  readonly approvedBy: readonly Approver[];
  readonly missing: number;
}

export interface ApprovalOutcome {
  /** True only when nothing blocks and every requirement has its count. */
  readonly satisfied: boolean;
  readonly requirements: readonly RequirementOutcome[];
  /** Qualifying reviewers whose latest verdict is CHANGES_REQUESTED. */
  readonly blockedBy: readonly Approver[];
  /** Every review, in input order, with the reasons it counts or not. */
  readonly reviews: readonly ReviewVerdict[];
  /** Everyone whose approval was counted. */
  readonly approvers: readonly Approver[];
}

/** Verdict states: a COMMENTED review changes nothing about a reviewer's verdict. */
const VERDICT_STATES: ReadonlySet<string> = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

/** GitHub logins and team slugs are case-insensitive; CODEOWNERS writes them with `@`. */
export function normalizeLogin(login: string): string {
  return login.replace(/^@/, '').toLowerCase();
}

/** `@org/slug` or `org/slug` → `org/slug` in lower case. */
export function normalizeTeam(team: string): string {
  return team.replace(/^@/, '').toLowerCase();
}

function isTeamOwner(owner: string): boolean {
  return owner.startsWith('@') && owner.includes('/');
}

function isUserOwner(owner: string): boolean {
  return owner.startsWith('@') && !owner.includes('/');
}

/** Every team (normalized `org/slug`) whose membership matters for these requirements. */
export function teamsOf(requirements: readonly ResolvedRequirement[]): readonly string[] {
  const teams = new Set<string>();
  for (const req of requirements) {
    for (const team of req.from.teams) teams.add(normalizeTeam(team));
    if (req.from.codeowners) {
      for (const owner of req.codeowners) if (isTeamOwner(owner)) teams.add(normalizeTeam(owner));
    }
  }
  return [...teams].sort();
}

/** Whether `login` (normalized) qualifies for `req`. Emails in CODEOWNERS cannot be mapped to
 * a login without extra API calls; they never qualify (fail closed; documented). */
export function qualifies(
  login: string,
  req: ResolvedRequirement,
  membership: MembershipFacts,
): boolean {
  const isMember = (team: string): boolean =>
    membership.teamMembers.get(normalizeTeam(team))?.has(login) === true;
  if (req.from.users.some((user) => normalizeLogin(user) === login)) return true;
  if (req.from.teams.some(isMember)) return true;
  if (req.from.codeowners) {
    for (const owner of req.codeowners) {
      if (isUserOwner(owner) && normalizeLogin(owner) === login) return true;
      if (isTeamOwner(owner) && isMember(owner)) return true;
    }
  }
  return false;
}

/** True when `req` names nobody: no user, no team and (if CODEOWNERS qualify) no owner. */
export function hasNoPossibleApprover(req: ResolvedRequirement): boolean {
  const owners = req.from.codeowners
    ? req.codeowners.filter((owner) => isUserOwner(owner) || isTeamOwner(owner))
    : [];
  return (
    req.count > 0 &&
    req.from.users.length === 0 &&
    req.from.teams.length === 0 &&
    owners.length === 0
  );
}

function submittedMs(review: ReviewFact): number {
  return review.submittedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(review.submittedAt);
}

/** The latest verdict review per reviewer (by submission time, then id). */
function latestVerdicts(reviews: readonly ReviewFact[]): ReadonlyMap<string, ReviewFact> {
  const latest = new Map<string, ReviewFact>();
  for (const review of reviews) {
    if (review.user === null || !VERDICT_STATES.has(review.state)) continue;
    const login = normalizeLogin(review.user);
    const current = latest.get(login);
    if (
      current === undefined ||
      submittedMs(review) > submittedMs(current) ||
      (submittedMs(review) === submittedMs(current) && review.id > current.id)
    ) {
      latest.set(login, review);
    }
  }
  return latest;
}

/** Logins of everyone who authored or committed a commit of the PR. */
function contributors(commits: readonly CommitFact[]): ReadonlySet<string> {
  const logins = new Set<string>();
  for (const commit of commits) {
    if (commit.author !== null) logins.add(normalizeLogin(commit.author));
    if (commit.committer !== null) logins.add(normalizeLogin(commit.committer));
  }
  return logins;
}

/**
 * The (team, login) pairs whose ACTIVE membership the counter needs: reviewers whose latest
 * verdict could count or block, times the teams the requirements name. The I/O edge asks
 * GitHub for exactly these (and caches them for one evaluation).
 */
export function membershipQueries(
  input: Omit<ApprovalInput, 'membership'>,
): readonly { readonly team: string; readonly login: string }[] {
  const teams = teamsOf(input.requirements);
  if (teams.length === 0) return [];
  const queries: { team: string; login: string }[] = [];
  for (const [login, review] of latestVerdicts(input.reviews)) {
    if (review.state === 'DISMISSED') continue;
    for (const team of teams) queries.push({ team, login });
  }
  return queries;
}

/** Maximum matching of reviewers to requirement slots (Kuhn's augmenting paths). Sizes are
 * tiny (a handful of reviewers and slots), so the simple O(V·E) algorithm is plenty. */
function matchReviewers(
  candidates: readonly { readonly login: string; readonly eligible: readonly number[] }[],
  counts: readonly number[],
): Map<string, number> {
  const slotOwner: (string | undefined)[][] = counts.map((count) =>
    Array.from({ length: count }, () => undefined),
  );
  const eligibleOf = new Map(candidates.map((c) => [c.login, c.eligible]));
  const assignment = new Map<string, number>();

  const tryAssign = (login: string, seen: Set<string>): boolean => {
    for (const req of eligibleOf.get(login) ?? []) {
      const slots = slotOwner[req] ?? [];
      for (let slot = 0; slot < slots.length; slot++) {
        const key = `${req}:${slot}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const holder = slots[slot];
        if (holder === undefined || tryAssign(holder, seen)) {
          slots[slot] = login;
          assignment.set(login, req);
          return true;
        }
      }
    }
    return false;
  };

  for (const candidate of candidates) tryAssign(candidate.login, new Set());
  return assignment;
}

export function countApprovals(input: ApprovalInput): ApprovalOutcome {
  const author = normalizeLogin(input.prAuthor);
  const committed = contributors(input.commits);
  const latest = latestVerdicts(input.reviews);
  const qualifyingFor = (login: string): number[] =>
    input.requirements.flatMap((req, index) =>
      qualifies(login, req, input.membership) ? [index] : [],
    );

  const reasonsById = new Map<number, ReviewReason[]>();
  const candidates: { login: string; eligible: number[]; review: ReviewFact }[] = [];
  const blockedBy: Approver[] = [];

  for (const review of input.reviews) {
    const reasons: ReviewReason[] = [];
    reasonsById.set(review.id, reasons);
    if (review.user === null) {
      reasons.push('no_user');
      continue;
    }
    const login = normalizeLogin(review.user);
    if (review.state === 'COMMENTED') reasons.push('commented');
    else if (review.state === 'PENDING' || review.submittedAt === null) reasons.push('pending');
    else if (latest.get(login) !== review) reasons.push('not_latest');
    if (review.state === 'DISMISSED') reasons.push('dismissed');
    const eligible = qualifyingFor(login);
    if (review.state === 'CHANGES_REQUESTED') {
      reasons.push('changes_requested');
      // Blocks whatever commit it was made on: GitHub keeps a change request standing across
      // pushes until the reviewer approves or it is dismissed.
      if (latest.get(login) === review && eligible.length > 0) {
        blockedBy.push({ login, reviewId: review.id });
      }
    }
    if (review.state !== 'APPROVED') {
      if (eligible.length === 0) reasons.push('not_qualified');
      continue;
    }
    if (review.commitId !== input.headSha) reasons.push('stale_commit');
    if (login === author) reasons.push('author');
    if (committed.has(login)) reasons.push('committer');
    if (eligible.length === 0) reasons.push('not_qualified');
    if (reasons.length === 0) candidates.push({ login, eligible, review });
  }

  const assignment = matchReviewers(
    candidates,
    input.requirements.map((req) => req.count),
  );

  const approvedBy: Approver[][] = input.requirements.map(() => []);
  const verdictRequirement = new Map<number, number>();
  for (const candidate of candidates) {
    const req = assignment.get(candidate.login);
    const reasons = reasonsById.get(candidate.review.id) ?? [];
    if (req === undefined) {
      reasons.push('not_needed');
    } else {
      reasons.push('counted');
      verdictRequirement.set(candidate.review.id, req);
      approvedBy[req]?.push({ login: candidate.login, reviewId: candidate.review.id });
    }
  }

  const requirements = input.requirements.map((requirement, index) => {
    const approved = approvedBy[index] ?? [];
    return {
      requirement,
      approvedBy: approved,
      missing: Math.max(0, requirement.count - approved.length),
    };
  });

  const reviews = input.reviews.map((review): ReviewVerdict => {
    const requirement = verdictRequirement.get(review.id);
    return {
      reviewId: review.id,
      login: review.user === null ? null : normalizeLogin(review.user),
      state: review.state,
      counted: requirement !== undefined,
      requirement: requirement ?? null,
      reasons: reasonsById.get(review.id) ?? [],
    };
  });

  return {
    satisfied: blockedBy.length === 0 && requirements.every((r) => r.missing === 0),
    requirements,
    blockedBy,
    reviews,
    approvers: requirements.flatMap((r) => r.approvedBy),
  };
}
