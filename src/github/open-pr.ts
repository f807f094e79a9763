import { GatehouseError } from '../errors/catalogue.js';

/**
 * Opens the pull request of `gatehouse request --open-pr` through the REST API: a branch
 * `gatehouse/request-<name>` from the base, one commit adding the file (contents API), the PR.
 * Safe to run again after a partial failure: an existing branch is reused ("Reference already
 * exists" is fine), an existing file on it is updated, and an open PR for the branch is
 * returned instead of a second one.
 */
export interface OpenPullRequestInput {
  /** REST base URL without a trailing slash: https://api.github.com or https://HOST/api/v3. */
  readonly apiBaseUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  /** Defaults to the repository's default branch. */
  readonly baseBranch?: string;
  /** Repository-relative, e.g. `access/hr_prod/alice-inc-4211.yaml`. */
  readonly filePath: string;
  readonly content: string;
  readonly title: string;
  readonly body: string;
  /** For tests and proxies; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface OpenedPullRequest {
  readonly url: string;
  readonly number: number;
  readonly branch: string;
}

/** Branch for a request file: `gatehouse/request-<file name without .yaml>`. */
export function requestBranchName(filePath: string): string {
  const name = (filePath.split('/').pop() ?? filePath).replace(/\.ya?ml$/, '');
  return `gatehouse/request-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
}

interface ApiResult {
  readonly status: number;
  readonly data: unknown;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export async function openAccessPullRequest(
  input: OpenPullRequestInput,
): Promise<OpenedPullRequest> {
  const doFetch = input.fetch ?? fetch;
  const repoUrl = `${input.apiBaseUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(input.owner)}/${encodeURIComponent(input.repo)}`;

  const call = async (method: string, url: string, body?: unknown): Promise<ApiResult> => {
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${input.token}`,
          'x-github-api-version': '2022-11-28',
          'user-agent': 'gatehouse-cli',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new GatehouseError('PR_OPEN_FAILED', `Cannot reach GitHub at ${input.apiBaseUrl}.`, {
        cause: error,
      });
    }
    const text = await response.text();
    let data: unknown = text;
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): keep the text for the message.
    }
    return { status: response.status, data };
  };

  const fail = (step: string, result: ApiResult): GatehouseError => {
    const message =
      typeof result.data === 'object' && result.data !== null && 'message' in result.data
        ? String((result.data as { message: unknown }).message)
        : String(result.data).slice(0, 200);
    const hint =
      result.status === 401
        ? 'The token was refused; check GATEHOUSE_TOKEN, GITHUB_TOKEN or gh auth status.'
        : result.status === 403 || result.status === 404
          ? `The token needs contents and pull requests write access to ${input.owner}/${input.repo}.`
          : undefined;
    return new GatehouseError(
      'PR_OPEN_FAILED',
      `GitHub refused to ${step} (HTTP ${result.status}: ${message}).`,
      hint === undefined ? {} : { hint },
    );
  };
  const field = <T>(data: unknown, ...path: string[]): T | undefined => {
    let value: unknown = data;
    for (const key of path) {
      value =
        typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    return value as T | undefined;
  };

  let base = input.baseBranch;
  if (base === undefined) {
    const repo = await call('GET', repoUrl);
    if (repo.status !== 200) throw fail('read the repository', repo);
    base = field<string>(repo.data, 'default_branch') ?? 'main';
  }

  const ref = await call('GET', `${repoUrl}/git/ref/heads/${encodePath(base)}`);
  const baseSha = field<string>(ref.data, 'object', 'sha');
  if (ref.status !== 200 || baseSha === undefined) throw fail(`read branch ${base}`, ref);

  const branch = requestBranchName(input.filePath);
  const created = await call('POST', `${repoUrl}/git/refs`, {
    ref: `refs/heads/${branch}`,
    sha: baseSha,
  });
  // 422 "Reference already exists": an earlier attempt created it; reuse it.
  if (created.status !== 201 && created.status !== 422)
    throw fail(`create branch ${branch}`, created);

  const contentsUrl = `${repoUrl}/contents/${encodePath(input.filePath)}`;
  let existingSha: string | undefined;
  if (created.status === 422) {
    const existing = await call('GET', `${contentsUrl}?ref=${encodeURIComponent(branch)}`);
    if (existing.status === 200) existingSha = field<string>(existing.data, 'sha');
  }
  const put = await call('PUT', contentsUrl, {
    message: input.title,
    content: Buffer.from(input.content, 'utf8').toString('base64'),
    branch,
    ...(existingSha === undefined ? {} : { sha: existingSha }),
  });
  if (put.status !== 200 && put.status !== 201) throw fail(`commit ${input.filePath}`, put);

  const pull = await call('POST', `${repoUrl}/pulls`, {
    title: input.title,
    head: branch,
    base,
    body: input.body,
  });
  if (pull.status === 201) {
    return {
      url: field<string>(pull.data, 'html_url') ?? '',
      number: field<number>(pull.data, 'number') ?? 0,
      branch,
    };
  }
  if (pull.status === 422) {
    // "A pull request already exists for owner:branch": return that one.
    const open = await call(
      'GET',
      `${repoUrl}/pulls?state=open&head=${encodeURIComponent(`${input.owner}:${branch}`)}`,
    );
    const first = Array.isArray(open.data) ? (open.data[0] as unknown) : undefined;
    const number = field<number>(first, 'number');
    if (open.status === 200 && number !== undefined) {
      return { url: field<string>(first, 'html_url') ?? '', number, branch };
    }
  }
  throw fail('open the pull request', pull);
}
