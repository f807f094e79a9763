/**
 * How the lifecycle tells GitHub failures apart, so scheduled work stops early on a rate limit
 * (and resumes on its next run) instead of spending the installation's budget on calls that
 * cannot succeed.
 *
 * Octokit throws a RequestError with `status` and `response.headers`. GitHub signals its
 * primary rate limit with 403 or 429 and `x-ratelimit-remaining: 0`, and secondary limits
 * with 403/429 and a `retry-after` header or a message naming the limit
 * (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
 */
export type GithubFailure =
  | { readonly kind: 'rate_limited'; readonly status: number; readonly resetAt: Date | null }
  | { readonly kind: 'unavailable'; readonly status: number | null }
  | { readonly kind: 'refused'; readonly status: number };

export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  const status = Number((error as { status: unknown }).status);
  return Number.isInteger(status) ? status : undefined;
}

function headersOf(error: unknown): Readonly<Record<string, unknown>> {
  const response = (error as { response?: { headers?: Record<string, unknown> } }).response;
  return response?.headers ?? {};
}

function messageOf(error: unknown): string {
  const response = (error as { response?: { data?: unknown } }).response;
  const data = response?.data;
  const fromData =
    typeof data === 'object' && data !== null && 'message' in data
      ? String((data as { message: unknown }).message)
      : '';
  const errors =
    typeof data === 'object' && data !== null && 'errors' in data
      ? JSON.stringify((data as { errors: unknown }).errors)
      : '';
  return `${fromData} ${errors} ${error instanceof Error ? error.message : ''}`;
}

/** True when GitHub's answer (message or `errors`) mentions `text`, case-insensitively. */
export function mentions(error: unknown, text: string): boolean {
  return messageOf(error).toLowerCase().includes(text.toLowerCase());
}

export function classifyGithubFailure(error: unknown): GithubFailure {
  const status = statusOf(error);
  if (status === undefined) return { kind: 'unavailable', status: null }; // network, DNS, reset
  if (status === 403 || status === 429) {
    const headers = headersOf(error);
    const remaining = headers['x-ratelimit-remaining'];
    const reset = Number(headers['x-ratelimit-reset']);
    if (
      status === 429 ||
      String(remaining) === '0' ||
      headers['retry-after'] !== undefined ||
      mentions(error, 'rate limit')
    ) {
      return {
        kind: 'rate_limited',
        status,
        resetAt: Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : null,
      };
    }
  }
  if (status >= 500) return { kind: 'unavailable', status };
  return { kind: 'refused', status };
}

export function describeGithubFailure(error: unknown): string {
  const status = statusOf(error);
  const text = messageOf(error).trim().replace(/\s+/g, ' ').slice(0, 300);
  return status === undefined ? text || 'GitHub could not be reached' : `HTTP ${status}: ${text}`;
}
