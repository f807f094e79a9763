/** Keyset paging over more than one page, and the typed-filter parser shared by the CLI and
 * GET /v1/audit. */
import { describe, expect, it } from 'vitest';
import type { AuditFilter } from '../../src/audit/audit-log.js';
import { parseAuditFilter } from '../../src/audit/tools/audit-filter-input.js';
import { pageThrough } from '../../src/audit/tools/page-through.js';
import { parseTimeBound } from '../../src/audit/tools/time-bound.js';
import { MemoryAuditLog } from './support/memory-audit-log.js';
import { T0 } from './support/seed.js';

async function logOf(n: number) {
  const log = new MemoryAuditLog(() => T0);
  for (let i = 0; i < n; i++) {
    await log.append({ type: 'config.reloaded', actor: i % 2 === 0 ? 'even' : 'odd' });
  }
  const filters: AuditFilter[] = [];
  const query = log.query.bind(log);
  log.query = async (filter) => {
    filters.push(filter);
    return query(filter);
  };
  return { log, filters };
}

async function collect(iterable: AsyncIterable<{ seq: number }>) {
  const seqs: number[] = [];
  for await (const r of iterable) seqs.push(r.seq);
  return seqs;
}

describe('pageThrough', () => {
  it('reads every match in seq order, 1000 at a time, by seq > last', async () => {
    const { log, filters } = await logOf(2500);
    const seqs = await collect(pageThrough(log, { actor: 'even' }));
    expect(seqs).toHaveLength(1250);
    expect(seqs.every((s, i) => s === 2 * i + 1)).toBe(true);
    expect(filters.map((f) => [f.afterSeq, f.limit])).toEqual([
      [0, 1000],
      [1999, 1000],
    ]);
  });

  it('a total limit across pages, and an exact multiple of the page size', async () => {
    const { log, filters } = await logOf(2000);
    expect(await collect(pageThrough(log, {}, 1500))).toHaveLength(1500);
    expect(filters.map((f) => f.limit)).toEqual([1000, 500]);
    filters.length = 0;
    expect(await collect(pageThrough(log, {}))).toHaveLength(2000);
    expect(filters.map((f) => f.afterSeq)).toEqual([0, 1000, 2000]);
  });

  it('starts after filter.afterSeq', async () => {
    const { log } = await logOf(10);
    expect(await collect(pageThrough(log, { afterSeq: 7 }))).toEqual([8, 9, 10]);
  });
});

describe('parseTimeBound', () => {
  const now = new Date('2024-06-01T12:00:00Z');
  it.each([
    ['24h', '2024-05-31T12:00:00.000Z'],
    ['7d', '2024-05-25T12:00:00.000Z'],
    ['30m', '2024-06-01T11:30:00.000Z'],
    ['2024-03-01', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T18:00:00+02:00', '2024-03-01T16:00:00.000Z'],
    ['2024-03-01T18:00:00.5Z', '2024-03-01T18:00:00.500Z'],
  ])('%s', (text, iso) => {
    expect(parseTimeBound(text, now)?.toISOString()).toBe(iso);
  });
  it.each(['yesterday', '2024-02-30', '2024-03-01T18:00:00', '24', '1w', ''])(
    'refuses %j',
    (text) => {
      expect(parseTimeBound(text, now)).toBeNull();
    },
  );
});

describe('parseAuditFilter', () => {
  const now = new Date('2024-06-01T12:00:00Z');
  it('maps typed filters to an AuditFilter', () => {
    expect(
      parseAuditFilter(
        {
          user: '@alice',
          database: 'hr_prod',
          since: '1h',
          decision: 'refused',
          grant: '#42',
          type: 'query.*, audit.read',
          afterSeq: '10',
          limit: '50',
        },
        now,
      ),
    ).toEqual({
      ok: true,
      filter: {
        actor: 'alice',
        database: 'hr_prod',
        since: new Date('2024-06-01T11:00:00Z'),
        decision: 'refused',
        prNumber: 42,
        types: ['query.attempt', 'query.outcome', 'audit.read'],
        afterSeq: 10,
        limit: 50,
      },
    });
    expect(parseAuditFilter({ grant: 'g_0123456789abcdef0123' }, now)).toEqual({
      ok: true,
      filter: { grantId: 'g_0123456789abcdef0123' },
    });
    expect(parseAuditFilter({ user: '  ' }, now)).toEqual({ ok: true, filter: {} });
  });

  it.each([
    [{ since: 'soon' }, 'since'],
    [{ until: '2024-13-01' }, 'until'],
    [{ since: '1h', until: '2h' }, 'until'],
    [{ grant: 'g_xyz' }, 'grant'],
    [{ grant: '0' }, 'grant'],
    [{ type: 'grant' }, 'type'],
    [{ type: 'nothing.*' }, 'type'],
    [{ afterSeq: '1.5' }, 'afterSeq'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '-3' }, 'limit'],
  ] as const)('refuses %j naming %s', (input, field) => {
    const result = parseAuditFilter(input, now);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.field).toBe(field);
  });
});
