import type { FastifyInstance } from 'fastify';
import type { QueryService } from '../../gateway/query-service.js';
import { sendError } from '../error-reply.js';
import '../fastify-types.js';

/** GET /v1/grants: the caller's grants usable now, with expiry and the PR that approved each. */
export function registerGrantsRoute(
  app: FastifyInstance,
  deps: { readonly queryService: QueryService },
): void {
  app.get('/v1/grants', async (request, reply) => {
    const identity = request.identity;
    if (identity === null) return sendError(reply, 'AUTH_MISSING');
    const grants = await deps.queryService.activeGrants(identity.login);
    return reply.send({
      login: identity.login,
      grants: grants.map((grant) => ({
        id: grant.id,
        database: grant.database,
        tables: grant.tables,
        access: grant.access,
        level: grant.level,
        reason: grant.reason,
        ticket: grant.ticket,
        activatedAt: grant.activatedAt.toISOString(),
        expiresAt: grant.expiresAt.toISOString(),
        prNumber: grant.prNumber,
        prUrl: grant.prUrl,
        filePath: grant.filePath,
        approvers: grant.approvers.map((approver) => approver.login),
      })),
    });
  });
}
