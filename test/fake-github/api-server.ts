import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppJwtVerifier, looksLikeJwt } from './app-jwt.js';
import { FaultInjector } from './fault-injector.js';
import type { FakeOperations } from './fake-operations.js';
import type { FakeState } from './fake-state.js';
import { FakeHttpError, notFound } from './http-error.js';
import { RateLimiter, rateLimitHeaders } from './rate-limiter.js';
import type { Urls } from './representations.js';
import { Router } from './router.js';
import type { Actor, RouteResult } from './router.js';
import { registerAppRoutes } from './routes/app-routes.js';
import { registerCheckRoutes } from './routes/check-routes.js';
import { registerContentsRoutes } from './routes/contents-routes.js';
import { registerCommitRoute, registerGitRoutes } from './routes/git-routes.js';
import { registerIssueRoutes } from './routes/issue-routes.js';
import { registerOrgRoutes } from './routes/org-routes.js';
import { registerPullRoutes } from './routes/pull-routes.js';

export interface RecordedRequest {
  readonly method: string;
  /** Path below the API root (without `/api/v3`), as sent (URL-encoded). */
  readonly path: string;
  /** Octokit route template that served it, e.g. `/repos/{owner}/{repo}/pulls`; null: unknown route. */
  readonly route: string | null;
  readonly query: Readonly<Record<string, string>>;
  /** Epoch milliseconds when it arrived. */
  readonly at: number;
  /** `login` of the caller, `app` for a JWT, null when anonymous. */
  readonly actor: string | null;
  status: number;
}

export interface ApiServerOptions {
  readonly state: FakeState;
  readonly latencyMs: number;
  readonly rateLimit: number;
  readonly enforceRateLimit: boolean;
  readonly privateKeyPem: string | undefined;
}

const API_PREFIX = '/api/v3';

/**
 * The HTTP side of the fake: resolves credentials (app JWT, installation and user tokens),
 * records every request, applies latency, injected faults and rate-limit headers, routes
 * to the handlers and answers in GitHub's JSON error shape.
 */
export class ApiServer {
  /** Every API request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  readonly faults = new FaultInjector();
  readonly #state: FakeState;
  readonly #latencyMs: number;
  readonly #limiter: RateLimiter;
  readonly #jwt: AppJwtVerifier;
  readonly #router = new Router();
  readonly #server: Server;
  #urls: () => Urls = () => {
    throw new Error('FakeGitHub is not listening yet');
  };
  #ops: () => FakeOperations = () => {
    throw new Error('FakeGitHub is not listening yet');
  };
  #inFlight = 0;

  constructor(options: ApiServerOptions) {
    this.#state = options.state;
    this.#latencyMs = options.latencyMs;
    this.#limiter = new RateLimiter(options.rateLimit, options.enforceRateLimit);
    this.#jwt = new AppJwtVerifier(options.state.appId, options.privateKeyPem);
    // Order matters where templates overlap: `commits/{+ref}` takes any ref, so it goes last.
    registerAppRoutes(this.#router);
    registerOrgRoutes(this.#router);
    registerCheckRoutes(this.#router);
    registerPullRoutes(this.#router);
    registerIssueRoutes(this.#router);
    registerContentsRoutes(this.#router);
    registerGitRoutes(this.#router);
    registerCommitRoute(this.#router);
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** Listens on 127.0.0.1 and returns the URLs; `operations` is built once they are known. */
  async listen(port: number, operations: (urls: Urls) => FakeOperations): Promise<Urls> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const web = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    const urls: Urls = { api: `${web}${API_PREFIX}`, web };
    const ops = operations(urls);
    this.#urls = () => urls;
    this.#ops = () => ops;
    return urls;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight++;
    try {
      const requestUrl = new URL(req.url ?? '/', this.#urls().web);
      const method = (req.method ?? 'GET').toUpperCase();
      const rawPath = requestUrl.pathname;
      // GitHub Enterprise serves the API under /api/v3; github.com-style clients call `/`.
      const path =
        rawPath === API_PREFIX
          ? '/'
          : rawPath.startsWith(`${API_PREFIX}/`)
            ? rawPath.slice(API_PREFIX.length)
            : rawPath;
      const match = this.#router.match(method, path);
      const actor = this.#actor(req.headers.authorization);
      const record: RecordedRequest = {
        method,
        path,
        route: match === undefined ? null : match.route.template,
        query: Object.fromEntries(requestUrl.searchParams),
        at: Date.now(),
        actor: actor instanceof FakeHttpError ? null : actorName(actor),
        status: 0,
      };
      this.requests.push(record);
      const body = await readBody(req);
      if (this.#latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
      const limitKey = actor instanceof FakeHttpError ? 'anonymous' : rateLimitKey(actor);
      const { status: limit, refused } = this.#limiter.take(limitKey);
      const headers = {
        ...rateLimitHeaders(limit),
        'x-github-api-version-selected': '2022-11-28',
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': randomUUID(),
      };
      const result = await this.#answer(
        record,
        match,
        actor,
        body,
        requestUrl,
        req,
        limit,
        refused,
      );
      record.status = result.status;
      const finalHeaders: Record<string, string> = { ...headers, ...(result.headers ?? {}) };
      if (result.raw !== undefined) {
        res.writeHead(result.status, finalHeaders);
        res.end(result.raw);
      } else if (result.status === 204 || result.body === undefined) {
        res.writeHead(result.status, finalHeaders);
        res.end();
      } else {
        res.writeHead(result.status, {
          'content-type': 'application/json; charset=utf-8',
          ...finalHeaders,
        });
        res.end(JSON.stringify(result.body));
      }
    } catch (error) {
      // A bug in the fake itself: answer 500 with the reason so the test output shows it.
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          message: `Fake GitHub bug: ${error instanceof Error ? error.stack : String(error)}`,
        }),
      );
    } finally {
      this.#inFlight--;
    }
  }

  async #answer(
    record: RecordedRequest,
    match: ReturnType<Router['match']>,
    actor: Actor | FakeHttpError,
    body: unknown,
    requestUrl: URL,
    req: IncomingMessage,
    limit: ReturnType<RateLimiter['peek']>,
    refused: boolean,
  ): Promise<RouteResult> {
    const fail = (error: FakeHttpError): RouteResult => ({
      status: error.status,
      body: error.body,
      headers: error.headers,
    });
    if (body instanceof FakeHttpError) return fail(body);
    const injected = this.faults.take(record, limit);
    if (injected !== undefined) return fail(injected);
    if (match === undefined) return fail(notFound());
    if (actor instanceof FakeHttpError) return fail(actor);
    const auth = match.route.auth;
    if (auth === 'jwt' && actor.kind !== 'app') {
      return fail(new FakeHttpError(401, 'A JSON web token could not be decoded'));
    }
    if (auth === 'token') {
      if (actor.kind === 'anonymous')
        return fail(new FakeHttpError(401, 'Requires authentication'));
      if (actor.kind === 'app')
        return fail(new FakeHttpError(403, 'Resource not accessible by integration'));
    }
    if (refused) {
      return fail(
        new FakeHttpError(403, 'API rate limit exceeded', {}, { 'x-ratelimit-remaining': '0' }),
      );
    }
    try {
      return await match.route.handler({
        method: record.method,
        path: record.path,
        params: match.params,
        query: requestUrl.searchParams,
        body,
        headers: req.headers,
        actor,
        requestUrl,
        state: this.#state,
        ops: this.#ops(),
        urls: this.#urls(),
        rateLimit: limit,
      });
    } catch (error) {
      if (error instanceof FakeHttpError) return fail(error);
      throw error;
    }
  }

  #actor(header: string | undefined): Actor | FakeHttpError {
    if (header === undefined || header === '') return { kind: 'anonymous' };
    const found = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
    if (found === null) return new FakeHttpError(401, 'Bad credentials');
    const token = found[1]!;
    if (looksLikeJwt(token)) {
      const problem = this.#jwt.check(token);
      return problem === null ? { kind: 'app' } : new FakeHttpError(401, problem);
    }
    const credential = this.#state.credentials.get(token);
    if (credential === undefined) return new FakeHttpError(401, 'Bad credentials');
    if (credential.kind === 'user') return { kind: 'user', account: credential.account };
    const installation = this.#state.installations.get(credential.installationId);
    if (installation === undefined || credential.expiresAt.getTime() <= Date.now()) {
      return new FakeHttpError(401, 'Bad credentials');
    }
    return { kind: 'installation', installation, account: this.#state.bot };
  }
}

function actorName(actor: Actor): string | null {
  switch (actor.kind) {
    case 'anonymous':
      return null;
    case 'app':
      return 'app';
    default:
      return actor.account.login;
  }
}

/** GitHub budgets per installation (not per token) and per user. */
function rateLimitKey(actor: Actor): string {
  switch (actor.kind) {
    case 'installation':
      return `installation:${actor.installation.id}`;
    case 'user':
      return `user:${actor.account.id}`;
    default:
      return actor.kind;
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new FakeHttpError(400, 'Problems parsing JSON');
  }
}
