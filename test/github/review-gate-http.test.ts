import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import nock from 'nock';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerReviewGate } from '../../src/github/review-gate.js';
import { CHECK_NAME } from '../../src/github/review-gate-config.js';
import { mountFakeGithub, newState, type FakeState } from './support/fake-github-api.js';
import {
  addRequest,
  CONFIG,
  NOW,
  pullRequestPayload,
  putBasePolicy,
  requestYaml,
} from './support/review-gate-fixtures.js';

/**
 * The app as GitHub meets it: a real HTTP server on a free loopback port serving Probot's
 * webhook middleware, authenticated as a GitHub App (JWT from a freshly generated RSA key,
 * then an installation token), with deliveries signed by the real `sign()` and sent with
 * fetch (the @octokit/webhooks.js way: no HTTP mocking of our own server).
 */
const SECRET = 'webhook-secret-for-tests';
const PATH = '/api/github/webhooks';

let state: FakeState;
let server: Server;
let url: string;

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  state = newState();
  putBasePolicy(state);
  mountFakeGithub(state);
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const probot = new Probot({
    appId: 123,
    privateKey,
    secret: SECRET,
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const middleware = await createNodeMiddleware(
    (app) => registerReviewGate(app, { config: CONFIG, clock: () => NOW }),
    { probot, webhooksPath: PATH },
  );
  server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  nock.cleanAll();
  nock.enableNetConnect();
});

function deliver(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      ...headers,
    },
    body,
  });
}

describe('review gate over HTTP', () => {
  it('handles a signed webhook: installation token, then the check', async () => {
    addRequest(
      state,
      'access/hr_prod/alice-incident.yaml',
      requestYaml('alice', 'hr_prod', ['employee']),
    );
    const body = JSON.stringify(pullRequestPayload(state, 'opened'));
    const response = await deliver(body, { 'x-hub-signature-256': await sign(SECRET, body) });
    expect(response.status).toBe(200);
    expect(state.calls[0]).toBe('POST /app/installations/42/access_tokens');
    const run = state.checkRuns.find((r) => r.name === CHECK_NAME);
    expect(run?.conclusion).toBe('action_required');
  });

  it('refuses an unsigned webhook with no side effect', async () => {
    const body = JSON.stringify(pullRequestPayload(state, 'opened'));
    const response = await deliver(body, {});
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('x-hub-signature-256');
    expect(state.calls).toEqual([]);
    expect(state.checkRuns).toEqual([]);
  });

  // @octokit/webhooks 14 answers 400 (not 401) to a signature mismatch.
  it('refuses a webhook signed with another secret (400) with no side effect', async () => {
    const body = JSON.stringify(pullRequestPayload(state, 'opened'));
    const response = await deliver(body, {
      'x-hub-signature-256': await sign('not-the-secret', body),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('signature does not match');
    expect(state.calls).toEqual([]);
    expect(state.checkRuns).toEqual([]);
  });

  it('refuses a signed body that was altered in transit', async () => {
    const body = JSON.stringify(pullRequestPayload(state, 'opened'));
    const signature = await sign(SECRET, body);
    const response = await deliver(body.replace('"alice"', '"mallory"'), {
      'x-hub-signature-256': signature,
    });
    expect(response.status).toBe(400);
    expect(state.calls).toEqual([]);
  });
});
