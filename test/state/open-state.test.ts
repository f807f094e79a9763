/** Opening the state: migrations (versioned, idempotent, guarded), SQLite specifics and the
 * in-process leader lock, and the failure codes when the store is missing or read-only. */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openState } from '../../src/state/open-state.js';
import { PG_URL } from '../support/databases.js';
import { ADAPTERS, POSTGRES } from './support/adapters.js';
import { POSTGRES_MIGRATIONS } from '../../src/state/postgres/postgres-migrations.js';
import { SQLITE_MIGRATIONS } from '../../src/state/sqlite/sqlite-migrations.js';
import { manualClock, sampleGrant } from './support/samples.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

for (const adapter of ADAPTERS) {
  describe(`migrations (${adapter.name})`, () => {
    it('run once, are recorded, and are idempotent on reopen (data kept)', async () => {
      const fixture = await adapter.create();
      cleanups.push(() => fixture.cleanup());
      const first = await openState(fixture.config, manualClock());
      const grant = sampleGrant();
      await first.grants.insert(grant);
      await first.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
      await first.close();

      const again = await openState(fixture.config, manualClock());
      cleanups.push(() => again.close());
      const rows = await fixture.adminQuery<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      // Each adapter has its own numbered list (PostgreSQL 4: the batch append function).
      const migrations = adapter.name === 'postgres' ? POSTGRES_MIGRATIONS : SQLITE_MIGRATIONS;
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(rows.map((r) => r.version)).toEqual(
        adapter.name === 'postgres' ? [1, 2, 3, 4] : [1, 2, 3],
      );
      expect((await again.grants.get(grant.id))?.id).toBe(grant.id);
      expect(await again.audit.verify()).toMatchObject({ ok: true, records: 1 });
    });

    it('refuse a database migrated by a newer build (STATE_SCHEMA_MISMATCH)', async () => {
      const fixture = await adapter.create();
      cleanups.push(() => fixture.cleanup());
      await (await openState(fixture.config, manualClock())).close();
      await fixture.admin(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', ?)",
        [fixture.time(new Date())],
      );
      await expect(openState(fixture.config, manualClock())).rejects.toMatchObject({
        code: 'STATE_SCHEMA_MISMATCH',
      });
    });

    it('refuse a database whose applied migration differs from ours', async () => {
      const fixture = await adapter.create();
      cleanups.push(() => fixture.cleanup());
      await (await openState(fixture.config, manualClock())).close();
      await fixture.admin("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
      await expect(openState(fixture.config, manualClock())).rejects.toMatchObject({
        code: 'STATE_SCHEMA_MISMATCH',
      });
    });
  });
}

describe('SQLite state', () => {
  it('creates the parent directory, uses WAL, and locks leaders in-process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-open-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'a', 'b', 'gatehouse.db');
    const one = await openState({ kind: 'sqlite', path }, manualClock());
    const two = await openState({ kind: 'sqlite', path }, manualClock());
    cleanups.push(
      () => one.close(),
      () => two.close(),
    );
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(true);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = one.leader.runExclusive('expiry-sweep', () => held.then(() => 'done'));
    expect(await two.leader.runExclusive('expiry-sweep', async () => 'second')).toEqual({
      ran: false,
    });
    expect(await two.leader.runExclusive('reminders', async () => 'other')).toEqual({
      ran: true,
      value: 'other',
    });
    release();
    expect(await first).toEqual({ ran: true, value: 'done' });
    expect(await two.leader.runExclusive('expiry-sweep', async () => 'now')).toEqual({
      ran: true,
      value: 'now',
    });
  });

  it('fails with STATE_UNAVAILABLE when the path cannot be created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-open-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'file'), 'not a directory');
    await expect(
      openState({ kind: 'sqlite', path: join(dir, 'file', 'gatehouse.db') }, manualClock()),
    ).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
  });

  it('a read-only state file still opens and reads, but appends fail with AUDIT_UNAVAILABLE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ro-'));
    const path = join(dir, 'gatehouse.db');
    const writable = await openState({ kind: 'sqlite', path }, manualClock());
    const grant = sampleGrant();
    await writable.grants.insert(grant);
    await writable.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
    await writable.close();
    makeReadOnly(path);
    cleanups.push(() => {
      makeWritable(path);
      rmSync(dir, { recursive: true, force: true });
    });

    const readOnly = await openState({ kind: 'sqlite', path }, manualClock());
    cleanups.push(() => readOnly.close());
    expect((await readOnly.grants.get(grant.id))?.id).toBe(grant.id);
    await expect(
      readOnly.audit.append({ type: 'query.attempt', actor: 'alice', sql: 'SELECT 1' }),
    ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(readOnly.grants.insert(sampleGrant())).rejects.toMatchObject({
      code: 'STATE_UNAVAILABLE',
    });
    expect(await readOnly.audit.verify()).toMatchObject({ ok: true, records: 1 });
  });
});

describe('PostgreSQL state unreachable', () => {
  it('openState on a closed port fails with STATE_UNAVAILABLE', async () => {
    const port = await closedPort();
    const url = new URL(PG_URL);
    url.port = String(port);
    await expect(
      openState({ kind: 'postgres', url: url.toString() }, manualClock()),
    ).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
  });

  it('appends fail with AUDIT_UNAVAILABLE (and reads with STATE_UNAVAILABLE) once the server is gone', async () => {
    const fixture = await POSTGRES.create();
    cleanups.push(() => fixture.cleanup());
    // The state reaches PostgreSQL through a proxy the test can cut, like a network failure.
    const proxy = await tcpProxy(5432);
    const url = new URL(fixture.config.kind === 'postgres' ? fixture.config.url : '');
    url.port = String(proxy.port);
    const state = await openState({ kind: 'postgres', url: url.toString() }, manualClock());
    cleanups.push(() => state.close());
    await state.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });

    await proxy.cut();
    await expect(
      state.audit.append({ type: 'query.attempt', actor: 'alice', sql: 'SELECT 1' }),
    ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(
      state.audit.append({ type: 'query.attempt', actor: 'alice', sql: 'SELECT 2' }),
    ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(state.grants.activeFor('alice', 'hr_prod', new Date())).rejects.toMatchObject({
      code: 'STATE_UNAVAILABLE',
    });
    await expect(state.leader.runExclusive('x', async () => 1)).rejects.toMatchObject({
      code: 'STATE_UNAVAILABLE',
    });
    // Nothing half-written: the log still holds exactly the one committed record.
    const rows = await fixture.adminQuery<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    expect(rows[0]?.n).toBe('1');
  });
});

/** Root ignores permission bits (CAP_DAC_OVERRIDE), so as root the file is made immutable. */
function makeReadOnly(path: string): void {
  if (process.getuid?.() === 0) execFileSync('chattr', ['+i', path]);
  else chmodSync(path, 0o444);
}

function makeWritable(path: string): void {
  if (process.getuid?.() === 0) execFileSync('chattr', ['-i', path]);
  else chmodSync(path, 0o644);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function tcpProxy(
  targetPort: number,
): Promise<{ readonly port: number; cut(): Promise<void> }> {
  const { connect } = await import('node:net');
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
