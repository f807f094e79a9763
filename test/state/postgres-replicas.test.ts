/** Several replicas on one PostgreSQL state: concurrent migrations, appends and leader lock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-record.js';
import { openState, type State } from '../../src/state/open-state.js';
import { POSTGRES, type AdapterFixture } from './support/adapters.js';
import { manualClock } from './support/samples.js';

describe('PostgreSQL state shared by replicas', () => {
  let fixture: AdapterFixture;
  let replicas: State[];

  beforeEach(async () => {
    fixture = await POSTGRES.create();
    // Four replicas start at once on a fresh database: migrations must not collide.
    replicas = await Promise.all(
      Array.from({ length: 4 }, () => openState(fixture.config, manualClock())),
    );
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await fixture.cleanup();
  });

  it('migrates once when replicas open a fresh database together', async () => {
    const rows = await fixture.adminQuery<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4]);
  });

  it('4 replicas × 250 concurrent appends: 1,000 records, contiguous seqs, one valid chain', async () => {
    const event = (replica: number, i: number): AuditEvent => ({
      type: 'query.attempt',
      actor: `user${replica}`,
      database: 'hr_prod',
      requestId: `r${replica}-${i}`,
      sql: 'SELECT 1',
      decision: 'allowed',
    });
    const results = await Promise.all(
      replicas.map((state, replica) =>
        Promise.all(Array.from({ length: 250 }, (_, i) => state.audit.append(event(replica, i)))),
      ),
    );
    const seqs = results.flat().map((r) => r.seq);
    expect(new Set(seqs).size).toBe(1000);

    const rows = await fixture.adminQuery<{ n: string; min: string; max: string; ids: string }>(
      'SELECT count(*) AS n, min(seq) AS min, max(seq) AS max, count(DISTINCT request_id) AS ids FROM audit_log',
    );
    expect(rows[0]).toEqual({ n: '1000', min: '1', max: '1000', ids: '1000' });
    expect(await replicas[0]!.audit.verify()).toMatchObject({ ok: true, records: 1000 });
  });

  it('an append waits at most 10 s for a chain head held elsewhere, then fails with AUDIT_UNAVAILABLE', async () => {
    const [replica] = replicas;
    const first = await replica!.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
    // Another session (a stuck replica, an operator's open transaction) holds the head.
    await fixture.admin('BEGIN');
    await fixture.admin('SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE');
    const started = Date.now();
    try {
      await expect(
        replica!.audit.append({ type: 'config.reloaded', actor: 'gatehouse' }),
      ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    } finally {
      await fixture.admin('ROLLBACK');
    }
    // Nothing was half-written; the chain continues from the first record.
    const next = await replica!.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
    expect(next.seq).toBe(2);
    expect(next.prevHash).toBe(first.hash);
    expect(await replica!.audit.verify()).toMatchObject({ ok: true, records: 2 });
  }, 30_000);

  it('leader lock: only one replica runs a job at a time; the lock frees after it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let maxRunning = 0;
    const job = async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await held;
      running--;
      return 'swept';
    };
    const first = replicas[0]!.leader.runExclusive('expiry-sweep', job);
    // Let the first replica take the lock before the others try.
    await waitFor(() => running === 1);
    const others = await Promise.all(
      replicas.slice(1).map((r) => r.leader.runExclusive('expiry-sweep', job)),
    );
    expect(others).toEqual([{ ran: false }, { ran: false }, { ran: false }]);
    // Another name is another lock.
    expect(await replicas[1]!.leader.runExclusive('reminders', async () => 1)).toEqual({
      ran: true,
      value: 1,
    });
    release();
    expect(await first).toEqual({ ran: true, value: 'swept' });
    expect(maxRunning).toBe(1);
    expect(await replicas[2]!.leader.runExclusive('expiry-sweep', async () => 2)).toEqual({
      ran: true,
      value: 2,
    });
  });

  it('leader lock is released when the job throws', async () => {
    await expect(
      replicas[0]!.leader.runExclusive('reconcile', async () => {
        throw new Error('GitHub down');
      }),
    ).rejects.toThrow('GitHub down');
    expect(await replicas[1]!.leader.runExclusive('reconcile', async () => 'ok')).toEqual({
      ran: true,
      value: 'ok',
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
