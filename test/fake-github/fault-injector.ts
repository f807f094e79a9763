import { STATUS_CODES } from 'node:http';
import { FakeHttpError } from './http-error.js';

/** What a matcher sees of a request. `route` is the Octokit template, or null if unknown. */
export interface RequestDescription {
  readonly method: string;
  readonly path: string;
  readonly route: string | null;
}

/**
 * Selects requests: `'GET /repos/{owner}/{repo}/pulls/{pull_number}/files'` (a route
 * template, as Octokit spells it), `'GET /repos/acme/access/pulls/1/files'` (a concrete
 * path), either without the method (any method), `'*'` (everything), a RegExp tested on
 * `'METHOD /path'`, or a predicate.
 */
export type RequestMatcher = string | RegExp | ((request: RequestDescription) => boolean);

export interface FailureOptions {
  /** Response message; defaults follow GitHub's for the status. */
  readonly message?: string;
  /** For 403/429 rate limits: seconds until `x-ratelimit-reset` (default 1). */
  readonly resetInSeconds?: number;
  /** Makes a 403/429 a secondary rate limit with this `retry-after` (seconds). */
  readonly retryAfterSeconds?: number;
}

interface Rule {
  readonly matcher: RequestMatcher;
  readonly status: number;
  remaining: number;
  readonly options: FailureOptions;
}

export function requestMatches(matcher: RequestMatcher, request: RequestDescription): boolean {
  if (typeof matcher === 'function') return matcher(request);
  const line = `${request.method} ${request.path}`;
  if (matcher instanceof RegExp) return matcher.test(line);
  if (matcher === '*') return true;
  const [first, ...rest] = matcher.split(' ');
  const hasMethod = rest.length > 0;
  const method = hasMethod ? first : undefined;
  const target = hasMethod ? rest.join(' ') : matcher;
  if (method !== undefined && method.toUpperCase() !== request.method) return false;
  return target === request.route || target === request.path;
}

/**
 * Answers matching requests with an error a given number of times, in the shapes GitHub
 * uses: 5xx, a primary rate limit (403 with `x-ratelimit-remaining: 0` and a reset time),
 * or a secondary rate limit (403/429 with `retry-after`), which Octokit's retry and
 * throttling plugins react to. See https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
export class FaultInjector {
  readonly #rules: Rule[] = [];

  add(matcher: RequestMatcher, status: number, count: number, options: FailureOptions): void {
    this.#rules.push({ matcher, status, remaining: count, options });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** The error to answer with, consuming one use of the first matching rule. */
  take(
    request: RequestDescription,
    rateLimit: { limit: number; used: number },
  ): FakeHttpError | undefined {
    const rule = this.#rules.find((r) => r.remaining > 0 && requestMatches(r.matcher, request));
    if (rule === undefined) return undefined;
    rule.remaining--;
    return failure(rule.status, rule.options, rateLimit);
  }
}

function failure(
  status: number,
  options: FailureOptions,
  rateLimit: { limit: number; used: number },
): FakeHttpError {
  const reset = String(Math.floor(Date.now() / 1000) + (options.resetInSeconds ?? 1));
  if ((status === 403 || status === 429) && options.retryAfterSeconds !== undefined) {
    return new FakeHttpError(
      status,
      options.message ??
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      {},
      { 'retry-after': String(options.retryAfterSeconds) },
    );
  }
  if (status === 403 || status === 429) {
    return new FakeHttpError(
      status,
      options.message ??
        'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.',
      {},
      {
        'x-ratelimit-limit': String(rateLimit.limit),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': String(rateLimit.limit),
        'x-ratelimit-reset': reset,
        'x-ratelimit-resource': 'core',
      },
    );
  }
  if (status >= 500) return new FakeHttpError(status, options.message ?? 'Server Error');
  return new FakeHttpError(status, options.message ?? STATUS_CODES[status] ?? 'Error');
}
