import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Clock } from '../../util/clock.js';
import { sendError } from '../error-reply.js';
import type { WebhookReceiver } from '../webhook-receiver.js';
import '../fastify-types.js';

export const WEBHOOK_PATH = '/api/github/webhooks';

/** GitHub caps webhook payloads at 25 MB:
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap */
const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

/** GitHub abandons a delivery that gets no answer within 10 s; answer 202 before that and let
 * the handlers finish. Same choice as @octokit/webhooks' middleware:
 * https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-10-seconds */
const ANSWER_WITHIN_MS = 9000;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * POST /api/github/webhooks: Probot's webhook route. The body is kept as the raw string
 * GitHub signed and the signature is checked BEFORE anything parses it (the
 * @octokit/webhooks rule: the HMAC is over the exact bytes). A bad or missing signature is
 * refused with 401 WEBHOOK_SIGNATURE, no handler runs, and the refusal is audited.
 */
export function registerWebhookRoute(
  app: FastifyInstance,
  deps: {
    readonly webhooks: WebhookReceiver | null;
    readonly audit: AuditLog;
    readonly clock: Clock;
  },
): void {
  // An encapsulated plugin, so the raw-string parser applies to this route only.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );

    scope.post<{ Body: string }>(
      WEBHOOK_PATH,
      { config: { public: true }, bodyLimit: WEBHOOK_BODY_LIMIT },
      async (request, reply) => {
        const webhooks = deps.webhooks;
        if (webhooks === null) {
          return sendError(
            reply,
            'CONFIG_GITHUB_APP_MISSING',
            'No GitHub App is configured: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET (docs/configuration.md).',
          );
        }
        const payload = typeof request.body === 'string' ? request.body : '';
        const signature = header(request, 'x-hub-signature-256');
        const name = header(request, 'x-github-event');
        const id = header(request, 'x-github-delivery');

        const signed =
          signature !== undefined && (await webhooks.verify(payload, signature).catch(() => false));
        if (!signed) {
          request.log.warn({ event: name, delivery: id }, 'webhook signature refused');
          try {
            await deps.audit.append(
              {
                type: 'webhook.signature_refused',
                actor: null,
                requestId: request.id,
                clientAddress: request.ip,
                code: 'WEBHOOK_SIGNATURE',
                decision: 'refused',
                details: {
                  event: name ?? null,
                  delivery: id ?? null,
                  signature: signature === undefined ? 'missing' : 'mismatch',
                },
              },
              deps.clock(),
            );
          } catch (error) {
            request.log.error({ err: error }, 'could not audit a refused webhook');
          }
          return sendError(
            reply,
            'WEBHOOK_SIGNATURE',
            signature === undefined
              ? 'The X-Hub-Signature-256 header is missing.'
              : 'The X-Hub-Signature-256 signature does not match the payload and the webhook secret.',
          );
        }
        if (name === undefined || id === undefined) {
          return sendError(
            reply,
            'BAD_REQUEST',
            'The X-GitHub-Event and X-GitHub-Delivery headers are required.',
          );
        }

        const receiving = webhooks.verifyAndReceive({ id, name, payload, signature });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), ANSWER_WITHIN_MS);
          timer.unref();
        });
        try {
          const result = await Promise.race([receiving.then(() => 'done' as const), timedOut]);
          if (result === 'timeout') {
            receiving.catch((error: unknown) =>
              request.log.error(
                { err: error, event: name, delivery: id },
                'webhook handler failed',
              ),
            );
            return reply.code(202).send({ status: 'accepted' });
          }
          return reply.code(200).send({ status: 'ok' });
        } catch (error) {
          // @octokit/webhooks rejects with an AggregateError; a status of 400 means the
          // signed payload was not JSON.
          const inner = (error as { errors?: readonly { status?: number }[] }).errors?.[0];
          if (inner?.status === 400) {
            return sendError(reply, 'BAD_REQUEST', 'The webhook payload is not valid JSON.');
          }
          request.log.error({ err: error, event: name, delivery: id }, 'webhook handler failed');
          return sendError(reply, 'INTERNAL', `The ${name} event could not be handled.`);
        } finally {
          clearTimeout(timer);
        }
      },
    );
  });
}
