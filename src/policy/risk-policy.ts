/** policies/risk.yaml, after validation. Rules are tried in order; the first match wins. */

/** Who may approve: CODEOWNERS of the changed file and/or named teams (`org/slug`) and users. */
export interface ReviewerSpec {
  readonly codeowners: boolean;
  readonly teams: readonly string[];
  readonly users: readonly string[];
}

/** `count` distinct qualifying approvals from `from`. A level lists one or more; all must be
 * met, and one person's approval counts towards one requirement only. */
export interface ApprovalRequirement {
  readonly count: number;
  readonly from: ReviewerSpec;
}

export type RiskLevel =
  | {
      readonly name: string;
      readonly kind: 'approve';
      readonly approvals: readonly ApprovalRequirement[];
      readonly maxDurationMs: number;
      readonly maxDurationText: string;
    }
  | { readonly name: string; readonly kind: 'deny'; readonly message: string };

/** A condition is met when every given field matches (absent fields match anything; an empty
 * list matches nothing). See `evaluateRisk` in evaluate-risk.ts. */
export interface RuleMatch {
  readonly environments?: readonly string[];
  readonly databases?: readonly string[];
  /** Globs (`*` any run of characters, `?` one; case-insensitive, see glob.ts) on `table` or
   * `schema.table`; the rule matches when ANY requested table matches ANY glob, each table
   * tried as written, bare and qualified (`salary`, `hr.salary`). `*` in a request matches
   * every glob. Because of ANY, table rules escalate: list them before broader rules, and do
   * not use a table rule to relax the level (bundling a sensitive table would inherit it). */
  readonly tables?: readonly string[];
  /** Matches when the requested lifetime (duration, or expires minus now) is longer than this. */
  readonly durationOverMs?: number;
  /** Matches when the requester is one of `users` (logins) or an active member of one of
   * `teams` (`org/slug`); both compared case-insensitively, a leading `@` ignored. */
  readonly requesters?: { readonly users: readonly string[]; readonly teams: readonly string[] };
}

export interface RiskRule {
  readonly name: string;
  readonly match: RuleMatch;
  readonly level: string;
}

export interface RiskPolicy {
  readonly levels: ReadonlyMap<string, RiskLevel>;
  readonly rules: readonly RiskRule[];
  /** Applies to pull requests that change policies/ or CODEOWNERS (never to requests). */
  readonly meta: { readonly level: string };
  /** Users and teams allowed to read the audit log over HTTP. */
  readonly auditors: { readonly users: readonly string[]; readonly teams: readonly string[] };
  /** Lead time of the reminder comment before expiry. */
  readonly reminderLeadMs: number;
}
