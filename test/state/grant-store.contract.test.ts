/** One contract for GrantStore, run over every adapter against real databases. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGrantActive } from '../../src/grants/grant.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from './support/adapters.js';
import { HOUR, MINUTE, T0, at, manualClock, sampleGrant } from './support/samples.js';

for (const adapter of ADAPTERS) {
  describe(`GrantStore contract (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, manualClock());
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
    });

    it('inserts and reads back a grant exactly, times to the millisecond', async () => {
      const grant = sampleGrant({
        activatedAt: new Date('2024-06-01T10:00:00.001Z'),
        expiresAt: new Date('2024-06-01T14:00:00.999Z'),
        ticket: null,
      });
      const { grant: stored, created } = await state.grants.insert(grant);
      expect(created).toBe(true);
      const expected = {
        ...grant,
        revokedAt: null,
        revokedBy: null,
        revokeReason: null,
        reminderSentAt: null,
        revocationPrNumber: null,
      };
      expect(stored).toEqual(expected);
      expect(await state.grants.get(grant.id)).toEqual(expected);
      expect((await state.grants.get(grant.id))?.expiresAt.getTime()).toBe(
        grant.expiresAt.getTime(),
      );
      expect(await state.grants.get('g_00000000000000000000')).toBeNull();
    });

    it('is idempotent: the same id twice keeps one row and returns the stored grant', async () => {
      const grant = sampleGrant();
      await state.grants.insert(grant);
      const again = await state.grants.insert({ ...grant, reason: 'replayed delivery' });
      expect(again.created).toBe(false);
      expect(again.grant.reason).toBe(grant.reason);
      expect(await state.grants.list({ prNumber: grant.prNumber })).toHaveLength(1);
    });

    it('activeFor: active while now < expiresAt, so now == expiresAt is NOT active', async () => {
      const grant = sampleGrant({ expiresAt: at(HOUR) });
      const { grant: stored } = await state.grants.insert(grant);
      const ids = async (now: Date) =>
        (await state.grants.activeFor('alice', 'hr_prod', now)).map((g) => g.id);

      expect(await ids(at(HOUR - 1))).toEqual([grant.id]);
      expect(isGrantActive(stored, at(HOUR - 1))).toBe(true);
      expect(await ids(at(HOUR))).toEqual([]);
      expect(isGrantActive(stored, at(HOUR))).toBe(false);
      expect(await ids(at(HOUR + 1))).toEqual([]);
    });

    it('activeFor: only that user, that database, not revoked', async () => {
      const mine = sampleGrant();
      const otherUser = sampleGrant({ requester: 'bob' });
      const otherDb = sampleGrant({ database: 'hr_test' });
      const revoked = sampleGrant();
      const later = sampleGrant({ activatedAt: at(MINUTE) });
      for (const g of [mine, otherUser, otherDb, revoked, later]) await state.grants.insert(g);
      await state.grants.revoke(revoked.id, at(MINUTE), 'alice', 'done early');

      const active = await state.grants.activeFor('alice', 'hr_prod', at(2 * MINUTE));
      expect(active.map((g) => g.id)).toEqual([mine.id, later.id]);
      for (const g of active) expect(isGrantActive(g, at(2 * MINUTE))).toBe(true);
    });

    it('activeFor and list compare logins case-insensitively, as GitHub does', async () => {
      const mixed = sampleGrant({ requester: 'Alice' });
      await state.grants.insert(mixed);
      expect(
        (await state.grants.activeFor('alice', 'hr_prod', at(MINUTE))).map((g) => g.id),
      ).toEqual([mixed.id]);
      expect(
        (await state.grants.activeFor('ALICE', 'hr_prod', at(MINUTE))).map((g) => g.id),
      ).toEqual([mixed.id]);
      expect((await state.grants.list({ requester: 'aLiCe' })).map((g) => g.id)).toEqual([
        mixed.id,
      ]);
      expect(await state.grants.activeFor('alicex', 'hr_prod', at(MINUTE))).toEqual([]);
    });

    it('list filters by requester, database, PR, file, activeAt, unrevoked and limit', async () => {
      const a = sampleGrant({ expiresAt: at(HOUR) });
      const b = sampleGrant({ requester: 'bob', activatedAt: at(1) });
      const c = sampleGrant({ database: 'analytics_prod', activatedAt: at(2) });
      const d = sampleGrant({ activatedAt: at(3) });
      for (const g of [a, b, c, d]) await state.grants.insert(g);
      await state.grants.revoke(d.id, at(MINUTE), 'dba-dora', 'revocation PR merged');
      const ids = async (filter: Parameters<State['grants']['list']>[0]) =>
        (await state.grants.list(filter)).map((g) => g.id);

      expect(await ids({})).toEqual([a.id, b.id, c.id, d.id]);
      expect(await ids({ requester: 'bob' })).toEqual([b.id]);
      expect(await ids({ database: 'analytics_prod' })).toEqual([c.id]);
      expect(await ids({ prNumber: a.prNumber })).toEqual([a.id]);
      expect(await ids({ filePath: c.filePath })).toEqual([c.id]);
      expect(await ids({ unrevoked: true })).toEqual([a.id, b.id, c.id]);
      expect(await ids({ activeAt: at(HOUR) })).toEqual([b.id, c.id]);
      expect(await ids({ requester: 'alice', database: 'hr_prod' })).toEqual([a.id, d.id]);
      expect(await ids({ limit: 2 })).toEqual([a.id, b.id]);
    });

    it('expired: unrevoked grants with expiresAt <= now, oldest first, limited', async () => {
      const first = sampleGrant({ expiresAt: at(HOUR) });
      const second = sampleGrant({ expiresAt: at(2 * HOUR) });
      const future = sampleGrant({ expiresAt: at(3 * HOUR) });
      const revoked = sampleGrant({ expiresAt: at(30 * MINUTE) });
      for (const g of [second, future, first, revoked]) await state.grants.insert(g);
      await state.grants.revoke(revoked.id, at(MINUTE), 'alice', 'early');

      const ids = async (now: Date, limit: number) =>
        (await state.grants.expired(now, limit)).map((g) => g.id);
      expect(await ids(at(HOUR - 1), 10)).toEqual([]);
      expect(await ids(at(HOUR), 10)).toEqual([first.id]);
      expect(await ids(at(2 * HOUR), 10)).toEqual([first.id, second.id]);
      expect(await ids(at(5 * HOUR), 1)).toEqual([first.id]);
    });

    it('expiringSoon: (now, now + lead], not yet reminded; markReminderSent keeps the first time', async () => {
      const soon = sampleGrant({ expiresAt: at(30 * MINUTE) });
      const edge = sampleGrant({ expiresAt: at(60 * MINUTE) });
      const later = sampleGrant({ expiresAt: at(60 * MINUTE + 1) });
      const gone = sampleGrant({ expiresAt: T0 });
      for (const g of [soon, edge, later, gone]) await state.grants.insert(g);
      const ids = async () =>
        (await state.grants.expiringSoon(T0, 60 * MINUTE, 10)).map((g) => g.id);

      expect(await ids()).toEqual([soon.id, edge.id]);
      await state.grants.markReminderSent(soon.id, at(MINUTE));
      await state.grants.markReminderSent(soon.id, at(2 * MINUTE));
      expect(await ids()).toEqual([edge.id]);
      expect((await state.grants.get(soon.id))?.reminderSentAt).toEqual(at(MINUTE));
      expect(await state.grants.expiringSoon(T0, 60 * MINUTE, 1)).toHaveLength(1);
    });

    it('revokes once: the first call sets who, when and why; the second returns false', async () => {
      const grant = sampleGrant();
      await state.grants.insert(grant);
      expect(await state.grants.revoke(grant.id, at(MINUTE), 'alice', 'done')).toBe(true);
      expect(await state.grants.revoke(grant.id, at(2 * MINUTE), 'mallory', 'again')).toBe(false);
      const stored = await state.grants.get(grant.id);
      expect(stored).toMatchObject({
        revokedAt: at(MINUTE),
        revokedBy: 'alice',
        revokeReason: 'done',
      });
      expect(isGrantActive(stored!, at(2 * MINUTE))).toBe(false);
    });

    it('setRevocationPr records (and replaces) the revocation PR number', async () => {
      const grant = sampleGrant();
      await state.grants.insert(grant);
      await state.grants.setRevocationPr(grant.id, 7);
      expect((await state.grants.get(grant.id))?.revocationPrNumber).toBe(7);
      await state.grants.setRevocationPr(grant.id, 8);
      expect((await state.grants.get(grant.id))?.revocationPrNumber).toBe(8);
    });

    it('updates of an unknown grant fail with GRANT_NOT_FOUND', async () => {
      const missing = 'g_ffffffffffffffffffff';
      await expect(state.grants.revoke(missing, T0, 'a', 'b')).rejects.toMatchObject({
        code: 'GRANT_NOT_FOUND',
      });
      await expect(state.grants.markReminderSent(missing, T0)).rejects.toMatchObject({
        code: 'GRANT_NOT_FOUND',
      });
      await expect(state.grants.setRevocationPr(missing, 1)).rejects.toMatchObject({
        code: 'GRANT_NOT_FOUND',
      });
    });

    it('two State objects inserting the same grant at once leave one row', async () => {
      const other = await openState(fixture.config, manualClock());
      try {
        const grant = sampleGrant();
        const results = await Promise.all([
          state.grants.insert(grant),
          other.grants.insert(grant),
          state.grants.insert(grant),
          other.grants.insert(grant),
        ]);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        for (const r of results) expect(r.grant.id).toBe(grant.id);
        const rows = await fixture.adminQuery<{ n: number | string }>(
          'SELECT count(*) AS n FROM grants',
        );
        expect(Number(rows[0]?.n)).toBe(1);
      } finally {
        await other.close();
      }
    });

    it('keeps the (requester, database, expires_at) lookup indexed', async () => {
      const sql =
        adapter.name === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'grants'"
          : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'grants'";
      const names = (await fixture.adminQuery<{ name: string }>(sql)).map((r) => r.name);
      expect(names).toContain('grants_requester_database_expires');
    });
  });
}
