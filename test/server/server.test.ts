import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createQueryService } from '../../src/gateway/query-service.js';
import { createCompositeIdentityProvider } from '../../src/identity/composite-identity-provider.js';
import { createGithubIdentityProvider } from '../../src/identity/github/github-identity-provider.js';
import type { IdentityProvider } from '../../src/identity/identity-provider.js';
import { buildServer } from '../../src/server/build-server.js';
import { createReadinessCheck } from '../../src/server/readiness.js';
import type { WebhookReceiver } from '../../src/server/webhook-receiver.js';
import { initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import {
  startFakeGithubUsers,
  RATE_LIMITED_TOKEN,
  FORBIDDEN_TOKEN,
  type FakeGithubUsers,
} from './support/fake-github-users.js';
import {
  createGatewayFixture,
  EMPLOYEES,
  MARKER,
  MYSQL_DB,
  PG_DB,
  switchableAudit,
  testClock,
  type GatewayFixture,
  type SwitchableAudit,
} from './support/gateway-fixture.js';

const ALICE = 'ghp_alice_token_0123456789';
const BOB = 'gho_bob_token_9876543210';
const SECRET = 'webhook-secret-for-tests';
const LIMITS = {
  statementTimeoutMs: 30_000,
  defaultMaxRows: 1000,
  maxRowsCap: 5000,
  maxResultBytes: 10 * 1024 * 1024,
  redactSqlLiterals: false,
};
const HOUR = 3_600_000;

const require = createRequire(import.meta.url);
const EXAMPLES = require('@octokit/webhooks-examples') as {
  name: string;
  examples: { action?: string }[];
}[];
const ISSUES_OPENED = EXAMPLES.find((e) => e.name === 'issues')?.examples.find(
  (x) => x.action === 'opened',
);

const clock = testClock();
let fx: GatewayFixture;
let audit: SwitchableAudit;
let github: FakeGithubUsers;
let probot: Probot;
const delivered: string[] = [];
const logLines: string[] = [];
/** Warnings the process emitted (Fastify reports a deprecated option this way, once). */
const processWarnings: Error[] = [];
process.on('warning', (warning) => processWarnings.push(warning));

function build(
  overrides: { identity?: IdentityProvider; webhooks?: WebhookReceiver | null } = {},
): FastifyInstance {
  const engineFor = (id: string) => {
    const engine = fx.engines.get(id);
    if (engine === undefined) throw new Error(`no engine ${id}`);
    return engine;
  };
  const identity =
    overrides.identity ??
    createCompositeIdentityProvider({
      github: createGithubIdentityProvider({
        apiUrl: github.url,
        clock: clock.clock,
        cacheTtlMs: 60_000,
      }),
      oidc: null,
    });
  return buildServer({
    queryService: createQueryService({
      databases: () => fx.databases,
      grants: fx.state.grants,
      audit,
      engines: engineFor,
      clock: clock.clock,
      limits: LIMITS,
    }),
    identity,
    audit,
    limits: LIMITS,
    readiness: createReadinessCheck({
      grants: fx.state.grants,
      audit,
      databaseIds: [...fx.databases.keys()],
      engineFor,
      githubApp: true,
    }),
    webhooks: overrides.webhooks === undefined ? probot.webhooks : overrides.webhooks,
    clock: clock.clock,
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
  });
}

function executions(database: string): number {
  return fx.engines.get(database)?.executions.length ?? -1;
}

let app: FastifyInstance;

beforeAll(async () => {
  await initSqlAnalysis();
  fx = await createGatewayFixture(clock.clock);
  audit = switchableAudit(fx.state.audit);
  github = await startFakeGithubUsers({ [ALICE]: 'alice', [BOB]: 'bob' });
  probot = new Probot({
    githubToken: 'test',
    secret: SECRET,
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
    log: pino({ level: 'silent' }),
  });
  probot.onAny(async (event) => {
    delivered.push(`${event.name}:${event.id}`);
  });
  const window = {
    from: new Date(clock.now().getTime() - HOUR),
    until: new Date(clock.now().getTime() + HOUR),
  };
  await fx.grant('alice', MYSQL_DB, ['employee'], window);
  await fx.grant('alice', PG_DB, ['employee'], window);
  await fx.grant('bob', MYSQL_DB, ['salary'], window);
  await fx.grant('bob', PG_DB, ['salary'], window);
  app = build();
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await github?.close();
  await fx?.close();
});
beforeEach(() => {
  audit.failing = false;
});

function query(token: string | null, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/v1/query',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      'content-type': 'application/json',
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('authentication (401 before anything else runs)', () => {
  it('refuses a request without a token with AUTH_MISSING and a Bearer challenge', async () => {
    const before = executions(MYSQL_DB);
    const res = await query(null, { database: MYSQL_DB, sql: 'SELECT emp_no FROM employee' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_MISSING');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(executions(MYSQL_DB)).toBe(before);
  });

  it('authenticates before parsing: a malformed body without a token is still a 401', async () => {
    const res = await query(null, '{not json');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_MISSING');
  });

  it('refuses a token GitHub answers 401 to with AUTH_INVALID', async () => {
    const res = await query('ghp_not_a_real_token', { database: MYSQL_DB, sql: 'SELECT 1' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_INVALID');
  });

  it('refuses a token GitHub answers 403 to (e.g. an installation token) with AUTH_INVALID', async () => {
    const res = await query(FORBIDDEN_TOKEN, { database: MYSQL_DB, sql: 'SELECT 1' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_INVALID');
  });

  it('refuses a non-Bearer Authorization header with AUTH_INVALID', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/grants',
      headers: { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_INVALID');
  });

  it('answers 503 AUTH_PROVIDER_UNAVAILABLE when GitHub rate-limits the check', async () => {
    const res = await query(RATE_LIMITED_TOKEN, { database: MYSQL_DB, sql: 'SELECT 1' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
  });

  it('answers 503 AUTH_PROVIDER_UNAVAILABLE when GitHub cannot be reached', async () => {
    const gone = await startFakeGithubUsers();
    const url = gone.url;
    await gone.close();
    const unreachable = build({
      identity: createGithubIdentityProvider({ apiUrl: url, clock: clock.clock, cacheTtlMs: 0 }),
    });
    try {
      const res = await unreachable.inject({
        method: 'GET',
        url: '/v1/grants',
        headers: { authorization: `Bearer ${ALICE}` },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
    } finally {
      await unreachable.close();
    }
  });

  it('refuses unknown routes without a token (401), and names them with one (404)', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(anonymous.statusCode).toBe(401);
    const known = await app.inject({
      method: 'GET',
      url: '/v1/nothing-here',
      headers: { authorization: `Bearer ${ALICE}` },
    });
    expect(known.statusCode).toBe(404);
    expect(known.json().error.code).toBe('NOT_FOUND');
  });
});

describe('POST /v1/query', () => {
  it('returns columns, rows, rowCount, truncated and auditId for an allowed query', async () => {
    const res = await query(ALICE, {
      database: PG_DB,
      sql: 'SELECT emp_no, last_name FROM employee ORDER BY emp_no',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual([
      'auditId',
      'columns',
      'rowCount',
      'rows',
      'truncated',
    ]);
    expect(body.columns).toEqual([
      { name: 'emp_no', type: expect.any(String) },
      { name: 'last_name', type: expect.any(String) },
    ]);
    expect(body.rowCount).toBe(EMPLOYEES);
    expect(body.rows[0]).toEqual([1, 'Last1']);
    expect(body.truncated).toBe(false);
    expect(body.auditId).toMatch(/^\d+$/);
  });

  it('refuses an ungranted table with 403, the code, and the request command as hint', async () => {
    const before = executions(MYSQL_DB);
    const res = await query(ALICE, { database: MYSQL_DB, sql: 'SELECT note FROM salary' });
    expect(res.statusCode).toBe(403);
    const { error } = res.json();
    expect(error.code).toBe('SQL_TABLE_NOT_GRANTED');
    expect(error.hint).toMatch(new RegExp(`^gatehouse request ${MYSQL_DB} --tables salary `));
    expect(error.auditId).toMatch(/^\d+$/);
    expect(res.body).not.toContain(MARKER);
    expect(executions(MYSQL_DB)).toBe(before);
  });

  it.each([
    ['a missing sql', { database: MYSQL_DB }],
    ['an unknown key', { database: MYSQL_DB, sql: 'SELECT 1', user: 'root' }],
    ['maxRows as a string', { database: MYSQL_DB, sql: 'SELECT 1', maxRows: '10' }],
    ['maxRows above the cap', { database: MYSQL_DB, sql: 'SELECT 1', maxRows: 5001 }],
    ['maxRows zero', { database: MYSQL_DB, sql: 'SELECT 1', maxRows: 0 }],
    ['an empty sql', { database: MYSQL_DB, sql: '' }],
    ['a body that is an array', [MYSQL_DB, 'SELECT 1']],
    ['invalid JSON', '{"database": "hr_test", "sql": '],
  ])('answers 400 BAD_REQUEST to %s', async (_name, body) => {
    const res = await query(ALICE, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers 400 BAD_REQUEST to a body that is not JSON', async () => {
    const res = await query(ALICE, 'database=hr_test', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers 404 UNKNOWN_DATABASE for a database not in policies/databases.yaml', async () => {
    const res = await query(ALICE, { database: 'payroll', sql: 'SELECT 1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({
      code: 'UNKNOWN_DATABASE',
      auditId: expect.any(String),
    });
  });

  it('answers 503 AUDIT_UNAVAILABLE and runs nothing when the audit store cannot write', async () => {
    const before = executions(PG_DB);
    audit.failing = true;
    const res = await query(ALICE, { database: PG_DB, sql: 'SELECT emp_no FROM employee' });
    audit.failing = false;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('AUDIT_UNAVAILABLE');
    expect(executions(PG_DB)).toBe(before);
  });

  it('caps the rows at maxRows and says so', async () => {
    const res = await query(ALICE, {
      database: MYSQL_DB,
      sql: 'SELECT emp_no FROM employee ORDER BY emp_no',
      maxRows: 3,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ rows: [[1], [2], [3]], rowCount: 3, truncated: true });
  });

  it('honours a plain x-request-id, replaces a hostile one, and echoes it', async () => {
    const plain = await query(
      ALICE,
      { database: 'payroll', sql: 'SELECT 1' },
      {
        'x-request-id': 'trace-123',
      },
    );
    expect(plain.headers['x-request-id']).toBe('trace-123');
    const [record] = (await fx.state.audit.query({ limit: 10_000 })).filter(
      (r) => r.requestId === 'trace-123',
    );
    expect(record?.type).toBe('query.attempt');
    const hostile = await query(
      ALICE,
      { database: 'payroll', sql: 'SELECT 1' },
      {
        'x-request-id': 'a'.repeat(500),
      },
    );
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('GET /v1/grants', () => {
  it("lists the caller's active grants with expiry and PR links", async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/grants',
      headers: { authorization: `Bearer ${BOB}` },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.login).toBe('bob');
    expect(body.grants).toHaveLength(2);
    for (const grant of body.grants) {
      expect(grant.tables).toEqual(['salary']);
      expect(grant.prUrl).toMatch(/^https:\/\/github\.com\/acme\/access\/pull\/\d+$/);
      expect(new Date(grant.expiresAt).getTime()).toBeGreaterThan(clock.now().getTime());
      expect(grant.approvers).toEqual(['dba-dana']);
    }
  });
});

describe('health probes (no token)', () => {
  it('GET /healthz says the process is up', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the state store, and pings databases when asked', async () => {
    const plain = await app.inject({ method: 'GET', url: '/readyz' });
    expect(plain.statusCode).toBe(200);
    expect(plain.json()).toEqual({
      status: 'ready',
      checks: { state: 'ok', policies: 'ok', github: 'ok' },
    });
    const withDatabases = await app.inject({ method: 'GET', url: '/readyz?databases=1' });
    expect(withDatabases.json().databases).toEqual({ [MYSQL_DB]: 'ok', [PG_DB]: 'ok' });
  });
});

describe('POST /api/github/webhooks', () => {
  const payload = JSON.stringify(ISSUES_OPENED);

  function deliver(id: string, signature: string | undefined, body = payload) {
    return app.inject({
      method: 'POST',
      url: '/api/github/webhooks',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': id,
        ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
      },
      payload: body,
    });
  }

  it('verifies the signature and hands a signed delivery to Probot', async () => {
    const res = await deliver('delivery-ok', await sign(SECRET, payload));
    expect(res.statusCode).toBe(200);
    expect(delivered).toContain('issues:delivery-ok');
  });

  it.each([
    ['a wrong signature', async () => sign('another-secret', payload)],
    ['a missing signature', async () => undefined],
  ])(
    'refuses %s with 401 WEBHOOK_SIGNATURE, no side effect, and an audit record',
    async (_n, signature) => {
      const id = `delivery-bad-${Math.random().toString(36).slice(2)}`;
      const res = await deliver(id, await signature());
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('WEBHOOK_SIGNATURE');
      expect(delivered.some((d) => d.endsWith(id))).toBe(false);
      const refused = await fx.state.audit.query({ types: ['webhook.signature_refused'] });
      expect(refused.some((r) => r.details?.delivery === id)).toBe(true);
    },
  );

  it('refuses a payload altered after signing', async () => {
    const signature = await sign(SECRET, payload);
    const res = await deliver('delivery-altered', signature, payload.replace('opened', 'closed'));
    expect(res.statusCode).toBe(401);
    expect(delivered).not.toContain('issues:delivery-altered');
  });

  it('answers 503 CONFIG_GITHUB_APP_MISSING when no GitHub App is configured', async () => {
    const bare = build({ webhooks: null });
    try {
      const res = await bare.inject({
        method: 'POST',
        url: '/api/github/webhooks',
        headers: { 'content-type': 'application/json', 'x-github-event': 'ping' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('CONFIG_GITHUB_APP_MISSING');
    } finally {
      await bare.close();
    }
  });
});

describe('over a real socket', () => {
  let url: string;
  let listening: FastifyInstance;
  beforeAll(async () => {
    listening = build();
    url = await listening.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await listening.close();
  });

  async function post(token: string, database: string, sql: string, requestId: string) {
    const res = await fetch(`${url}/v1/query`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ database, sql }),
    });
    return { status: res.status, body: await res.text() };
  }

  it('keeps identities and grants apart across concurrent queries of two users', async () => {
    const aliceLookups = () => github.calls.filter((c) => c === `Bearer ${ALICE}`).length;
    const lookupsBefore = aliceLookups();
    const calls = [];
    for (let i = 0; i < 6; i += 1) {
      for (const database of [MYSQL_DB, PG_DB]) {
        calls.push(
          post(
            ALICE,
            database,
            'SELECT first_name FROM employee WHERE emp_no = 1',
            `a-ok-${database}-${i}`,
          ),
          post(ALICE, database, 'SELECT note FROM salary', `a-no-${database}-${i}`),
          post(BOB, database, 'SELECT note FROM salary WHERE emp_no = 1', `b-ok-${database}-${i}`),
          post(BOB, database, 'SELECT first_name FROM employee', `b-no-${database}-${i}`),
        );
      }
    }
    const results = await Promise.all(calls);
    const ids = calls.map((_c, i) => i);
    const records = await fx.state.audit.query({ types: ['query.attempt'], limit: 10_000 });
    for (const i of ids) {
      const result = results[i];
      const requestId = [...['a-ok', 'a-no', 'b-ok', 'b-no']][i % 4];
      expect(result).toBeDefined();
      if (result === undefined || requestId === undefined) continue;
      if (requestId.endsWith('ok')) {
        expect(result.status).toBe(200);
      } else {
        expect(result.status).toBe(403);
        expect(result.body).not.toContain(MARKER);
      }
      if (requestId === 'a-ok') expect(JSON.parse(result.body).rows).toEqual([['First1']]);
      if (requestId === 'b-ok') expect(JSON.parse(result.body).rows).toEqual([[MARKER]]);
    }
    for (const record of records.filter((r) => /^[ab]-(ok|no)-/.test(r.requestId ?? ''))) {
      expect(record.actor).toBe(record.requestId?.startsWith('a-') ? 'alice' : 'bob');
      expect(record.decision).toBe(record.requestId?.includes('-ok-') ? 'allowed' : 'refused');
    }
    // 24 concurrent requests, one GitHub lookup: the identity cache (and its in-flight
    // sharing) serves the rest.
    expect(aliceLookups() - lookupsBefore).toBe(1);
  });

  it('never writes a token or a result row to the logs, and logs the request id', async () => {
    await post(BOB, PG_DB, 'SELECT note FROM salary', 'log-check-1');
    const logs = logLines.join('\n');
    expect(logs).toContain('log-check-1');
    expect(logs).not.toContain(ALICE);
    expect(logs).not.toContain(BOB);
    expect(logs).not.toContain(MARKER);
  });

  it('logs one line per request, with the login, status, audit id and row count', async () => {
    await post(BOB, PG_DB, 'SELECT note FROM salary', 'log-one-line');
    const mine = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['reqId'] === 'log-one-line');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      msg: 'request completed',
      login: 'bob',
      req: { method: 'POST', url: '/v1/query' },
      res: { statusCode: 200 },
      rows: 2,
      truncated: false,
      auditId: expect.any(String),
    });
  });

  it('builds the server with no deprecated Fastify option (no process warning)', async () => {
    // Warnings are emitted on a later tick; the server was built in beforeAll.
    await new Promise((resolve) => setImmediate(resolve));
    expect(processWarnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });
});
