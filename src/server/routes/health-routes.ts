import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck } from '../readiness.js';
import '../fastify-types.js';

/** Liveness and readiness probes (Kubernetes semantics:
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/).
 * Public: a probe carries no token. They reveal nothing but up/down per component. */
export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { readonly readiness: ReadinessCheck },
): void {
  app.get('/healthz', { config: { public: true } }, async (_request, reply) =>
    reply.send({ status: 'ok' }),
  );

  app.get<{ Querystring: { databases?: string } }>(
    '/readyz',
    { config: { public: true } },
    async (request, reply) => {
      const withDatabases = ['1', 'true'].includes(request.query.databases ?? '');
      const report = await deps.readiness({ databases: withDatabases });
      return reply.code(report.ready ? 200 : 503).send({
        status: report.ready ? 'ready' : 'not ready',
        checks: report.checks,
        ...(report.databases === undefined ? {} : { databases: report.databases }),
      });
    },
  );
}
