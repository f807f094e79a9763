import type { AuditFilter } from '../audit-log.js';
import type { AuditEventType } from '../audit-record.js';
import { parseTimeBound, TIME_BOUND_HELP } from './time-bound.js';

/** Every audit event type, for validating `--type` / `?type=` (kept complete by the check
 * below: adding a type to AuditEventType without listing it here does not compile). */
export const AUDIT_EVENT_TYPES = [
  'query.attempt',
  'query.outcome',
  'grant.requested',
  'grant.approved',
  'grant.activated',
  'grant.activation_refused',
  'grant.revoked',
  'grant.expired',
  'grant.reminder_sent',
  'grant.revocation_pr_opened',
  'grant.revocation_pr_merged',
  'push.ignored',
  'webhook.signature_refused',
  'config.reloaded',
  'audit.read',
  'audit.checkpoint',
] as const satisfies readonly AuditEventType[];

type Unlisted = Exclude<AuditEventType, (typeof AUDIT_EVENT_TYPES)[number]>;
const everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyTypeListed;

/** The filters an auditor types, as text (CLI flags and the query string of GET /v1/audit
 * share them, so both read the same way). */
export interface AuditFilterInput {
  readonly user?: string | undefined;
  readonly database?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly decision?: string | undefined;
  /** A grant id (`g_…`) or a PR number (`42` or `#42`). */
  readonly grant?: string | undefined;
  /** Comma-separated event types; `grant.*` stands for every grant type. */
  readonly type?: string | undefined;
  readonly afterSeq?: string | undefined;
  readonly limit?: string | undefined;
}

export type AuditFilterParse =
  | { readonly ok: true; readonly filter: AuditFilter }
  | { readonly ok: false; readonly field: keyof AuditFilterInput; readonly message: string };

/** Upper bound of one page, as the stores clamp it. */
export const MAX_PAGE = 1000;

const GRANT_ID = /^g_[0-9a-f]{20}$/;
const PR_NUMBER = /^#?([1-9][0-9]{0,9})$/;
const NON_NEGATIVE = /^(0|[1-9][0-9]{0,15})$/;

/** Turns typed filters into an AuditFilter, or says which field is wrong and why. Pure. */
export function parseAuditFilter(input: AuditFilterInput, now: Date): AuditFilterParse {
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  const fail = (field: keyof AuditFilterInput, message: string): AuditFilterParse => ({
    ok: false,
    field,
    message,
  });
  const text = (value: string | undefined) => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };

  const user = text(input.user);
  if (user !== undefined) filter.actor = user.startsWith('@') ? user.slice(1) : user;
  const database = text(input.database);
  if (database !== undefined) filter.database = database;
  const decision = text(input.decision);
  if (decision !== undefined) filter.decision = decision;

  for (const key of ['since', 'until'] as const) {
    const value = text(input[key]);
    if (value === undefined) continue;
    const at = parseTimeBound(value, now);
    if (at === null) return fail(key, `${key} '${value}' is not ${TIME_BOUND_HELP}`);
    filter[key] = at;
  }
  if (
    filter.since !== undefined &&
    filter.until !== undefined &&
    filter.since.getTime() >= filter.until.getTime()
  ) {
    return fail('until', 'until must be later than since');
  }

  const grant = text(input.grant);
  if (grant !== undefined) {
    const pr = PR_NUMBER.exec(grant);
    if (pr !== null) filter.prNumber = Number(pr[1]);
    else if (GRANT_ID.test(grant)) filter.grantId = grant;
    else
      return fail('grant', `grant '${grant}' is neither a grant id (g_ + 20 hex) nor a PR number`);
  }

  const type = text(input.type);
  if (type !== undefined) {
    const types = new Set<AuditEventType>();
    for (const part of type.split(',').map((p) => p.trim())) {
      const matching = part.endsWith('.*')
        ? AUDIT_EVENT_TYPES.filter((t) => t.startsWith(part.slice(0, -1)))
        : AUDIT_EVENT_TYPES.filter((t) => t === part);
      if (matching.length === 0) {
        return fail('type', `type '${part}' is not one of ${AUDIT_EVENT_TYPES.join(', ')}`);
      }
      for (const t of matching) types.add(t);
    }
    filter.types = [...types];
  }

  const afterSeq = text(input.afterSeq);
  if (afterSeq !== undefined) {
    if (!NON_NEGATIVE.test(afterSeq)) return fail('afterSeq', 'afterSeq must be a whole number');
    filter.afterSeq = Number(afterSeq);
  }
  const limit = text(input.limit);
  if (limit !== undefined) {
    if (!NON_NEGATIVE.test(limit) || Number(limit) < 1) {
      return fail('limit', 'limit must be a positive whole number');
    }
    filter.limit = Number(limit);
  }
  return { ok: true, filter };
}
