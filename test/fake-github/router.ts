import type { IncomingHttpHeaders } from 'node:http';
import type { Account, FakeState, Installation } from './fake-state.js';
import type { FakeOperations } from './fake-operations.js';
import type { RateLimitStatus } from './rate-limiter.js';
import type { Urls } from './representations.js';

/** Who is calling, resolved from the `Authorization` header. */
export type Actor =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'app' }
  | {
      readonly kind: 'installation';
      readonly installation: Installation;
      readonly account: Account;
    }
  | { readonly kind: 'user'; readonly account: Account };

export interface RouteContext {
  readonly method: string;
  /** Path below the API root (`/repos/o/r/pulls`), still URL-encoded. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly actor: Actor;
  /** The absolute URL the client called, used to build pagination links. */
  readonly requestUrl: URL;
  readonly state: FakeState;
  readonly ops: FakeOperations;
  readonly urls: Urls;
  /** The caller's rate-limit budget after this request. */
  readonly rateLimit: RateLimitStatus;
}

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  /** Sent as-is instead of JSON (raw media type of the contents API). */
  readonly raw?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (ctx: RouteContext) => RouteResult | Promise<RouteResult>;

/**
 * Which credential a route accepts: `jwt` for the app's own endpoints (a JWT signed with
 * the app's private key), `token` for everything an installation or user token can reach.
 * See https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/about-authentication-with-a-github-app
 */
export type RouteAuth = 'jwt' | 'token' | 'none';

export interface Route {
  readonly method: string;
  /** Octokit-style template, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  readonly template: string;
  readonly auth: RouteAuth;
  readonly handler: RouteHandler;
  readonly pattern: RegExp;
  readonly keys: readonly string[];
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/**
 * Matches `METHOD /path` against Octokit route templates. `{name}` is one path segment and
 * `{+name}` may span several (file paths, ref names with slashes). Parameters are decoded
 * after matching, so `%2F`-encoded slashes work as well as literal ones.
 */
export class Router {
  readonly #routes: Route[] = [];

  add(method: string, template: string, handler: RouteHandler, auth: RouteAuth = 'token'): void {
    const keys: string[] = [];
    const source = template
      .split(/(\{\+?[a-z_]+\})/)
      .map((part) => {
        const param = /^\{(\+?)([a-z_]+)\}$/.exec(part);
        if (param === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(param[2]!);
        return param[1] === '+' ? '(.+)' : '([^/]+)';
      })
      .join('');
    this.#routes.push({
      method,
      template,
      auth,
      handler,
      pattern: new RegExp(`^${source}/?$`),
      keys,
    });
  }

  match(method: string, path: string): RouteMatch | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (found === null) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found[i + 1]!);
      });
      return { route, params };
    }
    return undefined;
  }
}
