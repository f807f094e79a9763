import type { Identity } from '../identity/identity-provider.js';

// Fastify's documented way to type decorations and route config:
// https://fastify.dev/docs/latest/Reference/TypeScript/#creating-a-typescript-fastify-plugin
declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook; null only on public routes. */
    identity: Identity | null;
    /** Fields a route adds to the request's one log line (never rows, tokens or SQL). */
    logDetails: Readonly<Record<string, unknown>> | null;
  }
  interface FastifyContextConfig {
    /** Served without a bearer token (health probes and the signed webhook route). */
    public?: boolean;
  }
}
