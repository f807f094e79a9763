/** GET /v1/audit on a tiny Fastify instance (app.inject): auditors read with filters and
 * keyset pages, others get 403 AUTH_FORBIDDEN, anonymous callers 401, and every read (allowed
 * or refused) is itself an audit.read record. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditRecordJson } from '../../src/audit/tools/audit-record-json.js';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { registerAuditRoute } from '../../src/server/audit-route.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from '../state/support/adapters.js';
import { MemoryAuditLog } from './support/memory-audit-log.js';
import { GRANT, at, seedLog } from './support/seed.js';

interface Page {
  records: AuditRecordJson[];
  nextAfterSeq: number | null;
}

describe('GET /v1/audit', () => {
  let app: FastifyInstance;
  let audit: MemoryAuditLog;
  let auditorCheck: (login: string) => Promise<boolean>;

  beforeEach(async () => {
    audit = new MemoryAuditLog(() => at(60));
    await seedLog(audit);
    auditorCheck = async (login) => login === 'auditor-ann';
    app = Fastify();
    registerAuditRoute(app, {
      audit,
      isAuditor: (login) => auditorCheck(login),
      // Stands in for the server's authentication hook: the caller names itself.
      getIdentity: (request) => {
        const login = request.headers['x-test-login'];
        return typeof login === 'string' ? { login } : null;
      },
      clock: () => at(60),
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
  });

  const get = (url: string, login?: string) =>
    app.inject({
      method: 'GET',
      url,
      headers: login === undefined ? {} : { 'x-test-login': login },
    });

  const reads = () => audit.records.filter((r) => r.type === 'audit.read');

  it('an auditor reads records with the filters of gatehouse audit, and the read is recorded', async () => {
    const response = await get(`/v1/audit?user=alice&grant=${GRANT}&since=59m`, 'auditor-ann');
    expect(response.statusCode).toBe(200);
    const body = response.json<Page>();
    expect(body.records.map((r) => r.seq)).toEqual([3, 4]);
    expect(body.records[0]).toMatchObject({
      type: 'query.attempt',
      actor: 'alice',
      at: at(2).toISOString(),
    });
    expect(body.records[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.nextAfterSeq).toBeNull();

    expect(reads()).toHaveLength(1);
    expect(reads()[0]).toMatchObject({
      actor: 'auditor-ann',
      decision: 'allowed',
      clientAddress: '127.0.0.1',
      details: {
        filter: { user: 'alice', grant: GRANT, since: '59m' },
        returned: 2,
        nextAfterSeq: null,
      },
    });
    expect(reads()[0]?.requestId).toEqual(expect.any(String));
  });

  it('pages with afterSeq and limit until nextAfterSeq is null', async () => {
    const seen: number[] = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const response = await get(
        `/v1/audit?type=query.*,grant.*&limit=2&afterSeq=${after}`,
        'auditor-ann',
      );
      expect(response.statusCode).toBe(200);
      const body: Page = response.json<Page>();
      seen.push(...body.records.map((r) => r.seq));
      after = body.nextAfterSeq;
      pages++;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
    expect(pages).toBe(5);
  });

  it('defaults to 100 records and clamps limit to 1000', async () => {
    for (let i = 0; i < 1100; i++)
      await audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
    const first = await get('/v1/audit', 'auditor-ann');
    expect(first.json<Page>().records).toHaveLength(100);
    expect(first.json<Page>().nextAfterSeq).toBe(100);
    const big = await get('/v1/audit?limit=5000', 'auditor-ann');
    expect(big.json<Page>().records).toHaveLength(1000);
    expect(big.json<Page>().nextAfterSeq).toBe(1000);
  });

  it('403 AUTH_FORBIDDEN for a non-auditor, and the refused read is recorded', async () => {
    const response = await get('/v1/audit?user=alice', 'mallory');
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: { code: 'AUTH_FORBIDDEN' } });
    expect(response.body).not.toContain('query.attempt');
    expect(reads()).toHaveLength(1);
    expect(reads()[0]).toMatchObject({
      actor: 'mallory',
      decision: 'refused',
      code: 'AUTH_FORBIDDEN',
      details: { filter: { user: 'alice' } },
    });
  });

  it('401 AUTH_MISSING without an identity', async () => {
    const response = await get('/v1/audit');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'AUTH_MISSING' } });
    expect(reads()).toHaveLength(0);
  });

  it('400 AUDIT_FILTER_INVALID for a bad filter, an unknown or a repeated parameter', async () => {
    for (const url of [
      '/v1/audit?since=yesterday',
      '/v1/audit?type=nope',
      '/v1/audit?limit=0',
      '/v1/audit?afterSeq=-1',
      '/v1/audit?grant=abc',
      '/v1/audit?actor=alice',
      '/v1/audit?user=a&user=b',
    ]) {
      const response = await get(url, 'auditor-ann');
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject({ error: { code: 'AUDIT_FILTER_INVALID' } });
    }
  });

  it('503 when team membership cannot be checked: cannot tell is never yes', async () => {
    auditorCheck = async () => {
      throw new GatehouseError('AUTH_PROVIDER_UNAVAILABLE', 'GitHub did not answer');
    };
    const response = await get('/v1/audit', 'auditor-ann');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'AUTH_PROVIDER_UNAVAILABLE' } });
  });

  it('withholds the records (503 AUDIT_UNAVAILABLE) when the read cannot be recorded', async () => {
    const failing: AuditLog = {
      query: (filter) => audit.query(filter),
      verify: () => audit.verify(),
      append: async () => {
        throw new GatehouseError('AUDIT_UNAVAILABLE', 'disk full');
      },
    };
    const other = Fastify();
    registerAuditRoute(other, {
      audit: failing,
      isAuditor: async () => true,
      getIdentity: () => ({ login: 'auditor-ann' }),
      clock: () => at(60),
    });
    const response = await other.inject({ method: 'GET', url: '/v1/audit' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'AUDIT_UNAVAILABLE' } });
    expect(response.body).not.toContain('"records"');
    await other.close();
  });

  it('503 STATE_UNAVAILABLE when the store cannot be read', async () => {
    const broken: AuditLog = {
      query: async () => {
        throw new GatehouseError('STATE_UNAVAILABLE', 'connection refused');
      },
      verify: () => audit.verify(),
      append: (event) => audit.append(event),
    };
    const other = Fastify();
    registerAuditRoute(other, {
      audit: broken,
      isAuditor: async () => true,
      getIdentity: () => ({ login: 'auditor-ann' }),
      clock: () => at(60),
    });
    const response = await other.inject({ method: 'GET', url: '/v1/audit' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'STATE_UNAVAILABLE' } });
    await other.close();
  });
});

for (const adapter of ADAPTERS) {
  describe(`GET /v1/audit over the ${adapter.name} store`, () => {
    let fixture: AdapterFixture;
    let state: State;
    let app: FastifyInstance;

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, () => at(60));
      await seedLog(state.audit);
      app = Fastify();
      registerAuditRoute(app, {
        audit: state.audit,
        isAuditor: async (login) => login === 'auditor-ann',
        getIdentity: (request) => {
          const login = request.headers['x-test-login'];
          return typeof login === 'string' ? { login } : null;
        },
        clock: () => at(60),
      });
      await app.ready();
    });
    afterEach(async () => {
      await app.close();
      await state.close();
      await fixture.cleanup();
    });

    it('auditor 200, non-auditor 403, anonymous 401; reads recorded and the chain intact', async () => {
      const ok = await app.inject({
        method: 'GET',
        url: '/v1/audit?decision=refused',
        headers: { 'x-test-login': 'auditor-ann' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json<Page>().records.map((r) => r.seq)).toEqual([5]);
      const forbidden = await app.inject({
        method: 'GET',
        url: '/v1/audit',
        headers: { 'x-test-login': 'mallory' },
      });
      expect(forbidden.statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/v1/audit' })).statusCode).toBe(401);

      const recorded = await state.audit.query({ types: ['audit.read'] });
      expect(recorded.map((r) => [r.actor, r.decision])).toEqual([
        ['auditor-ann', 'allowed'],
        ['mallory', 'refused'],
      ]);
      expect((await state.audit.verify()).ok).toBe(true);
    });
  });
}
