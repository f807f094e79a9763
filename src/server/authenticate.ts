import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors/catalogue.js';
import type { IdentityProvider } from '../identity/identity-provider.js';
import { sendError } from './error-reply.js';
import './fastify-types.js';

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive. */
const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * onRequest hook: runs before the body is even parsed, so an unauthenticated caller gets its
 * 401 before anything else happens (issue 5). Every route needs a token unless its config
 * says `public: true`; unknown routes too, so probing without a token learns nothing.
 */
export function authenticate(provider: IdentityProvider) {
  return async function authenticateHook(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    if (request.routeOptions.config.public === true) return;
    // RFC 6750 §3: a 401 names the scheme the resource expects.
    reply.header('www-authenticate', 'Bearer realm="gatehouse"');
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      await sendError(reply, 'AUTH_MISSING', 'Send Authorization: Bearer <GitHub token>.');
      return;
    }
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (token === undefined) {
      await sendError(reply, 'AUTH_INVALID', 'The Authorization header is not "Bearer <token>".');
      return;
    }
    let identity;
    try {
      identity = await provider.authenticate(token);
    } catch (error) {
      if (error instanceof GatehouseError) {
        request.log.warn({ code: error.code }, 'identity provider unavailable');
        await sendError(reply, error.code, error.message);
        return;
      }
      throw error;
    }
    if (identity === null) {
      await sendError(reply, 'AUTH_INVALID', 'The token was not accepted; sign in again.');
      return;
    }
    reply.removeHeader('www-authenticate');
    request.identity = identity;
    // The login, never the token, goes to the logs of this request.
    request.log = request.log.child({ login: identity.login });
  };
}
