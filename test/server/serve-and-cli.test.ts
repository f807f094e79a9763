/**
 * `gatehouse serve` started the way users start it (runServe with an environment), then the
 * `gatehouse query` and `gatehouse grants` commands against it over HTTP. Real MariaDB and
 * PostgreSQL, real SQLite state, GitHub's /user served by a loopback stand-in, and the
 * server's clock driven through GATEHOUSE_CLOCK_FILE.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runGrants } from '../../src/cli/commands/grants.js';
import { runQuery } from '../../src/cli/commands/query.js';
import { runServe } from '../../src/cli/commands/serve.js';
import { grantId } from '../../src/grants/grant-id.js';
import type { Gatehouse } from '../../src/wiring.js';
import { startFakeGithubUsers, type FakeGithubUsers } from './support/fake-github-users.js';
import {
  createGatewayFixture,
  ENGINE_ENV,
  MARKER,
  PASSWORD_ENV,
  testClock,
  type GatewayFixture,
} from './support/gateway-fixture.js';

const T0 = '2030-06-01T09:00:00Z';
const HOUR = 3_600_000;

interface Captured extends CliIo {
  readonly out: string[];
  readonly err: string[];
}

function captureIo(env: Record<string, string | undefined>, cwd = process.cwd()): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, cwd };
}

const noGh = async () => null;

type ErrorJson = { error: { code: string } };

interface Running {
  readonly gatehouse: Gatehouse;
  readonly stop: () => void;
  readonly exit: Promise<number>;
  readonly io: Captured;
}

async function startServe(env: Record<string, string | undefined>): Promise<Running> {
  let stop: (signal: string) => void = () => undefined;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  let listening: (g: Gatehouse) => void = () => undefined;
  const started = new Promise<Gatehouse>((resolve) => (listening = resolve));
  const io = captureIo(env);
  const exit = runServe([], io, { stopSignal, onListening: listening });
  const gatehouse = await Promise.race([
    started,
    exit.then((code) => {
      throw new Error(`serve exited ${code}: ${io.err.join('')}`);
    }),
  ]);
  return { gatehouse, stop: () => stop('SIGTERM'), exit, io };
}

let fx: GatewayFixture;
let github: FakeGithubUsers;
let dir: string;
let clockFile: string;
let running: Running;
let baseEnv: Record<string, string>;

function databasesYaml(): string {
  return `databases:
  hr_test:
    engine: mysql
    environment: test
    host: 127.0.0.1
    port: 3306
    name: ${fx.mysqlName}
    auth:
      password:
        user: ${fx.user}
        passwordEnv: ${PASSWORD_ENV}
  analytics_test:
    engine: postgres
    environment: test
    host: 127.0.0.1
    port: 5432
    name: ${fx.pgName}
    auth:
      password:
        user: ${fx.user}
        passwordEnv: ${PASSWORD_ENV}
`;
}

beforeAll(async () => {
  fx = await createGatewayFixture(testClock().clock);
  github = await startFakeGithubUsers({ ghp_alice: 'alice' });
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'databases.yaml'), databasesYaml());
  clockFile = join(dir, 'clock');
  writeFileSync(clockFile, T0);
  baseEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    GATEHOUSE_REPO_DIR: dir,
    GATEHOUSE_STATE: join(dir, 'state', 'gatehouse.db'),
    GATEHOUSE_GITHUB_API_URL: github.url,
    GATEHOUSE_CLOCK_FILE: clockFile,
    GATEHOUSE_LOG_LEVEL: 'silent',
    ...ENGINE_ENV,
  };
  mkdirSync(join(dir, 'state'));
  running = await startServe(baseEnv);
  const t0 = new Date(T0).getTime();
  await running.gatehouse.state.grants.insert({
    id: grantId('acme/access', 'access/hr_test/alice.yaml', 'a'.repeat(40)),
    repo: 'acme/access',
    requester: 'alice',
    database: 'hr_test',
    tables: ['employee'],
    access: 'read',
    level: 'low',
    reason: 'incident 7',
    ticket: 'INC-7',
    filePath: 'access/hr_test/alice.yaml',
    prNumber: 7,
    prUrl: 'https://github.com/acme/access/pull/7',
    headSha: 'b'.repeat(40),
    mergeSha: 'a'.repeat(40),
    approvers: [{ login: 'dba-dana', reviewId: 1 }],
    activatedAt: new Date(t0 - HOUR),
    expiresAt: new Date(t0 + 2 * HOUR),
  });
});

afterAll(async () => {
  running?.stop();
  await running?.exit;
  await github?.close();
  await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(env: Record<string, string | undefined> = {}) {
  return captureIo({
    GATEHOUSE_SERVER: running.gatehouse.url,
    GATEHOUSE_TOKEN: 'ghp_alice',
    ...env,
  });
}

describe('gatehouse serve', () => {
  it('listens, answers /healthz and /readyz, and reports the databases when asked', async () => {
    const { url } = running.gatehouse;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz?databases=1`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { state: 'ok', policies: 'ok', github: 'off' },
      databases: { hr_test: 'ok', analytics_test: 'ok' },
    });
  });

  it('answers 503 CONFIG_GITHUB_APP_MISSING on the webhook route without a GitHub App', async () => {
    const res = await fetch(`${running.gatehouse.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping' },
      body: '{}',
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorJson).error.code).toBe('CONFIG_GITHUB_APP_MISSING');
  });

  it('refuses an invalid configuration with exit 2, naming the key', async () => {
    const io = captureIo({ ...baseEnv, GATEHOUSE_MAX_ROWS: 'lots' });
    expect(await runServe([], io, { stopSignal: Promise.resolve('SIGTERM') })).toBe(2);
    expect(io.err.join('')).toContain('CONFIG_INVALID: GATEHOUSE_MAX_ROWS:');
  });

  it('refuses a repository without policies/databases.yaml with exit 2', async () => {
    const io = captureIo({ ...baseEnv, GATEHOUSE_REPO_DIR: join(dir, 'nowhere') });
    expect(await runServe([], io, { stopSignal: Promise.resolve('SIGTERM') })).toBe(2);
    expect(io.err.join('')).toContain('GATEHOUSE_REPO_DIR');
  });

  it('refuses unknown flags with exit 2', async () => {
    const io = captureIo(baseEnv);
    expect(await runServe(['--frobnicate'], io)).toBe(2);
  });

  it('wires a configured GitHub App: signed webhooks reach Probot, unsigned ones are refused', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const secret = randomBytes(16).toString('hex');
    const app = await startServe({
      ...baseEnv,
      GATEHOUSE_STATE: join(dir, 'state', 'app.db'),
      APP_ID: '4242',
      PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      WEBHOOK_SECRET: secret,
      GATEHOUSE_REPOSITORY: 'acme/access',
    });
    try {
      const payload = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
      const send = async (signature: string) =>
        fetch(`${app.gatehouse.url}/api/github/webhooks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'ping',
            'x-github-delivery': randomBytes(8).toString('hex'),
            'x-hub-signature-256': signature,
          },
          body: payload,
        });
      expect((await send(await sign(secret, payload))).status).toBe(200);
      const refused = await send(await sign('wrong', payload));
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as ErrorJson).error.code).toBe('WEBHOOK_SIGNATURE');
      const records = await app.gatehouse.state.audit.query({
        types: ['webhook.signature_refused'],
      });
      expect(records).toHaveLength(1);
      const ready = await fetch(`${app.gatehouse.url}/readyz`);
      expect(((await ready.json()) as { checks: { github: string } }).checks.github).toBe('ok');
    } finally {
      app.stop();
      expect(await app.exit).toBe(0);
    }
  });
});

describe('gatehouse query', () => {
  it('prints a readable table and exits 0', async () => {
    const io = cli();
    const code = await runQuery(
      ['hr_test', 'SELECT emp_no, first_name FROM employee ORDER BY emp_no', '--max-rows', '2'],
      io,
      { gh: noGh },
    );
    expect(code).toBe(0);
    expect(io.out.join('')).toBe(
      'emp_no | first_name\n-------+-----------\n1      | First1\n2      | First2\n',
    );
    expect(io.err.join('')).toMatch(/^\(2 rows, truncated .*audit id \d+\)\n$/);
  });

  it('prints JSON and CSV', async () => {
    const json = cli();
    expect(
      await runQuery(
        ['hr_test', 'SELECT emp_no FROM employee WHERE emp_no = 3', '--format', 'json'],
        json,
        { gh: noGh },
      ),
    ).toBe(0);
    expect(JSON.parse(json.out.join(''))).toMatchObject({
      rows: [[3]],
      rowCount: 1,
      truncated: false,
    });
    const csv = cli();
    expect(
      await runQuery(
        [
          'hr_test',
          "SELECT emp_no, CONCAT(first_name, ', x') AS n FROM employee WHERE emp_no = 3",
          '--format',
          'csv',
        ],
        csv,
        { gh: noGh },
      ),
    ).toBe(0);
    expect(csv.out.join('')).toBe('emp_no,n\r\n3,"First3, x"\r\n');
  });

  it('prints the refusal with its code and the request command, exit 1, and no data', async () => {
    const io = cli();
    expect(await runQuery(['hr_test', 'SELECT note FROM salary'], io, { gh: noGh })).toBe(1);
    const err = io.err.join('');
    expect(err).toContain('SQL_TABLE_NOT_GRANTED (HTTP 403)');
    expect(err).toMatch(/To request access, run:\n {2}gatehouse request hr_test --tables salary /);
    expect(err + io.out.join('')).not.toContain(MARKER);
  });

  it('exits 1 with AUTH_INVALID for a token GitHub refuses', async () => {
    const io = cli({ GATEHOUSE_TOKEN: 'ghp_revoked' });
    expect(await runQuery(['hr_test', 'SELECT 1'], io, { gh: noGh })).toBe(1);
    expect(io.err.join('')).toContain('AUTH_INVALID (HTTP 401)');
  });

  it('exits 2 on usage errors and without any token', async () => {
    expect(await runQuery(['hr_test'], cli(), { gh: noGh })).toBe(2);
    expect(await runQuery(['hr_test', 'SELECT 1', '--format', 'xml'], cli(), { gh: noGh })).toBe(2);
    expect(await runQuery(['hr_test', 'SELECT 1', '--max-rows', '0'], cli(), { gh: noGh })).toBe(2);
    expect(await runQuery(['hr_test', 'SELECT 1', '--bogus'], cli(), { gh: noGh })).toBe(2);
    const io = cli({ GATEHOUSE_TOKEN: undefined, GITHUB_TOKEN: undefined });
    expect(await runQuery(['hr_test', 'SELECT 1'], io, { gh: noGh })).toBe(2);
    expect(io.err.join('')).toContain('GATEHOUSE_TOKEN');
  });

  it('falls back to GITHUB_TOKEN, then to `gh auth token`', async () => {
    const viaEnv = cli({ GATEHOUSE_TOKEN: undefined, GITHUB_TOKEN: 'ghp_alice' });
    expect(
      await runQuery(['hr_test', 'SELECT emp_no FROM employee WHERE emp_no = 1'], viaEnv, {
        gh: noGh,
      }),
    ).toBe(0);
    const viaGh = cli({ GATEHOUSE_TOKEN: undefined, GITHUB_TOKEN: undefined });
    expect(
      await runQuery(['hr_test', 'SELECT emp_no FROM employee WHERE emp_no = 1'], viaGh, {
        gh: async () => 'ghp_alice',
      }),
    ).toBe(0);
  });

  it('exits 3 when the server cannot be reached', async () => {
    const gone = await startFakeGithubUsers();
    await gone.close();
    const io = cli({ GATEHOUSE_SERVER: gone.url });
    expect(await runQuery(['hr_test', 'SELECT 1'], io, { gh: noGh })).toBe(3);
    expect(io.err.join('')).toContain('cannot reach the Gatehouse server');
  });
});

describe('gatehouse grants, and expiry on the server clock', () => {
  it('lists the active grant with its expiry and pull request', async () => {
    const io = cli();
    expect(await runGrants([], io, { gh: noGh, now: new Date(T0) })).toBe(0);
    const out = io.out.join('');
    expect(out).toContain('hr_test');
    expect(out).toContain('employee');
    expect(out).toContain('2030-06-01T11:00:00.000Z (in 2h 0m)');
    expect(out).toContain('https://github.com/acme/access/pull/7');
    const json = cli();
    expect(await runGrants(['--format', 'json'], json, { gh: noGh })).toBe(0);
    expect(JSON.parse(json.out.join('')).grants[0]).toMatchObject({ prNumber: 7, ticket: 'INC-7' });
  });

  it('refuses the grant once the server clock passes its expiry', async () => {
    writeFileSync(clockFile, '2030-06-01T11:00:00Z'); // == expiresAt
    try {
      const io = cli();
      expect(await runQuery(['hr_test', 'SELECT emp_no FROM employee'], io, { gh: noGh })).toBe(1);
      expect(io.err.join('')).toContain('SQL_NO_GRANT');
      const grants = cli();
      expect(await runGrants([], grants, { gh: noGh })).toBe(0);
      expect(grants.out.join('')).toContain('alice holds no active grant');
    } finally {
      writeFileSync(clockFile, T0);
    }
  });
});
