/**
 * The CLI's side of the HTTP API (docs/http-api.md): finds the server and the caller's token,
 * calls the API and returns what happened as a value. Used by `gatehouse query` and
 * `gatehouse grants`.
 */
import { execFile } from 'node:child_process';
import { GatehouseError, type ErrorCode } from '../errors/catalogue.js';
import { resolveGithubToken } from '../github/resolve-token.js';
import { EXIT } from './cli-io.js';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000';

/** Exit code when the server cannot be reached (docs/cli.md); kept as a name for the commands
 * that import it from here. */
export const EXIT_UNREACHABLE = EXIT.UNREACHABLE;

export type Env = Readonly<Record<string, string | undefined>>;

export interface ApiError {
  readonly code: ErrorCode | string;
  readonly message: string;
  readonly hint?: string;
  readonly auditId?: string;
}

export type ApiResult<T> =
  | { readonly kind: 'ok'; readonly body: T }
  | { readonly kind: 'error'; readonly status: number; readonly error: ApiError }
  | { readonly kind: 'unreachable'; readonly message: string };

export interface QueryResponse {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly truncated: boolean;
  readonly auditId: string;
}

export interface GrantView {
  readonly id: string;
  readonly database: string;
  readonly tables: readonly string[];
  readonly access: string;
  readonly level: string;
  readonly reason: string;
  readonly ticket: string | null;
  readonly activatedAt: string;
  readonly expiresAt: string;
  readonly prNumber: number;
  readonly prUrl: string;
  readonly filePath: string;
  readonly approvers: readonly string[];
}

export interface GrantsResponse {
  readonly login: string;
  readonly grants: readonly GrantView[];
}

export interface ServerClient {
  query(body: {
    readonly database: string;
    readonly sql: string;
    readonly maxRows?: number;
  }): Promise<ApiResult<QueryResponse>>;
  grants(): Promise<ApiResult<GrantsResponse>>;
}

/** `--server`, else GATEHOUSE_SERVER, else the local default. Returns null when not a URL. */
export function resolveServerUrl(env: Env, flag: string | undefined): URL | null {
  const text = flag ?? env.GATEHOUSE_SERVER ?? DEFAULT_SERVER_URL;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Runs `gh auth token`; resolves null when gh is missing, logged out or slow. */
export type GhAuthToken = () => Promise<string | null>;

export const ghAuthToken: GhAuthToken = () =>
  new Promise((resolve) => {
    execFile('gh', ['auth', 'token'], { timeout: 5000 }, (error, stdout) => {
      const token = stdout.trim();
      resolve(error === null && token !== '' ? token : null);
    });
  });

/** GATEHOUSE_TOKEN, else GITHUB_TOKEN, else `gh auth token` (the GitHub CLI's stored login):
 * the same order as `gatehouse request --open-pr` (src/github/resolve-token.ts); null when
 * none is found. */
export async function resolveToken(
  env: Env,
  gh: GhAuthToken = ghAuthToken,
): Promise<string | null> {
  try {
    return (await resolveGithubToken(env, async () => (await gh()) ?? '')).token;
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'PR_TOKEN_MISSING') return null;
    throw error;
  }
}

function isApiError(value: unknown): value is ApiError {
  const error = value as { code?: unknown; message?: unknown } | null;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

export function createServerClient(options: {
  readonly serverUrl: URL;
  readonly token: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}): ServerClient {
  const doFetch = options.fetch ?? fetch;
  // Longer than the server's default 30 s statement timeout, so the server's 504 arrives.
  const timeoutMs = options.timeoutMs ?? 120_000;

  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<ApiResult<T>> {
    const url = new URL(path, options.serverUrl);
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return {
        kind: 'unreachable',
        message: `cannot reach the Gatehouse server at ${options.serverUrl.origin}${cause === undefined ? '' : ` (${cause})`}`,
      };
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      parsed = undefined;
    }
    if (response.ok) return { kind: 'ok', body: parsed as T };
    const error = (parsed as { error?: unknown } | undefined)?.error;
    return {
      kind: 'error',
      status: response.status,
      error: isApiError(error)
        ? error
        : { code: 'INTERNAL', message: `the server answered HTTP ${response.status}` },
    };
  }

  return {
    query: (body) => call<QueryResponse>('POST', '/v1/query', body),
    grants: () => call<GrantsResponse>('GET', '/v1/grants'),
  };
}
