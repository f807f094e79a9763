import { describe, expect, it } from 'vitest';
import {
  countApprovals,
  hasNoPossibleApprover,
  membershipQueries,
  type ApprovalInput,
  type ReviewFact,
  type ReviewReason,
} from '../../src/github/approval/count-approvals.js';
import type { ResolvedRequirement } from '../../src/policy/risk-decision.js';

const HEAD = 'h'.repeat(40);
const OLD = 'o'.repeat(40);

function req(
  count: number,
  from: { teams?: string[]; users?: string[]; codeowners?: boolean },
  codeowners: string[] = [],
): ResolvedRequirement {
  return {
    count,
    from: {
      teams: from.teams ?? [],
      users: from.users ?? [],
      codeowners: from.codeowners ?? false,
    },
    codeowners,
  };
}

let nextId = 1;
function review(
  user: string | null,
  state: string,
  opts: { commit?: string; at?: string; id?: number } = {},
): ReviewFact {
  return {
    id: opts.id ?? nextId++,
    user,
    state,
    commitId: opts.commit ?? HEAD,
    submittedAt: state === 'PENDING' ? null : (opts.at ?? `2026-01-01T10:0${nextId % 10}:00Z`),
  };
}

const members = new Map<string, ReadonlySet<string>>([
  ['acme/dba', new Set(['dora', 'dan'])],
  ['acme/security', new Set(['sam'])],
]);

function input(over: Partial<ApprovalInput>): ApprovalInput {
  return {
    prAuthor: 'alice',
    headSha: HEAD,
    commits: [{ sha: 'c1', author: 'alice', committer: 'web-flow' }],
    reviews: [],
    requirements: [req(1, { teams: ['acme/dba'] })],
    membership: { teamMembers: members },
    ...over,
  };
}

interface Case {
  readonly name: string;
  readonly input: Partial<ApprovalInput>;
  readonly satisfied: boolean;
  /** Expected reasons of each review, in input order. */
  readonly reasons: readonly (readonly ReviewReason[])[];
}

const at = (minute: number): string => `2026-01-01T10:${String(minute).padStart(2, '0')}:00Z`;

const CASES: readonly Case[] = [
  {
    name: 'active team member approves on head',
    input: { reviews: [review('dora', 'APPROVED')] },
    satisfied: true,
    reasons: [['counted']],
  },
  {
    name: 'logins compare case-insensitively',
    input: { reviews: [review('Dora', 'APPROVED')] },
    satisfied: true,
    reasons: [['counted']],
  },
  {
    name: 'author self-approval never counts',
    input: {
      prAuthor: 'dora',
      commits: [{ sha: 'c1', author: 'dora', committer: 'dora' }],
      reviews: [review('dora', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['author', 'committer']],
  },
  {
    name: 'co-committer approval never counts',
    input: {
      commits: [
        { sha: 'c1', author: 'alice', committer: 'alice' },
        { sha: 'c2', author: 'alice', committer: 'dan' },
      ],
      reviews: [review('dan', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['committer']],
  },
  {
    name: 'approval before the latest push is stale',
    input: { reviews: [review('dora', 'APPROVED', { commit: OLD })] },
    satisfied: false,
    reasons: [['stale_commit']],
  },
  {
    name: 'changes requested after approval blocks',
    input: {
      requirements: [req(1, { teams: ['acme/dba'] })],
      reviews: [
        review('dan', 'APPROVED', { at: at(1) }),
        review('dora', 'APPROVED', { at: at(2) }),
        review('dora', 'CHANGES_REQUESTED', { at: at(3) }),
      ],
    },
    satisfied: false,
    reasons: [['counted'], ['not_latest'], ['changes_requested']],
  },
  {
    name: 'changes requested by someone who does not qualify does not block',
    input: {
      reviews: [
        review('dora', 'APPROVED', { at: at(1) }),
        review('eve', 'CHANGES_REQUESTED', { at: at(2) }),
      ],
    },
    satisfied: true,
    reasons: [['counted'], ['changes_requested', 'not_qualified']],
  },
  {
    name: 'a later approval lifts the reviewer’s own change request',
    input: {
      reviews: [
        review('dora', 'CHANGES_REQUESTED', { at: at(1) }),
        review('dora', 'APPROVED', { at: at(2) }),
      ],
    },
    satisfied: true,
    reasons: [['not_latest', 'changes_requested'], ['counted']],
  },
  {
    name: 'dismissed approval does not count, and an older approval does not revive',
    input: {
      reviews: [
        review('dora', 'APPROVED', { at: at(1) }),
        review('dora', 'DISMISSED', { at: at(2) }),
      ],
    },
    satisfied: false,
    reasons: [['not_latest'], ['dismissed']],
  },
  {
    name: 'comment review after approval changes no verdict',
    input: {
      reviews: [
        review('dora', 'APPROVED', { at: at(1) }),
        review('dora', 'COMMENTED', { at: at(2) }),
      ],
    },
    satisfied: true,
    reasons: [['counted'], ['commented']],
  },
  {
    name: 'non-member does not qualify',
    input: { reviews: [review('eve', 'APPROVED')] },
    satisfied: false,
    reasons: [['not_qualified']],
  },
  {
    name: 'pending invite (absent from active members) does not qualify',
    input: {
      membership: { teamMembers: new Map([['acme/dba', new Set<string>()]]) },
      reviews: [review('dora', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['not_qualified']],
  },
  {
    name: 'listed user qualifies',
    input: { requirements: [req(1, { users: ['@Zed'] })], reviews: [review('zed', 'APPROVED')] },
    satisfied: true,
    reasons: [['counted']],
  },
  {
    name: 'CODEOWNER user and CODEOWNER team member qualify; others do not',
    input: {
      requirements: [req(2, { codeowners: true }, ['@zed', '@acme/security', 'ops@acme.example'])],
      reviews: [review('zed', 'APPROVED'), review('sam', 'APPROVED'), review('dora', 'APPROVED')],
    },
    satisfied: true,
    reasons: [['counted'], ['counted'], ['not_qualified']],
  },
  {
    name: 'CODEOWNERS do not qualify when the requirement does not name them',
    input: {
      requirements: [req(1, { teams: ['acme/security'] }, ['@zed'])],
      reviews: [review('zed', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['not_qualified']],
  },
  {
    name: 'two approvals needed, one given',
    input: {
      requirements: [req(2, { teams: ['acme/dba'] })],
      reviews: [review('dora', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['counted']],
  },
  {
    name: 'surplus approval is not needed',
    input: { reviews: [review('dora', 'APPROVED'), review('dan', 'APPROVED')] },
    satisfied: true,
    reasons: [['counted'], ['not_needed']],
  },
  {
    name: 'one person counts toward one requirement only',
    input: {
      requirements: [req(1, { teams: ['acme/dba'] }), req(1, { users: ['dora'] })],
      reviews: [review('dora', 'APPROVED')],
    },
    satisfied: false,
    reasons: [['counted']],
  },
  {
    name: 'matching reassigns a flexible reviewer (greedy would fail)',
    input: {
      requirements: [req(1, { teams: ['acme/dba'] }), req(1, { users: ['dora'] })],
      // dora qualifies for both; dan only for the team. Greedy in review order would give
      // dora the team slot and leave the user slot empty.
      reviews: [review('dora', 'APPROVED'), review('dan', 'APPROVED')],
    },
    satisfied: true,
    reasons: [['counted'], ['counted']],
  },
  {
    name: 'deleted account and pending review never count',
    input: { reviews: [review(null, 'APPROVED'), review('dora', 'PENDING')] },
    satisfied: false,
    reasons: [['no_user'], ['pending']],
  },
  {
    name: 'no requirements (self-service level) is satisfied',
    input: { requirements: [], reviews: [] },
    satisfied: true,
    reasons: [],
  },
];

describe('countApprovals', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const outcome = countApprovals(input(c.input));
      expect(outcome.satisfied).toBe(c.satisfied);
      expect(outcome.reviews.map((r) => r.reasons)).toEqual(c.reasons);
    });
  }

  it('reports who is missing per requirement and who blocks', () => {
    const outcome = countApprovals(
      input({
        requirements: [req(2, { teams: ['acme/dba'] }), req(1, { teams: ['acme/security'] })],
        reviews: [
          review('dora', 'APPROVED', { id: 101, at: at(1) }),
          review('sam', 'CHANGES_REQUESTED', { id: 102, at: at(2) }),
        ],
      }),
    );
    expect(outcome.requirements.map((r) => r.missing)).toEqual([1, 1]);
    expect(outcome.approvers).toEqual([{ login: 'dora', reviewId: 101 }]);
    expect(outcome.blockedBy).toEqual([{ login: 'sam', reviewId: 102 }]);
    expect(outcome.reviews[0]?.requirement).toBe(0);
  });

  it('asks membership only for reviewers with a live verdict, per named team', () => {
    const queries = membershipQueries({
      prAuthor: 'alice',
      headSha: HEAD,
      commits: [],
      requirements: [
        req(1, { teams: ['@ACME/dba'], codeowners: true }, ['@acme/security', '@zed']),
      ],
      reviews: [review('dora', 'APPROVED'), review('eve', 'DISMISSED'), review('sam', 'COMMENTED')],
    });
    expect(queries).toEqual([
      { team: 'acme/dba', login: 'dora' },
      { team: 'acme/security', login: 'dora' },
    ]);
  });

  it('detects a requirement nobody can meet', () => {
    expect(hasNoPossibleApprover(req(1, { codeowners: true }, []))).toBe(true);
    expect(hasNoPossibleApprover(req(1, { codeowners: true }, ['ops@acme.example']))).toBe(true);
    expect(hasNoPossibleApprover(req(1, { codeowners: true }, ['@zed']))).toBe(false);
    expect(hasNoPossibleApprover(req(0, {}))).toBe(false);
  });
});
