import type { FastifyInstance } from 'fastify';
import type { QueryLimits } from '../../config/config.js';
import { ERRORS } from '../../errors/catalogue.js';
import type { QueryService } from '../../gateway/query-service.js';
import { MAX_SQL_LENGTH } from '../../sql/analyze-sql.js';
import { sendError } from '../error-reply.js';
import '../fastify-types.js';

interface QueryBody {
  readonly database: string;
  readonly sql: string;
  readonly maxRows?: number;
}

/** POST /v1/query: translates HTTP to the query service and its outcome back to HTTP. */
export function registerQueryRoute(
  app: FastifyInstance,
  deps: { readonly queryService: QueryService; readonly limits: QueryLimits },
): void {
  app.post<{ Body: QueryBody }>(
    '/v1/query',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['database', 'sql'],
          properties: {
            database: { type: 'string', minLength: 1, maxLength: 128 },
            sql: { type: 'string', minLength: 1, maxLength: MAX_SQL_LENGTH },
            maxRows: { type: 'integer', minimum: 1, maximum: deps.limits.maxRowsCap },
          },
        },
      },
    },
    async (request, reply) => {
      const identity = request.identity;
      if (identity === null) return sendError(reply, 'AUTH_MISSING');
      const { database, sql, maxRows } = request.body;
      const outcome = await deps.queryService.query({
        identity,
        database,
        sql,
        ...(maxRows === undefined ? {} : { maxRows }),
        requestId: request.id,
        clientAddress: request.ip,
      });
      if (!outcome.ok) {
        request.logDetails = {
          code: outcome.code,
          ...(outcome.auditId === undefined ? {} : { auditId: outcome.auditId }),
        };
        return reply.code(ERRORS[outcome.code].status).send({
          error: {
            code: outcome.code,
            message: outcome.message,
            ...(outcome.hint === undefined ? {} : { hint: outcome.hint }),
            ...(outcome.auditId === undefined ? {} : { auditId: outcome.auditId }),
          },
        });
      }
      const { result } = outcome;
      // Row counts only: result rows never reach the logs (nor the audit log).
      request.logDetails = {
        auditId: outcome.auditId,
        rows: result.rowCount,
        truncated: result.truncated,
      };
      return reply.code(200).send({
        columns: result.columns,
        rows: result.rows,
        rowCount: result.rowCount,
        truncated: result.truncated,
        auditId: outcome.auditId,
      });
    },
  );
}
