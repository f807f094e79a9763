import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import { parseAuditFilter, type AuditFilterInput } from '../audit/tools/audit-filter-input.js';
import { auditRecordJson } from '../audit/tools/audit-record-json.js';
import { GatehouseError } from '../errors/catalogue.js';
import type { Clock } from '../util/clock.js';
import { sendError } from './error-reply.js';

export interface AuditRouteDeps {
  readonly audit: AuditLog;
  /** From policy `auditors:` (users and teams), see createAuditorCheck. Throws GatehouseError
   * when membership cannot be checked. */
  readonly isAuditor: (login: string) => Promise<boolean>;
  readonly getIdentity: (request: FastifyRequest) => { readonly login: string } | null;
  readonly clock: Clock;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const PARAMS: readonly (keyof AuditFilterInput)[] = [
  'user',
  'database',
  'since',
  'until',
  'decision',
  'grant',
  'type',
  'afterSeq',
  'limit',
];

/**
 * GET /v1/audit (issue 6): the audit log for auditors, with the filters of `gatehouse audit`
 * in the query string (user, database, since, until, decision, grant, type) and keyset
 * pagination (afterSeq, limit: default 100, at most 1000; pass `nextAfterSeq` back as
 * afterSeq for the next page; it is null on the last page).
 *
 * Only auditors (policies: `auditors:`) may read; every read, and every refused read, is
 * itself an `audit.read` record. The read is recorded before the records leave: when the log
 * cannot take that record, nothing is returned (503 AUDIT_UNAVAILABLE), as for queries.
 */
export function registerAuditRoute(app: FastifyInstance, deps: AuditRouteDeps): void {
  app.get('/v1/audit', async (request, reply) => {
    const identity = deps.getIdentity(request);
    if (identity === null) return sendError(reply, 'AUTH_MISSING');

    const query = (request.query ?? {}) as Record<string, unknown>;
    const input: Record<string, string> = {};
    for (const [key, value] of Object.entries(query)) {
      if (!(PARAMS as readonly string[]).includes(key)) {
        return sendError(
          reply,
          'AUDIT_FILTER_INVALID',
          `Unknown parameter '${key}'; use ${PARAMS.join(', ')}.`,
        );
      }
      if (typeof value !== 'string') {
        return sendError(
          reply,
          'AUDIT_FILTER_INVALID',
          `Parameter '${key}' is given more than once.`,
        );
      }
      input[key] = value;
    }
    const event = {
      type: 'audit.read' as const,
      actor: identity.login,
      requestId: request.id,
      clientAddress: request.ip,
    };

    let allowed: boolean;
    try {
      allowed = await deps.isAuditor(identity.login);
    } catch (error) {
      if (error instanceof GatehouseError) return sendError(reply, error.code, error.message);
      throw error;
    }
    if (!allowed) {
      // A refused read is worth knowing about too; if even that cannot be recorded, the
      // answer is still 403.
      await deps.audit
        .append({
          ...event,
          decision: 'refused',
          code: 'AUTH_FORBIDDEN',
          details: { filter: input },
        })
        .catch((error: unknown) => request.log.error({ err: error }, 'audit.read not recorded'));
      return sendError(
        reply,
        'AUTH_FORBIDDEN',
        `${identity.login} is not an auditor: only the users and teams under auditors: in policies/ may read the audit log.`,
      );
    }

    const parsed = parseAuditFilter(input, deps.clock());
    if (!parsed.ok) return sendError(reply, 'AUDIT_FILTER_INVALID', parsed.message);
    const limit = Math.min(parsed.filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const filter = { ...parsed.filter, limit };

    let records;
    try {
      records = await deps.audit.query(filter);
    } catch (error) {
      if (error instanceof GatehouseError) return sendError(reply, error.code, error.message);
      throw error;
    }
    const nextAfterSeq = records.length === limit ? (records.at(-1)?.seq ?? null) : null;
    try {
      await deps.audit.append({
        ...event,
        decision: 'allowed',
        details: { filter: input, returned: records.length, nextAfterSeq },
      });
    } catch (error) {
      request.log.error({ err: error }, 'audit.read not recorded; records withheld');
      return sendError(reply, 'AUDIT_UNAVAILABLE');
    }
    return reply.send({ records: records.map(auditRecordJson), nextAfterSeq });
  });
}
