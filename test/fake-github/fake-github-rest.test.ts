import { createProbot, Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAppPrivateKey, startFakeGitHub } from './fake-github.js';
import type { FakeGitHub } from './fake-github.js';

// Real Probot Octokit (retry, throttling, pagination, enterprise plugins) against the fake.
// Throttling is off where a test does not exercise it: its write queue spaces writes 1 s
// apart. Probot always passes throttle options, so only a function default can turn it off.
const QuietOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: { ...(options['throttle'] as object), enabled: false },
  retry: { retryAfterBaseValue: 1 },
}));

type Octokit = InstanceType<typeof ProbotOctokit>;

let fake: FakeGitHub;
let privateKey: string;
let installationId: number;
let app: Octokit;
let alice: Octokit;
let bob: Octokit;

const REPO = { owner: 'acme', repo: 'access' };
const FULL = 'acme/access';

function asUser(token: string, extra: Record<string, unknown> = {}): Octokit {
  return new QuietOctokit({ baseUrl: fake.apiUrl, auth: { token }, ...extra });
}

async function status(
  promise: Promise<unknown>,
): Promise<{ status: number; message: string; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as {
      status: number;
      message: string;
      response?: { headers: Record<string, string> };
    };
    return { status: e.status, message: e.message, headers: e.response?.headers ?? {} };
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  privateKey = generateAppPrivateKey();
  fake = await startFakeGitHub({ appId: 77, privateKeyPem: privateKey });
  fake.addUser('alice', { token: 'alice-token' });
  fake.addUser('bob', { token: 'bob-token' });
  fake.addUser('carol', { token: 'carol-token' });
  fake.addTeamMember('acme', 'dba', 'bob', 'active');
  fake.addTeamMember('acme', 'dba', 'dave', 'pending');
  await fake.createRepo('acme', 'access', {
    files: {
      'policies/risk.yaml': 'levels: {}\n',
      '.github/CODEOWNERS': '* @acme/dba\n',
      'access/hr_prod/old.yaml': 'requester: zed\n',
    },
  });
  installationId = fake.installationId('acme');
  const probot = new Probot({
    appId: 77,
    privateKey,
    baseUrl: fake.apiUrl,
    logLevel: 'fatal',
    Octokit: QuietOctokit,
  });
  app = (await probot.auth(installationId)) as Octokit;
  alice = asUser('alice-token');
  bob = asUser('bob-token');
});

afterAll(async () => {
  await fake.close();
});

describe('fake GitHub: authentication', () => {
  it('resolves user tokens on /user and refuses unknown tokens with 401 Bad credentials', async () => {
    const { data } = await alice.rest.users.getAuthenticated();
    expect(data.login).toBe('alice');
    const refused = await status(asUser('nope').rest.users.getAuthenticated());
    expect(refused.status).toBe(401);
    expect(refused.message).toContain('Bad credentials');
  });

  it('lets the app (RS256 JWT) list installations and mint installation tokens that act as the bot', async () => {
    const probot = new Probot({
      appId: 77,
      privateKey,
      baseUrl: fake.apiUrl,
      logLevel: 'fatal',
      Octokit: QuietOctokit,
    });
    const appOctokit = (await probot.auth()) as Octokit;
    const { data: installations } = await appOctokit.rest.apps.listInstallations();
    expect(installations.map((i) => i.account?.login)).toContain('acme');
    const { data: forRepo } = await appOctokit.rest.apps.getRepoInstallation(REPO);
    expect(forRepo.id).toBe(installationId);
    // An installation token has no user behind it.
    expect((await status(app.rest.users.getAuthenticated())).status).toBe(403);
  });

  it('serves Probot configured for GitHub Enterprise through GHE_HOST', async () => {
    const probot = createProbot({
      env: {
        APP_ID: '77',
        PRIVATE_KEY: privateKey,
        WEBHOOK_SECRET: 'x',
        GHE_HOST: fake.host,
        GHE_PROTOCOL: 'http',
        LOG_LEVEL: 'fatal',
      },
      defaults: { Octokit: QuietOctokit },
    });
    const octokit = (await probot.auth(installationId)) as Octokit;
    expect((await octokit.rest.repos.get(REPO)).data.full_name).toBe(FULL);
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/repos/acme/access',
      actor: 'gatehouse[bot]',
    });
  });

  it('refuses a JWT signed by another key', async () => {
    const stranger = new Probot({
      appId: 77,
      privateKey: generateAppPrivateKey(),
      baseUrl: fake.apiUrl,
      logLevel: 'fatal',
      Octokit: QuietOctokit,
    });
    const appOctokit = (await stranger.auth()) as Octokit;
    expect((await status(appOctokit.rest.apps.listInstallations())).status).toBe(401);
  });
});

describe('fake GitHub: git data and contents', () => {
  it('serves files (base64 + sha), directories (arrays) and raw content', async () => {
    const { data: file } = await app.rest.repos.getContent({ ...REPO, path: 'policies/risk.yaml' });
    expect(Array.isArray(file)).toBe(false);
    if (Array.isArray(file) || file.type !== 'file') throw new Error('expected a file');
    expect(Buffer.from(file.content, 'base64').toString('utf8')).toBe('levels: {}\n');
    expect(file.sha).toMatch(/^[0-9a-f]{40}$/);
    const { data: dir } = await app.rest.repos.getContent({ ...REPO, path: 'access/hr_prod' });
    expect(Array.isArray(dir) && dir.map((e) => e.path)).toEqual(['access/hr_prod/old.yaml']);
    const raw = await app.rest.repos.getContent({
      ...REPO,
      path: 'policies/risk.yaml',
      mediaType: { format: 'raw' },
    });
    expect(String(raw.data)).toBe('levels: {}\n');
    expect((await status(app.rest.repos.getContent({ ...REPO, path: 'nope.txt' }))).status).toBe(
      404,
    );
    const { data: repo } = await app.rest.repos.get(REPO);
    expect(repo.default_branch).toBe('main');
  });

  it('creates refs, refuses a duplicate with 422 "Reference already exists", and guards fast-forward', async () => {
    const { data: main } = await app.rest.git.getRef({ ...REPO, ref: 'heads/main' });
    await app.rest.git.createRef({
      ...REPO,
      ref: 'refs/heads/gatehouse/revoke-1',
      sha: main.object.sha,
    });
    const again = await status(
      app.rest.git.createRef({
        ...REPO,
        ref: 'refs/heads/gatehouse/revoke-1',
        sha: main.object.sha,
      }),
    );
    expect(again.status).toBe(422);
    expect(again.message).toContain('Reference already exists');
    const { data: ref } = await app.rest.git.getRef({ ...REPO, ref: 'heads/gatehouse/revoke-1' });
    expect(ref.ref).toBe('refs/heads/gatehouse/revoke-1');
    expect((await status(app.rest.git.getRef({ ...REPO, ref: 'heads/missing' }))).status).toBe(404);
  });

  it('commits through the contents API: create 201, update needs sha (422/409), delete with sha', async () => {
    const branch = 'gatehouse/revoke-1';
    const put = await app.rest.repos.createOrUpdateFileContents({
      ...REPO,
      path: 'access/hr_prod/new.yaml',
      branch,
      message: 'add',
      content: Buffer.from('a: 1\n').toString('base64'),
    });
    expect(put.status).toBe(201);
    const sha = put.data.content!.sha!;
    const noSha = await status(
      app.rest.repos.createOrUpdateFileContents({
        ...REPO,
        path: 'access/hr_prod/new.yaml',
        branch,
        message: 'upd',
        content: 'YQ==',
      }),
    );
    expect(noSha.status).toBe(422);
    const wrong = await status(
      app.rest.repos.createOrUpdateFileContents({
        ...REPO,
        path: 'access/hr_prod/new.yaml',
        branch,
        message: 'upd',
        content: 'YQ==',
        sha: '0'.repeat(40),
      }),
    );
    expect(wrong.status).toBe(409);
    const updated = await app.rest.repos.createOrUpdateFileContents({
      ...REPO,
      path: 'access/hr_prod/new.yaml',
      branch,
      message: 'upd',
      content: 'YQ==',
      sha,
    });
    expect(updated.status).toBe(200);
    const del = await app.rest.repos.deleteFile({
      ...REPO,
      path: 'access/hr_prod/new.yaml',
      branch,
      message: 'rm',
      sha: updated.data.content!.sha!,
    });
    expect(del.data.commit.sha).toBe(fake.branchSha(FULL, branch));
    expect(fake.readFile(FULL, 'access/hr_prod/new.yaml', branch)).toBeUndefined();
    const { data: commits } = await app.rest.repos.listCommits({
      ...REPO,
      sha: branch,
      path: 'access/hr_prod/new.yaml',
    });
    expect(commits.map((c) => c.commit.message)).toEqual(['rm', 'upd', 'add']);
    expect(commits[0]!.author?.login).toBe(fake.bot.login);
  });

  it('builds commits from blobs and trees and refuses a non-fast-forward ref update', async () => {
    const base = fake.branchSha(FULL, 'main')!;
    const { data: blob } = await app.rest.git.createBlob({
      ...REPO,
      content: 'x\n',
      encoding: 'utf-8',
    });
    const { data: baseCommit } = await app.rest.git.getCommit({ ...REPO, commit_sha: base });
    const { data: tree } = await app.rest.git.createTree({
      ...REPO,
      base_tree: baseCommit.tree.sha,
      tree: [{ path: 'x.txt', mode: '100644', type: 'blob', sha: blob.sha }],
    });
    const { data: commit } = await app.rest.git.createCommit({
      ...REPO,
      message: 'x',
      tree: tree.sha,
      parents: [base],
    });
    await app.rest.git.createRef({ ...REPO, ref: 'refs/heads/tree-test', sha: commit.sha });
    const { data: full } = await app.rest.git.getTree({
      ...REPO,
      tree_sha: commit.sha,
      recursive: 'true',
    });
    expect(full.tree.map((e) => e.path)).toContain('x.txt');
    const back = await status(
      app.rest.git.updateRef({ ...REPO, ref: 'heads/tree-test', sha: base }),
    );
    expect(back.status).toBe(422);
    expect(back.message).toContain('Update is not a fast forward');
    await app.rest.git.updateRef({ ...REPO, ref: 'heads/tree-test', sha: base, force: true });
    await app.rest.git.deleteRef({ ...REPO, ref: 'heads/tree-test' });
    expect(fake.branchSha(FULL, 'tree-test')).toBeUndefined();
  });
});

describe('fake GitHub: pull requests, reviews and merge', () => {
  let number: number;
  let firstHead: string;

  it('opens a PR through the API and lists it by head and base', async () => {
    await fake.pushCommit({
      repo: FULL,
      branch: 'alice/hr',
      author: 'alice',
      message: 'request',
      files: {
        'access/hr_prod/alice.yaml': 'requester: alice\n',
        'access/hr_prod/old.yaml': 'requester: zed\nreason: x\n',
      },
    });
    await fake.pushCommit({
      repo: FULL,
      branch: 'alice/hr',
      author: 'alice',
      committer: 'carol',
      files: { 'access/hr_prod/old.yaml': null },
    });
    const { data: pr } = await alice.rest.pulls.create({
      ...REPO,
      head: 'alice/hr',
      base: 'main',
      title: 'Access to hr_prod',
      body: 'please',
    });
    number = pr.number;
    firstHead = pr.head.sha;
    expect(pr.user?.login).toBe('alice');
    expect(pr.state).toBe('open');
    const dup = await status(
      alice.rest.pulls.create({ ...REPO, head: 'alice/hr', base: 'main', title: 'again' }),
    );
    expect(dup.status).toBe(422);
    const { data: listed } = await app.rest.pulls.list({
      ...REPO,
      head: 'acme:alice/hr',
      state: 'open',
    });
    expect(listed.map((p) => p.number)).toEqual([number]);
    expect((await app.rest.pulls.list({ ...REPO, head: 'acme:other' })).data).toEqual([]);
  });

  it('lists files with status and line counts, and commits with author and committer logins', async () => {
    const { data: files } = await app.rest.pulls.listFiles({ ...REPO, pull_number: number });
    expect(files.map((f) => [f.filename, f.status])).toEqual([
      ['access/hr_prod/alice.yaml', 'added'],
      ['access/hr_prod/old.yaml', 'removed'],
    ]);
    expect(files[0]!.additions).toBe(1);
    const { data: commits } = await app.rest.pulls.listCommits({ ...REPO, pull_number: number });
    expect(commits.map((c) => [c.author?.login, c.committer?.login])).toEqual([
      ['alice', 'alice'],
      ['alice', 'carol'],
    ]);
    const { data: pr } = await app.rest.pulls.get({ ...REPO, pull_number: number });
    expect(pr.changed_files).toBe(2);
    expect(pr.mergeable).toBe(true);
  });

  it('records reviews on the head at review time; refuses self-approval; dismisses', async () => {
    const selfApproval = await status(
      alice.rest.pulls.createReview({ ...REPO, pull_number: number, event: 'APPROVE' }),
    );
    expect(selfApproval.status).toBe(422);
    await fake.review({ repo: FULL, number, reviewer: 'bob', state: 'APPROVED' });
    const { data: changes } = await asUser('carol-token').rest.pulls.createReview({
      ...REPO,
      pull_number: number,
      event: 'REQUEST_CHANGES',
      body: 'no',
    });
    expect(changes.state).toBe('CHANGES_REQUESTED');
    const { data: dismissed } = await app.rest.pulls.dismissReview({
      ...REPO,
      pull_number: number,
      review_id: changes.id,
      message: 'stale',
    });
    expect(dismissed.state).toBe('DISMISSED');
    await fake.pushCommit({
      repo: FULL,
      branch: 'alice/hr',
      author: 'alice',
      files: { 'access/hr_prod/alice.yaml': 'requester: alice\nreason: y\n' },
    });
    const { data: reviews } = await app.rest.pulls.listReviews({ ...REPO, pull_number: number });
    expect(reviews.map((r) => [r.user?.login, r.state, r.commit_id === firstHead])).toEqual([
      ['bob', 'APPROVED', true],
      ['carol', 'DISMISSED', true],
    ]);
    const { data: pr } = await app.rest.pulls.get({ ...REPO, pull_number: number });
    expect(pr.head.sha).not.toBe(firstHead);
    expect(reviews[0]!.submitted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses to merge with 405 while a required check is not green, then merges with a merge commit', async () => {
    fake.protectBranch(FULL, 'main', { requiredChecks: ['Gatehouse / access policy'] });
    const blocked = await status(bob.rest.pulls.merge({ ...REPO, pull_number: number }));
    expect(blocked.status).toBe(405);
    const head = fake.branchSha(FULL, 'alice/hr')!;
    await app.rest.checks.create({
      ...REPO,
      name: 'Gatehouse / access policy',
      head_sha: head,
      conclusion: 'success',
      output: { title: 'ok', summary: 'ok' },
    });
    const stale = await status(
      bob.rest.pulls.merge({ ...REPO, pull_number: number, sha: firstHead }),
    );
    expect(stale.status).toBe(409);
    const { data: merged } = await bob.rest.pulls.merge({
      ...REPO,
      pull_number: number,
      sha: head,
    });
    expect(merged.merged).toBe(true);
    const { data: pr } = await app.rest.pulls.get({ ...REPO, pull_number: number });
    expect([pr.merged, pr.state, pr.merged_by?.login, pr.merge_commit_sha]).toEqual([
      true,
      'closed',
      'bob',
      merged.sha,
    ]);
    expect(pr.merged_at).not.toBeNull();
    expect(fake.branchSha(FULL, 'main')).toBe(merged.sha);
    const { data: mergeCommit } = await app.rest.repos.getCommit({ ...REPO, ref: merged.sha });
    expect(mergeCommit.parents).toHaveLength(2);
    // The PR still lists its own files and commits after the merge.
    expect((await app.rest.pulls.listFiles({ ...REPO, pull_number: number })).data).toHaveLength(2);
    expect((await status(bob.rest.pulls.merge({ ...REPO, pull_number: number }))).status).toBe(405);
  });

  it('finds the merged PR of a file through commits?path= and commits/{sha}/pulls', async () => {
    const { data: history } = await app.rest.repos.listCommits({
      ...REPO,
      sha: 'main',
      path: 'access/hr_prod/alice.yaml',
    });
    // Git's history simplification skips the merge and lists the branch commit that wrote it.
    expect(history[0]!.commit.message).toBe('Update access/hr_prod/alice.yaml');
    const { data: pulls } = await app.rest.repos.listPullRequestsAssociatedWithCommit({
      ...REPO,
      commit_sha: history[0]!.sha,
    });
    expect(pulls.map((p) => [p.number, p.merged_at !== null])).toEqual([[number, true]]);
  });

  it('answers 405 for a PR GitHub cannot merge (conflict)', async () => {
    await fake.pushCommit({
      repo: FULL,
      branch: 'conflict',
      author: 'carol',
      files: { 'policies/risk.yaml': 'a\n' },
    });
    await fake.pushDirect({ repo: FULL, author: 'bob', files: { 'policies/risk.yaml': 'b\n' } });
    const pr = await fake.openPullRequest({
      repo: FULL,
      head: 'conflict',
      title: 'c',
      author: 'carol',
    });
    expect(fake.pullRequest(FULL, pr.number)['mergeable']).toBe(false);
    const refused = await status(bob.rest.pulls.merge({ ...REPO, pull_number: pr.number }));
    expect([refused.status, refused.message]).toEqual([
      405,
      expect.stringContaining('not mergeable'),
    ]);
    await alice.rest.pulls.update({ ...REPO, pull_number: pr.number, state: 'closed' });
    expect(fake.pullRequest(FULL, pr.number)['state']).toBe('closed');
  });
});

describe('fake GitHub: checks, comments, labels, teams', () => {
  it('lets only the app write check runs; lists the latest per name with annotations', async () => {
    const head = fake.branchSha(FULL, 'main')!;
    expect(
      (await status(alice.rest.checks.create({ ...REPO, name: 'x', head_sha: head }))).status,
    ).toBe(403);
    const { data: run } = await app.rest.checks.create({
      ...REPO,
      name: 'Gatehouse / access policy',
      head_sha: head,
      status: 'in_progress',
    });
    expect([run.status, run.conclusion, run.app?.id]).toEqual(['in_progress', null, 77]);
    await app.rest.checks.update({
      ...REPO,
      check_run_id: run.id,
      conclusion: 'failure',
      output: {
        title: 'Invalid',
        summary: 's',
        annotations: [
          {
            path: 'a.yaml',
            start_line: 2,
            end_line: 2,
            annotation_level: 'failure',
            message: 'bad',
          },
        ],
      },
    });
    const { data: listed } = await app.rest.checks.listForRef({
      ...REPO,
      ref: 'main',
      check_name: 'Gatehouse / access policy',
    });
    expect(listed.total_count).toBe(1);
    expect([
      listed.check_runs[0]!.id,
      listed.check_runs[0]!.conclusion,
      listed.check_runs[0]!.completed_at !== null,
    ]).toEqual([run.id, 'failure', true]);
    const { data: annotations } = await app.rest.checks.listAnnotations({
      ...REPO,
      check_run_id: run.id,
    });
    expect(annotations.map((a) => a.start_line)).toEqual([2]);
  });

  it('keeps issue comments editable in place, by the bot', async () => {
    const pr = fake.pullRequests(FULL, 'all')[0]!;
    const n = pr['number'] as number;
    const { data: comment } = await app.rest.issues.createComment({
      ...REPO,
      issue_number: n,
      body: 'first',
    });
    expect(comment.user?.login).toBe('gatehouse[bot]');
    await app.rest.issues.updateComment({ ...REPO, comment_id: comment.id, body: 'second' });
    const { data: comments } = await app.rest.issues.listComments({ ...REPO, issue_number: n });
    expect(comments.map((c) => c.body)).toEqual(['second']);
    const { data: issue } = await app.rest.issues.get({ ...REPO, issue_number: n });
    expect(issue.pull_request).toBeDefined();
  });

  it('adds, replaces and removes labels; creating an existing label is 422 already_exists', async () => {
    await app.rest.issues.createLabel({ ...REPO, name: 'gatehouse:risk-high', color: 'b60205' });
    const dup = await status(
      app.rest.issues.createLabel({ ...REPO, name: 'Gatehouse:Risk-High', color: 'b60205' }),
    );
    expect(dup.status).toBe(422);
    expect(dup.message).toContain('already_exists');
    const { data: added } = await app.rest.issues.addLabels({
      ...REPO,
      issue_number: 1,
      labels: ['gatehouse:risk-high', 'extra'],
    });
    expect(added.map((l) => l.name)).toEqual(['gatehouse:risk-high', 'extra']);
    await app.rest.issues.setLabels({ ...REPO, issue_number: 1, labels: ['gatehouse:risk-low'] });
    expect(fake.labels(FULL, 1)).toEqual(['gatehouse:risk-low']);
    await app.rest.issues.removeLabel({ ...REPO, issue_number: 1, name: 'gatehouse:risk-low' });
    expect(
      (
        await status(
          app.rest.issues.removeLabel({ ...REPO, issue_number: 1, name: 'gatehouse:risk-low' }),
        )
      ).status,
    ).toBe(404);
  });

  it('answers team memberships: active, pending, 404; lists only active members', async () => {
    const active = await app.rest.teams.getMembershipForUserInOrg({
      org: 'acme',
      team_slug: 'dba',
      username: 'bob',
    });
    expect([active.data.state, active.data.role]).toEqual(['active', 'member']);
    const pending = await app.rest.teams.getMembershipForUserInOrg({
      org: 'acme',
      team_slug: 'dba',
      username: 'dave',
    });
    expect(pending.data.state).toBe('pending');
    expect(
      (
        await status(
          app.rest.teams.getMembershipForUserInOrg({
            org: 'acme',
            team_slug: 'dba',
            username: 'carol',
          }),
        )
      ).status,
    ).toBe(404);
    const { data: members } = await app.rest.teams.listMembersInOrg({
      org: 'acme',
      team_slug: 'dba',
    });
    expect(members.map((m) => m.login)).toEqual(['bob']);
  });
});

describe('fake GitHub: pagination, request log, failures', () => {
  it('paginates PR files with Link headers (per_page at most 100) and counts the calls', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++)
      files[`access/bulk/f${String(i).padStart(3, '0')}.yaml`] = `n: ${i}\n`;
    await fake.pushCommit({ repo: FULL, branch: 'bulk', author: 'alice', files });
    const pr = await fake.openPullRequest({
      repo: FULL,
      head: 'bulk',
      title: 'bulk',
      author: 'alice',
    });
    const first = await app.rest.pulls.listFiles({
      ...REPO,
      pull_number: pr.number,
      per_page: 500,
    });
    expect(first.data).toHaveLength(100);
    expect(first.headers.link).toContain('rel="next"');
    const since = fake.requests.length;
    const all = await app.paginate(app.rest.pulls.listFiles, {
      ...REPO,
      pull_number: pr.number,
      per_page: 100,
    });
    expect(all).toHaveLength(120);
    expect(fake.countRequests('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', since)).toBe(
      2,
    );
    expect(first.headers['x-ratelimit-limit']).toBe('5000');
  });

  it('records unknown routes as unhandled 404s', async () => {
    const before = fake.unhandled.length;
    const missing = await status(app.request('GET /repos/{owner}/{repo}/hooks', REPO));
    expect(missing.status).toBe(404);
    expect(fake.unhandled.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/access/hooks',
    ]);
  });

  it('injects 5xx (retried by Octokit) and 403 rate limits with reset headers', async () => {
    const since = fake.requests.length;
    fake.failNext('GET /repos/{owner}/{repo}/contents/{+path}', 502, 1);
    const { data } = await app.rest.repos.getContent({ ...REPO, path: 'policies/risk.yaml' });
    expect(Array.isArray(data)).toBe(false);
    expect(fake.requests.slice(since).map((r) => r.status)).toEqual([502, 200]);

    fake.failNext('GET /repos/acme/access', 403, 1, { resetInSeconds: 30 });
    const limited = await status(app.rest.repos.get(REPO));
    expect(limited.status).toBe(403);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);

    // Probot's throttling plugin waits for the reset and retries (1 ms per "second" here).
    const throttled = new Probot({
      appId: 77,
      privateKey,
      baseUrl: fake.apiUrl,
      logLevel: 'fatal',
      Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
        ...options,
        throttle: { ...(options['throttle'] as object), retryAfterBaseValue: 1 },
      })),
    });
    const octokit = (await throttled.auth(installationId)) as Octokit;
    fake.failNext('GET /repos/acme/access', 403, 1, { resetInSeconds: 1 });
    expect((await octokit.rest.repos.get(REPO)).data.full_name).toBe(FULL);
  });
});

describe('fake GitHub: driver details', () => {
  it('dismisses stale approvals on push when protection says so, and uses the injected clock', async () => {
    const now = new Date('2030-01-02T03:04:05.678Z');
    const local = await startFakeGitHub({ now: () => now });
    try {
      await local.createRepo('acme', 'access', { files: { 'a.txt': 'a\n' } });
      local.protectBranch('acme/access', 'main', { dismissStaleReviews: true });
      await local.pushCommit({
        repo: 'acme/access',
        branch: 'x',
        author: 'alice',
        files: { 'a.txt': 'b\n' },
      });
      const pr = await local.openPullRequest({
        repo: 'acme/access',
        head: 'x',
        title: 't',
        author: 'alice',
      });
      const review = await local.review({
        repo: 'acme/access',
        number: pr.number,
        reviewer: 'bob',
        state: 'APPROVED',
      });
      await local.pushCommit({
        repo: 'acme/access',
        branch: 'x',
        author: 'alice',
        files: { 'a.txt': 'c\n' },
      });
      expect(local.reviews('acme/access', pr.number).map((r) => [r['id'], r['state']])).toEqual([
        [review.id, 'DISMISSED'],
      ]);
      expect(local.pullRequest('acme/access', pr.number)['created_at']).toBe(
        '2030-01-02T03:04:05Z',
      );
      await local.closePullRequest({ repo: 'acme/access', number: pr.number, by: 'alice' });
      await local.reopenPullRequest({ repo: 'acme/access', number: pr.number, by: 'alice' });
      expect(local.pullRequest('acme/access', pr.number)['state']).toBe('open');
      // Without a webhook URL the deliveries are recorded, not sent.
      await local.idle();
      expect(local.deliveriesOf('pull_request').map((d) => [d.action, d.state])).toEqual([
        ['opened', 'skipped'],
        ['synchronize', 'skipped'],
        ['closed', 'skipped'],
        ['reopened', 'skipped'],
      ]);
      expect(local.deliveriesOf('pull_request_review').map((d) => d.action)).toEqual([
        'submitted',
        'dismissed',
      ]);
    } finally {
      await local.close();
    }
  });
});
