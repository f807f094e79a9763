/**
 * The HTTP app factory, separate from listening (Fastify's `build()` pattern): tests call
 * `app.inject()` or `listen({ port: 0 })`; the wiring (src/wiring.ts) listens on PORT.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { QueryLimits } from '../config/config.js';
import { GatehouseError } from '../errors/catalogue.js';
import type { QueryService } from '../gateway/query-service.js';
import type { IdentityProvider } from '../identity/identity-provider.js';
import type { Clock } from '../util/clock.js';
import { authenticate } from './authenticate.js';
import { sendError } from './error-reply.js';
import type { ReadinessCheck } from './readiness.js';
import { requestIdOf } from './request-id.js';
import { registerGrantsRoute } from './routes/grants-route.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerQueryRoute } from './routes/query-route.js';
import { registerWebhookRoute } from './routes/webhook-route.js';
import type { WebhookReceiver } from './webhook-receiver.js';
import './fastify-types.js';

export interface ServerDeps {
  readonly queryService: QueryService;
  readonly identity: IdentityProvider;
  readonly audit: AuditLog;
  readonly limits: QueryLimits;
  readonly readiness: ReadinessCheck;
  /** Probot's `app.webhooks`; null when no GitHub App is configured (the route answers 503). */
  readonly webhooks: WebhookReceiver | null;
  readonly clock: Clock;
  /** A pino logger (shared with Probot by the wiring); no logging when absent. */
  readonly logger?: FastifyBaseLogger;
  /** Fastify's trustProxy, so `request.ip` is the real client behind a load balancer. */
  readonly trustProxy?: boolean | number | readonly string[];
  /** Extra routes registered by later tasks (e.g. GET /v1/audit), behind the same auth. */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
}

/** A hop count becomes proxy-addr's trust function (trust the n nearest hops). */
function fastifyTrustProxy(
  value: boolean | number | readonly string[],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return typeof value === 'boolean' ? value : [...value];
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const trustProxy = deps.trustProxy;
  const app = Fastify({
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }),
    genReqId: requestIdOf,
    ...(trustProxy === undefined ? {} : { trustProxy: fastifyTrustProxy(trustProxy) }),
    // Strict validation: no type coercion ("10" is not a number) and unknown keys are an
    // error, not silently removed (Fastify's default ajv options do both).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // One log line per request, written when it completes (below), instead of Fastify's two.
    // (A LogController: the top-level disableRequestLogging is deprecated, FSTDEP023.)
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  app.decorateRequest('identity', null);
  app.decorateRequest('logDetails', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // At debug level, also a line when it starts (pino skips it otherwise).
    request.log.debug({ req: request }, 'incoming request');
  });
  // The request's line: method, URL, client, status, time, the login (bound by the
  // authentication hook) and what the route added (a query's audit id and row count).
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { req: request, res: reply, responseTime: reply.elapsedTime, ...request.logDetails },
      'request completed',
    );
  });
  app.addHook('onRequest', authenticate(deps.identity));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof GatehouseError) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      return sendError(reply, error.code, error.message, { hint: error.hint });
    }
    if (error.validation !== undefined) {
      return sendError(reply, 'BAD_REQUEST', `Invalid request: ${error.message}.`);
    }
    // Fastify's own client errors: unparsable JSON, wrong content type, body too large.
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, 'BAD_REQUEST', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(
      reply,
      'INTERNAL',
      `An internal error occurred; quote request id ${request.id} to the operators.`,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
  );

  registerHealthRoutes(app, { readiness: deps.readiness });
  registerWebhookRoute(app, { webhooks: deps.webhooks, audit: deps.audit, clock: deps.clock });
  registerQueryRoute(app, { queryService: deps.queryService, limits: deps.limits });
  registerGrantsRoute(app, { queryService: deps.queryService });
  for (const plugin of deps.plugins ?? []) void app.register(async (scope) => plugin(scope));
  return app;
}
