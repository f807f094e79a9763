import type { ErrorCode } from '../errors/catalogue.js';
import type { ApprovalRequirement } from './risk-policy.js';

/** What the pure policy engine says about one request (or one policy change). An `approve`
 * decision is only ever returned for a request that is within its level's bounds: anything
 * the engine cannot vouch for is an `error` (fail closed). */
export type RiskDecision =
  | {
      readonly kind: 'approve';
      readonly level: string;
      readonly rule: string;
      /** Requirements with CODEOWNERS resolved to the owners of the file. */
      readonly approvals: readonly ResolvedRequirement[];
      readonly maxDurationMs: number;
      /** The request's effective lifetime in ms, measured from `now` for `expires`; 0 for a
       * policy change (`evaluateMetaChange`), which has no lifetime. */
      readonly requestedMs: number;
    }
  | {
      readonly kind: 'deny';
      readonly level: string;
      readonly rule: string;
      readonly message: string;
    }
  | RiskError;

/**
 * - POLICY_NO_RULE: no rule applies (never a success, anchors.md §3).
 * - POLICY_INVALID: the policy names a level it does not define.
 * - POLICY_TEAMS_UNKNOWN: a rule on the requester's teams decides, but the teams were not given.
 * - PR_NO_APPROVERS: the level can never be satisfied (CODEOWNERS wanted, file has no owner,
 *   no team or user named).
 * - REQ_UNKNOWN_DATABASE: the request's fault, not the policy's: fix the file, do not page the
 *   policy owners.
 * - REQ_DURATION_ZERO, REQ_EXPIRES_PAST, REQ_DURATION_TOO_LONG: the lifetime is out of bounds;
 *   `level`, `rule`, `maxDurationMs`, `requestedMs` say which bound.
 */
export type RiskErrorCode = Extract<
  ErrorCode,
  | 'POLICY_NO_RULE'
  | 'POLICY_INVALID'
  | 'POLICY_TEAMS_UNKNOWN'
  | 'PR_NO_APPROVERS'
  | 'REQ_UNKNOWN_DATABASE'
  | 'REQ_DURATION_ZERO'
  | 'REQ_EXPIRES_PAST'
  | 'REQ_DURATION_TOO_LONG'
>;

export interface RiskError {
  readonly kind: 'error';
  readonly code: RiskErrorCode;
  readonly message: string;
  /** The level and rule reached, when the engine got that far. */
  readonly level?: string;
  readonly rule?: string;
  readonly maxDurationMs?: number;
  readonly requestedMs?: number;
}

export interface ResolvedRequirement extends ApprovalRequirement {
  /** Owners of the file from CODEOWNERS (`@user`, `@org/team`, or emails), when
   * `from.codeowners`; an empty list means the file has no owner (and is always empty when
   * `from.codeowners` is false). */
  readonly codeowners: readonly string[];
}

/** A short sentence for check-run titles and CLI output, e.g. "1 approval from @acme/dba" or
 * "2 approvals from @acme/dba or @acme/security". */
export function describeRequirement(req: ResolvedRequirement): string {
  const who: string[] = [];
  const seen = new Set<string>();
  const add = (name: string): void => {
    const display = name.includes('@') ? name : `@${name}`;
    const key = display.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      who.push(display);
    }
  };
  req.codeowners.forEach(add);
  req.from.teams.forEach(add);
  req.from.users.forEach(add);
  const noun = req.count === 1 ? 'approval' : 'approvals';
  if (who.length === 0) {
    return req.from.codeowners
      ? `${req.count} ${noun} from a code owner (the file has none)`
      : `${req.count} ${noun} from nobody (no reviewer is named)`;
  }
  const list =
    who.length === 1 ? who[0] : `${who.slice(0, -1).join(', ')} or ${who[who.length - 1]}`;
  return `${req.count} ${noun} from ${list}`;
}
