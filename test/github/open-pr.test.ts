import './support/node20-shims.js';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { openAccessPullRequest, requestBranchName } from '../../src/github/open-pr.js';
import { resolveGithubToken } from '../../src/github/resolve-token.js';

const API = 'https://api.github.com';
const BASE = '1'.repeat(40);
const FILE = 'access/hr_prod/alice-inc-4211.yaml';
const INPUT = {
  apiBaseUrl: API,
  token: 'ghp_test',
  owner: 'acme',
  repo: 'access',
  filePath: FILE,
  content: 'requester: alice\n',
  title: 'Access request: hr_prod (alice)',
  body: 'Reason: INC-4211',
};

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('openAccessPullRequest', () => {
  it('creates the branch, commits the file and opens the PR', async () => {
    const scope = nock(API, { reqheaders: { authorization: 'Bearer ghp_test' } })
      .get('/repos/acme/access')
      .reply(200, { default_branch: 'main' })
      .get('/repos/acme/access/git/ref/heads/main')
      .reply(200, { object: { sha: BASE } })
      .post('/repos/acme/access/git/refs', {
        ref: 'refs/heads/gatehouse/request-alice-inc-4211',
        sha: BASE,
      })
      .reply(201, {})
      .put(`/repos/acme/access/contents/${FILE}`, (body: Record<string, unknown>) => {
        return (
          body.branch === 'gatehouse/request-alice-inc-4211' &&
          Buffer.from(String(body.content), 'base64').toString() === 'requester: alice\n' &&
          body.sha === undefined
        );
      })
      .reply(201, {})
      .post('/repos/acme/access/pulls', {
        title: INPUT.title,
        head: 'gatehouse/request-alice-inc-4211',
        base: 'main',
        body: INPUT.body,
      })
      .reply(201, { number: 12, html_url: 'https://github.com/acme/access/pull/12' });
    const pr = await openAccessPullRequest(INPUT);
    expect(pr).toEqual({
      url: 'https://github.com/acme/access/pull/12',
      number: 12,
      branch: 'gatehouse/request-alice-inc-4211',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('is safe to run again: existing branch, file and PR are reused', async () => {
    const scope = nock(API)
      .get('/repos/acme/access/git/ref/heads/release')
      .reply(200, { object: { sha: BASE } })
      .post('/repos/acme/access/git/refs')
      .reply(422, { message: 'Reference already exists' })
      .get(`/repos/acme/access/contents/${FILE}`)
      .query({ ref: 'gatehouse/request-alice-inc-4211' })
      .reply(200, { sha: 'f'.repeat(40) })
      .put(
        `/repos/acme/access/contents/${FILE}`,
        (body: Record<string, unknown>) => body.sha === 'f'.repeat(40),
      )
      .reply(200, {})
      .post('/repos/acme/access/pulls')
      .reply(422, {
        message: 'A pull request already exists for acme:gatehouse/request-alice-inc-4211.',
      })
      .get('/repos/acme/access/pulls')
      .query({ state: 'open', head: 'acme:gatehouse/request-alice-inc-4211' })
      .reply(200, [{ number: 9, html_url: 'https://github.com/acme/access/pull/9' }]);
    const pr = await openAccessPullRequest({ ...INPUT, baseBranch: 'release' });
    expect(pr.number).toBe(9);
    expect(scope.isDone()).toBe(true);
  });

  it('fails with PR_OPEN_FAILED and a hint when the token is refused', async () => {
    nock(API).get('/repos/acme/access').reply(401, { message: 'Bad credentials' });
    const error = await openAccessPullRequest(INPUT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('PR_OPEN_FAILED');
    expect((error as GatehouseError).message).toContain('Bad credentials');
    expect((error as GatehouseError).hint).toContain('GATEHOUSE_TOKEN');
  });

  it('fails with PR_OPEN_FAILED when GitHub cannot be reached', async () => {
    const error = await openAccessPullRequest({
      ...INPUT,
      apiBaseUrl: 'https://github.invalid/api/v3',
    }).catch((e: unknown) => e);
    expect((error as GatehouseError).code).toBe('PR_OPEN_FAILED');
  });

  it('names the branch after the file', () => {
    expect(requestBranchName('access/hr_test/bob 2025.yml')).toBe('gatehouse/request-bob-2025');
  });
});

describe('resolveGithubToken', () => {
  const noGh = async (): Promise<string> => {
    throw new Error('gh: command not found');
  };

  it('prefers GATEHOUSE_TOKEN, then GITHUB_TOKEN, then gh auth token', async () => {
    expect(await resolveGithubToken({ GATEHOUSE_TOKEN: 'a', GITHUB_TOKEN: 'b' }, noGh)).toEqual({
      token: 'a',
      source: 'GATEHOUSE_TOKEN',
    });
    expect(await resolveGithubToken({ GITHUB_TOKEN: 'b' }, noGh)).toEqual({
      token: 'b',
      source: 'GITHUB_TOKEN',
    });
    const calls: string[][] = [];
    const gh = async (command: string, args: readonly string[]) => {
      calls.push([command, ...args]);
      return 'gho_from_gh\n';
    };
    expect(
      await resolveGithubToken({ GITHUB_TOKEN: '  ' }, gh, { hostname: 'ghe.acme.example' }),
    ).toEqual({
      token: 'gho_from_gh',
      source: 'gh auth token',
    });
    expect(calls).toEqual([['gh', 'auth', 'token', '--hostname', 'ghe.acme.example']]);
  });

  it('fails with PR_TOKEN_MISSING when there is none', async () => {
    const error = await resolveGithubToken({}, noGh).catch((e: unknown) => e);
    expect((error as GatehouseError).code).toBe('PR_TOKEN_MISSING');
  });
});
