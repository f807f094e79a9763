import type { ApprovalRequirement } from './risk-policy.js';

/** What the pure policy engine says about one request (or one policy change). */
export type RiskDecision =
  | {
      readonly kind: 'approve';
      readonly level: string;
      readonly rule: string;
      /** Requirements with CODEOWNERS resolved to the owners of the file. */
      readonly approvals: readonly ResolvedRequirement[];
      readonly maxDurationMs: number;
      /** The request's effective lifetime in ms, measured from `now` for `expires`. */
      readonly requestedMs: number;
    }
  | {
      readonly kind: 'deny';
      readonly level: string;
      readonly rule: string;
      readonly message: string;
    }
  | {
      readonly kind: 'error';
      readonly code: 'POLICY_NO_RULE' | 'POLICY_INVALID';
      readonly message: string;
    };

export interface ResolvedRequirement extends ApprovalRequirement {
  /** Owners of the file from CODEOWNERS (`@user`, `@org/team`, or emails), when
   * `from.codeowners`; an empty list means the file has no owner. */
  readonly codeowners: readonly string[];
}
