import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import { createQueryService, type QueryService } from '../../src/gateway/query-service.js';
import type { QueryLimits } from '../../src/config/config.js';
import { GatehouseError } from '../../src/errors/catalogue.js';
import type { GrantStore } from '../../src/grants/grant-store.js';
import { requestHint } from '../../src/sql/request-hint.js';
import { initSqlAnalysis } from '../../src/sql/analyze-sql.js';
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
} from '../server/support/gateway-fixture.js';

const LIMITS: QueryLimits = {
  statementTimeoutMs: 30_000,
  defaultMaxRows: 1000,
  maxRowsCap: 5000,
  maxResultBytes: 10 * 1024 * 1024,
  redactSqlLiterals: false,
};
const HOUR = 3_600_000;

const clock = testClock();
let fx: GatewayFixture;
let audit: SwitchableAudit;

function service(
  overrides: { limits?: Partial<QueryLimits>; grants?: GrantStore } = {},
): QueryService {
  return createQueryService({
    databases: () => fx.databases,
    grants: overrides.grants ?? fx.state.grants,
    audit,
    engines: (id) => {
      const engine = fx.engines.get(id);
      if (engine === undefined) throw new Error(`no engine ${id}`);
      return engine;
    },
    clock: clock.clock,
    limits: { ...LIMITS, ...overrides.limits },
  });
}

let requestCounter = 0;
function request(login: string, database: string, sql: string, maxRows?: number) {
  requestCounter += 1;
  return {
    identity: { login, via: 'github' as const },
    database,
    sql,
    ...(maxRows === undefined ? {} : { maxRows }),
    requestId: `req-${requestCounter}`,
    clientAddress: '203.0.113.7',
  };
}

async function recordsOf(requestId: string): Promise<AuditRecord[]> {
  const all = await fx.state.audit.query({ limit: 10_000 });
  return all.filter((record) => record.requestId === requestId);
}

function executionsOf(database: string): number {
  return fx.engines.get(database)?.executions.length ?? -1;
}

const window = () => ({
  from: new Date(clock.now().getTime() - HOUR),
  until: new Date(clock.now().getTime() + HOUR),
});

beforeAll(async () => {
  await initSqlAnalysis();
  fx = await createGatewayFixture(clock.clock);
  audit = switchableAudit(fx.state.audit);
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(() => {
  clock.set(new Date('2030-01-01T10:00:00Z'));
  audit.failing = false;
});

describe.each([
  { database: MYSQL_DB, engine: 'mysql' },
  { database: PG_DB, engine: 'postgres' },
])('query service on $engine', ({ database }) => {
  const login = `alice-${database.replace(/_/g, '-')}`;
  let qs: QueryService;

  beforeAll(async () => {
    await fx.grant(login, database, ['employee'], window());
  });
  beforeEach(() => {
    qs = service();
  });

  it('runs an allowed query and returns rows with the audit id of its attempt', async () => {
    const req = request(login, database, 'SELECT emp_no, first_name FROM employee ORDER BY emp_no');
    const outcome = await qs.query(req);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.columns.map((c) => c.name)).toEqual(['emp_no', 'first_name']);
    expect(outcome.result.rowCount).toBe(EMPLOYEES);
    expect(outcome.result.rows[0]).toEqual([1, 'First1']);
    expect(outcome.result.truncated).toBe(false);

    const [attempt, done] = await recordsOf(req.requestId);
    expect(attempt?.type).toBe('query.attempt');
    expect(String(attempt?.seq)).toBe(outcome.auditId);
    expect(attempt).toMatchObject({
      actor: login,
      database,
      sql: req.sql,
      decision: 'allowed',
      clientAddress: '203.0.113.7',
    });
    expect(attempt?.sqlSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(attempt?.grantIds).toHaveLength(1);
    expect(attempt?.prNumbers?.[0]).toBeGreaterThan(100);
    expect(attempt?.tables?.some((t) => t.endsWith('.employee'))).toBe(true);
    expect(done).toMatchObject({
      type: 'query.outcome',
      parentSeq: attempt?.seq,
      decision: 'succeeded',
    });
    expect(done?.details).toMatchObject({ rows: EMPLOYEES, truncated: false });
    expect((done?.seq ?? 0) > (attempt?.seq ?? 0)).toBe(true);
    // Result rows are never stored.
    expect(JSON.stringify([attempt, done])).not.toContain('First1');
  });

  it('stores the SQL with literals redacted when configured, hashing the original', async () => {
    const sql = "SELECT first_name FROM employee WHERE last_name = 'Last7' AND emp_no = 7";
    const req = request(login, database, sql);
    const outcome = await service({ limits: { redactSqlLiterals: true } }).query(req);
    expect(outcome.ok).toBe(true);
    const [attempt] = await recordsOf(req.requestId);
    expect(attempt?.sql).toBe('SELECT first_name FROM employee WHERE last_name = ? AND emp_no = ?');
    expect(attempt?.sqlSha256).toBe(createHash('sha256').update(sql, 'utf8').digest('hex'));
  });

  it('writes the attempt record before the database sees the statement', async () => {
    const req = request(login, database, 'SELECT last_name FROM employee WHERE emp_no = 7');
    const outcome = await qs.query(req);
    expect(outcome.ok).toBe(true);
    const execution = fx.engines.get(database)?.executions.at(-1);
    expect(execution?.sql).toBe(req.sql);
    expect(execution?.attemptsSeenBefore.some((r) => r.requestId === req.requestId)).toBe(true);
  });

  it('refuses an ungranted table with the exact request command, and runs nothing', async () => {
    const before = executionsOf(database);
    const req = request(
      login,
      database,
      'SELECT e.first_name, s.note FROM employee e JOIN salary s ON s.emp_no = e.emp_no',
    );
    const outcome = await qs.query(req);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe('SQL_TABLE_NOT_GRANTED');
    const db = fx.databases.get(database);
    const schema = db?.engine === 'mysql' ? db.name : 'public';
    expect(outcome.hint).toBe(requestHint(database, [{ schema, name: 'salary' }], schema));
    expect(outcome.hint).toContain(`gatehouse request ${database}`);
    expect(outcome.hint).toContain('salary');
    expect(JSON.stringify(outcome)).not.toContain(MARKER);
    expect(executionsOf(database)).toBe(before);
    const [attempt, ...rest] = await recordsOf(req.requestId);
    expect(rest).toHaveLength(0);
    expect(attempt).toMatchObject({ decision: 'refused', code: 'SQL_TABLE_NOT_GRANTED' });
    expect(String(attempt?.seq)).toBe(outcome.auditId);
    expect(attempt?.details).toMatchObject({ hint: outcome.hint });
  });

  it('refuses a caller without any grant on the database with SQL_NO_GRANT', async () => {
    const outcome = await qs.query(request('mallory', database, 'SELECT * FROM employee'));
    expect(outcome).toMatchObject({ ok: false, code: 'SQL_NO_GRANT' });
    if (!outcome.ok) expect(outcome.hint).toContain('employee');
  });

  it('allows a statement that reads no table to a holder of a grant on the database', async () => {
    const req = request(login, database, 'SELECT 1 AS one');
    const outcome = await qs.query(req);
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcome.result.rows).toEqual([[1]]);
    const [attempt] = await recordsOf(req.requestId);
    expect(attempt?.grantIds).toHaveLength(1);
    const stranger = await qs.query(request('stranger', database, 'SELECT 1 AS one'));
    expect(stranger).toMatchObject({ ok: false, code: 'SQL_NO_GRANT' });
  });

  it('refuses what the analyser refuses, audited', async () => {
    const req = request(login, database, 'SELECT 1; SELECT 2');
    const outcome = await qs.query(req);
    expect(outcome).toMatchObject({ ok: false, code: 'SQL_MULTIPLE_STATEMENTS' });
    const [attempt] = await recordsOf(req.requestId);
    expect(attempt).toMatchObject({ decision: 'refused', code: 'SQL_MULTIPLE_STATEMENTS' });
  });

  it('caps rows at maxRows and says the result is truncated', async () => {
    const req = request(login, database, 'SELECT emp_no FROM employee ORDER BY emp_no', 5);
    const outcome = await qs.query(req);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(outcome.result.truncated).toBe(true);
    const done = (await recordsOf(req.requestId)).find((r) => r.type === 'query.outcome');
    expect(done?.details).toMatchObject({ rows: 5, truncated: true });
  });

  it('runs nothing when the audit store cannot write (AUDIT_UNAVAILABLE)', async () => {
    const before = executionsOf(database);
    audit.failing = true;
    const req = request(login, database, 'SELECT first_name FROM employee');
    const outcome = await qs.query(req);
    audit.failing = false;
    expect(outcome).toMatchObject({ ok: false, code: 'AUDIT_UNAVAILABLE' });
    expect(outcome.ok ? undefined : outcome.auditId).toBeUndefined();
    expect(executionsOf(database)).toBe(before);
    expect(await recordsOf(req.requestId)).toHaveLength(0);
  });

  it('checks expiry on every query: a grant that expires between two queries refuses the second', async () => {
    const bob = `bob-${database.replace(/_/g, '-')}`;
    const grant = await fx.grant(bob, database, ['employee'], {
      from: new Date(clock.now().getTime() - HOUR),
      until: new Date(clock.now().getTime() + 10 * 60_000),
    });
    const first = await qs.query(request(bob, database, 'SELECT emp_no FROM employee', 1));
    expect(first.ok).toBe(true);
    clock.set(grant.expiresAt); // now == expiresAt: no longer usable (now < expiresAt)
    const second = await qs.query(request(bob, database, 'SELECT emp_no FROM employee', 1));
    expect(second).toMatchObject({ ok: false, code: 'SQL_NO_GRANT' });
  });

  it('refuses a revoked grant', async () => {
    const carol = `carol-${database.replace(/_/g, '-')}`;
    const grant = await fx.grant(carol, database, ['employee'], window());
    await fx.state.grants.revoke(grant.id, clock.now(), carol, 'done early');
    const outcome = await qs.query(request(carol, database, 'SELECT emp_no FROM employee'));
    expect(outcome).toMatchObject({ ok: false, code: 'SQL_NO_GRANT' });
  });

  it('records the attempt even when the statement then times out, before its outcome', async () => {
    const slow = service({ limits: { statementTimeoutMs: 200 } });
    const req = request(
      login,
      database,
      'SELECT count(*) FROM employee a, employee b, employee c, employee d',
    );
    const outcome = await slow.query(req);
    expect(outcome).toMatchObject({ ok: false, code: 'QUERY_TIMEOUT' });
    const records = await recordsOf(req.requestId);
    const attempt = records.find((r) => r.type === 'query.attempt');
    const done = records.find((r) => r.type === 'query.outcome');
    expect(attempt).toMatchObject({ decision: 'allowed' });
    expect(done).toMatchObject({
      decision: 'failed',
      code: 'QUERY_TIMEOUT',
      parentSeq: attempt?.seq,
    });
    expect((done?.seq ?? 0) > (attempt?.seq ?? 0)).toBe(true);
    if (!outcome.ok) expect(outcome.auditId).toBe(String(attempt?.seq));
  });
});

describe('query service, database-independent paths', () => {
  it('refuses an unknown database, audited', async () => {
    const req = request('alice', 'no_such_db', 'SELECT 1');
    const outcome = await service().query(req);
    expect(outcome).toMatchObject({ ok: false, code: 'UNKNOWN_DATABASE' });
    const [attempt] = await recordsOf(req.requestId);
    expect(attempt).toMatchObject({
      decision: 'refused',
      code: 'UNKNOWN_DATABASE',
      database: 'no_such_db',
    });
  });

  it('fails closed with STATE_UNAVAILABLE when the grants cannot be read, and runs nothing', async () => {
    const before = executionsOf(MYSQL_DB);
    const broken: GrantStore = {
      ...fx.state.grants,
      activeFor: () => Promise.reject(new GatehouseError('STATE_UNAVAILABLE', 'state down (test)')),
    };
    const req = request('alice', MYSQL_DB, 'SELECT emp_no FROM employee');
    const outcome = await service({ grants: broken }).query(req);
    expect(outcome).toMatchObject({ ok: false, code: 'STATE_UNAVAILABLE' });
    expect(executionsOf(MYSQL_DB)).toBe(before);
    const [attempt] = await recordsOf(req.requestId);
    expect(attempt).toMatchObject({ decision: 'failed', code: 'STATE_UNAVAILABLE' });
  });

  it('lists only the caller’s active grants', async () => {
    const qs = service();
    await fx.grant('dave', MYSQL_DB, ['employee'], window());
    await fx.grant('dave', PG_DB, ['*'], {
      from: new Date(clock.now().getTime() - 2 * HOUR),
      until: new Date(clock.now().getTime() - HOUR),
    });
    await fx.grant('erin', MYSQL_DB, ['salary'], window());
    const grants = await qs.activeGrants('dave');
    expect(grants.map((g) => [g.database, g.tables])).toEqual([[MYSQL_DB, ['employee']]]);
  });
});
