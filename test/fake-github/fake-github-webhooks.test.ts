import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateAppPrivateKey, startFakeGitHub } from './fake-github.js';
import type { FakeGitHub } from './fake-github.js';

// A real Probot app on a real loopback server receives the fake's signed webhooks and calls
// the fake back through its installation Octokit, as Gatehouse will.
const QuietOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: { ...(options['throttle'] as object), enabled: false },
}));

interface Seen {
  readonly id: string;
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

const FULL = 'acme/access';
const SECRET = 'webhook-secret';
let fake: FakeGitHub;
let server: Server;
let seen: Seen[] = [];

beforeAll(async () => {
  const privateKey = generateAppPrivateKey();
  fake = await startFakeGitHub({ appId: 91, privateKeyPem: privateKey, webhookSecret: SECRET });
  const probot = new Probot({
    appId: 91,
    privateKey,
    secret: SECRET,
    baseUrl: fake.apiUrl,
    logLevel: 'fatal',
    Octokit: QuietOctokit,
  });
  probot.onAny(async (context) => {
    seen.push({
      id: context.id,
      name: context.name,
      payload: context.payload as unknown as Record<string, unknown>,
    });
  });
  // What the review gate does on a new PR: read the request file from the head, post a check.
  probot.on('pull_request.opened', async (context) => {
    const pr = context.payload.pull_request;
    const { data } = await context.octokit.rest.repos.getContent(
      context.repo({ path: 'access/hr_prod/alice.yaml', ref: pr.head.sha }),
    );
    const text =
      !Array.isArray(data) && data.type === 'file'
        ? Buffer.from(data.content, 'base64').toString('utf8')
        : '';
    await context.octokit.rest.checks.create(
      context.repo({
        name: 'Gatehouse / access policy',
        head_sha: pr.head.sha,
        status: 'completed',
        conclusion: 'action_required',
        details_url: pr.html_url,
        output: { title: 'Needs @acme/dba', summary: text },
      }),
    );
  });
  const middleware = await probot.getNodeMiddleware();
  server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fake.setWebhook({ url: `http://127.0.0.1:${port}/api/github/webhooks` });
  fake.addUser('alice');
  fake.addUser('bob');
  await fake.createRepo('acme', 'access', { files: { 'policies/risk.yaml': 'levels: {}\n' } });
  await fake.idle();
});

beforeEach(() => {
  seen = [];
});

afterAll(async () => {
  await fake.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('fake GitHub webhooks to a Probot app', () => {
  let number: number;
  let firstHead: string;

  it('delivers a signed pull_request.opened that the app handles through the fake', async () => {
    await fake.pushCommit({
      repo: FULL,
      branch: 'alice/hr',
      author: 'alice',
      files: { 'access/hr_prod/alice.yaml': 'requester: alice\n' },
    });
    const pr = await fake.openPullRequest({
      repo: FULL,
      head: 'alice/hr',
      title: 'Access to hr_prod',
      author: 'alice',
    });
    number = pr.number;
    firstHead = pr.headSha;
    await fake.idle();
    const opened = seen.find((s) => s.name === 'pull_request' && s.payload['action'] === 'opened');
    expect(opened).toBeDefined();
    const payload = opened!.payload as {
      number: number;
      pull_request: {
        head: { sha: string; ref: string };
        base: { ref: string; sha: string };
        user: { login: string };
        merged: boolean;
        merged_at: null;
      };
      repository: { full_name: string; default_branch: string; owner: { login: string } };
      installation: { id: number };
      sender: { login: string };
    };
    expect(payload.number).toBe(pr.number);
    expect(payload.pull_request.head).toMatchObject({ sha: pr.headSha, ref: 'alice/hr' });
    expect(payload.pull_request.base.ref).toBe('main');
    expect(payload.pull_request.user.login).toBe('alice');
    expect([payload.pull_request.merged, payload.pull_request.merged_at]).toEqual([false, null]);
    expect(payload.repository).toMatchObject({
      full_name: FULL,
      default_branch: 'main',
      owner: { login: 'acme' },
    });
    expect(payload.installation.id).toBe(fake.installationId('acme'));
    expect(payload.sender.login).toBe('alice');
    expect(opened!.id).toMatch(/^[0-9a-f-]{36}$/);
    // The push that created the branch came first; every delivery was accepted.
    expect(seen.map((s) => s.name)).toEqual(['push', 'pull_request', 'check_run', 'check_run']);
    expect(fake.deliveries.every((d) => d.state === 'delivered' && d.status === 200)).toBe(true);
    const check = fake.latestCheckRun(FULL, pr.headSha, 'Gatehouse / access policy');
    expect(check).toMatchObject({
      conclusion: 'action_required',
      output: { summary: 'requester: alice\n' },
    });
    expect(fake.unhandled).toEqual([]);
  });

  it('sends pull_request_review with the lower-case state and synchronize on a push', async () => {
    await fake.review({ repo: FULL, number, reviewer: 'bob', state: 'APPROVED' });
    const push = await fake.pushCommit({
      repo: FULL,
      branch: 'alice/hr',
      author: 'alice',
      files: { 'access/hr_prod/alice.yaml': 'requester: alice\nreason: y\n' },
    });
    await fake.idle();
    const review = seen.find((s) => s.name === 'pull_request_review')!.payload as {
      action: string;
      review: { state: string; user: { login: string } };
    };
    expect([review.action, review.review.state, review.review.user.login]).toEqual([
      'submitted',
      'approved',
      'bob',
    ]);
    const sync = seen.find((s) => s.payload['action'] === 'synchronize')!.payload as {
      before: string;
      after: string;
    };
    expect([sync.before, sync.after]).toEqual([push.before, push.sha]);
  });

  it('sends closed with merged: true, then the push of the merge commit', async () => {
    const { sha } = await fake.merge({ repo: FULL, number, by: 'bob' });
    await fake.idle();
    expect(seen.map((s) => `${s.name}.${String(s.payload['action'] ?? '')}`)).toEqual([
      'pull_request.closed',
      'push.',
    ]);
    const closed = seen[0]!.payload as {
      pull_request: { merged: boolean; merge_commit_sha: string; merged_by: { login: string } };
    };
    expect(closed.pull_request).toMatchObject({
      merged: true,
      merge_commit_sha: sha,
      merged_by: { login: 'bob' },
    });
    const push = seen[1]!.payload as { ref: string; after: string; commits: Array<{ id: string }> };
    expect([push.ref, push.after, push.commits.at(-1)?.id]).toEqual(['refs/heads/main', sha, sha]);
  });

  it('duplicates a delivery with the same id, drops one on demand, and redelivers it', async () => {
    fake.duplicateNextDelivery('push');
    await fake.pushDirect({ repo: FULL, author: 'bob', files: { 'README.md': 'one\n' } });
    await fake.idle();
    expect(seen.map((s) => s.name)).toEqual(['push', 'push']);
    expect(seen[0]!.id).toBe(seen[1]!.id);

    seen = [];
    fake.dropNextDelivery('push');
    await fake.pushDirect({ repo: FULL, author: 'bob', files: { 'README.md': 'two\n' } });
    await fake.idle();
    expect(seen).toEqual([]);
    const lost = fake.deliveriesOf('push').at(-1)!;
    expect(lost.state).toBe('dropped');
    fake.redeliver(lost.id);
    await fake.idle();
    expect(seen.map((s) => s.id)).toEqual([lost.id]);
  });

  it('sends check_run.rerequested on demand', async () => {
    const run = fake.checkRuns(FULL, firstHead)[0];
    expect(run).toBeDefined();
    await fake.rerequestCheckRun({ repo: FULL, checkRunId: run!['id'] as number, by: 'alice' });
    await fake.idle();
    expect(seen.map((s) => `${s.name}.${String(s.payload['action'])}`)).toEqual([
      'check_run.rerequested',
    ]);
  });

  it('records the app refusing a delivery signed with another secret', async () => {
    fake.setWebhook({ url: webhookUrl(), secret: 'wrong' });
    await fake.comment({
      repo: FULL,
      number,
      by: 'alice',
      body: 'ignored: issue_comment is not subscribed',
    });
    await fake.pushDirect({ repo: FULL, author: 'bob', files: { 'README.md': 'three\n' } });
    await fake.idle();
    fake.setWebhook({ url: webhookUrl(), secret: SECRET });
    expect(seen).toEqual([]);
    const refused = fake.deliveries.at(-1)!;
    expect([refused.event, refused.state]).toEqual(['push', 'failed']);
    expect(refused.status).toBeGreaterThanOrEqual(400);
  });
});

function webhookUrl(): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
}
