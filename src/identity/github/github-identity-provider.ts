import { GatehouseError } from '../../errors/catalogue.js';
import type { Clock } from '../../util/clock.js';
import { IdentityCache } from '../identity-cache.js';
import {
  isGithubLogin,
  isPlausibleToken,
  type Identity,
  type IdentityProvider,
} from '../identity-provider.js';

export interface GithubIdentityProviderOptions {
  /** REST API base URL without trailing slash: https://api.github.com or https://ghe/api/v3. */
  readonly apiUrl: string;
  readonly clock: Clock;
  /** At most 5 minutes (enforced by the config). */
  readonly cacheTtlMs: number;
  readonly timeoutMs?: number;
  /** Injected in tests that need a transport other than the global fetch. */
  readonly fetch?: typeof fetch;
}

/**
 * A GitHub token (classic, fine-grained, OAuth or GitHub App user-to-server) resolved with
 * `GET /user` (https://docs.github.com/en/rest/users/users#get-the-authenticated-user).
 * 401 means GitHub does not accept the token; 403 that it may not read the user (e.g. an
 * installation token): both are "not an identity". A 403/429 that reports an exhausted rate
 * limit (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api) is
 * "cannot tell", as are network failures and 5xx: AUTH_PROVIDER_UNAVAILABLE.
 */
export function createGithubIdentityProvider(
  options: GithubIdentityProviderOptions,
): IdentityProvider {
  const cache = new IdentityCache(options.cacheTtlMs, options.clock);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const userUrl = `${options.apiUrl.replace(/\/+$/, '')}/user`;

  async function lookup(token: string): Promise<Identity | null> {
    let response: Response;
    try {
      response = await doFetch(userUrl, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'gatehouse',
        },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new GatehouseError(
        'AUTH_PROVIDER_UNAVAILABLE',
        `GitHub (${options.apiUrl}) could not be reached to check the token.`,
        { cause },
      );
    }
    const rateLimited =
      response.status === 429 ||
      (response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0');
    if (rateLimited) {
      await response.body?.cancel();
      throw new GatehouseError(
        'AUTH_PROVIDER_UNAVAILABLE',
        'GitHub rate-limited the token check; try again shortly.',
      );
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return null;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new GatehouseError(
        'AUTH_PROVIDER_UNAVAILABLE',
        `GitHub answered ${response.status} to the token check.`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (cause) {
      throw new GatehouseError(
        'AUTH_PROVIDER_UNAVAILABLE',
        'GitHub answered the token check with a body that is not JSON.',
        { cause },
      );
    }
    const login = (body as { login?: unknown } | null)?.login;
    if (!isGithubLogin(login)) {
      throw new GatehouseError(
        'AUTH_PROVIDER_UNAVAILABLE',
        'GitHub answered the token check without a valid login.',
      );
    }
    return { login, via: 'github' };
  }

  return {
    async authenticate(token) {
      if (!isPlausibleToken(token)) return null;
      return cache.resolve(token, () => lookup(token));
    },
  };
}
