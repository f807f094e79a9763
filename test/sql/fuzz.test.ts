/**
 * analyzeSql must never throw, whatever it is given: a few hundred random and mutated
 * statements per engine always come back as an Analysis, and an `ok` one is a SELECT with
 * no reasons. Deterministic (seeded), so a failure reproduces.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineKind } from '../../src/policy/databases.js';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';

/** mulberry32: a tiny seeded PRNG. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCABULARY = [
  'select', 'from', 'where', 'with', 'recursive', 'as', 'union', 'join', 'on', 'lateral', 'only',
  'table', 'values', 'into', 'for', 'update', 'lock', 'in', 'share', 'mode', 'exists', 'not',
  'salary', 'employee', 'hr.salary', '`salary`', '"salary"', 'pg_stats', 'information_schema.tables',
  '(', ')', ',', ';', '.', '*', '=', '-', '--', '-- ', '#', '/*', '*/', '/*!', '/*+', "'", "''",
  '\\', "\\'", '"', '`', '$$', '$a$', "E'", '@', '@@', ':=', '?', '{', '}', '\n', '\t', ' ',
  '1', '0x1f', '1e5', 'count(*)', 'sleep(1)', 'now()', 'query_to_xml(', 'é', '\u00a0', '\u0001',
]; // prettier-ignore

const SEEDS = [
  'select * from employee',
  "select name, (select max(amount) from salary) from employee where name like 'a%'",
  'with s as (select * from salary) select * from s union select * from employee',
  'select e.id from employee e join title t on t.id = e.id group by e.id having count(*) > 1',
];

function cases(seed: number, count: number): string[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const mode = k % 3;
    if (mode === 0) {
      // Random tokens.
      const length = 1 + Math.floor(next() * 20);
      out.push(Array.from({ length }, () => pick(VOCABULARY)).join(next() < 0.5 ? ' ' : ''));
    } else if (mode === 1) {
      // Random characters, printable and not.
      const length = Math.floor(next() * 60);
      out.push(
        Array.from({ length }, () => String.fromCharCode(Math.floor(next() * 0x3000))).join(''),
      );
    } else {
      // Mutations of valid statements: insert, delete or replace a few characters.
      let text = pick(SEEDS);
      const edits = 1 + Math.floor(next() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (text.length + 1));
        const op = next();
        if (op < 0.4) text = text.slice(0, at) + pick(VOCABULARY) + text.slice(at);
        else if (op < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 5));
        else text = text.slice(0, at) + pick(VOCABULARY) + text.slice(at + 1);
      }
      out.push(text);
    }
  }
  // Pathological shapes.
  out.push('('.repeat(5000) + 'select 1' + ')'.repeat(5000));
  out.push('select ' + '-'.repeat(10000) + '1');
  out.push('select * from t where ' + Array.from({ length: 2000 }, () => 'a = 1').join(' and '));
  out.push('select ' + 'coalesce('.repeat(1000) + '1' + ')'.repeat(1000));
  out.push('x'.repeat(200_000));
  return out;
}

beforeAll(async () => {
  await initSqlAnalysis();
});

for (const engine of ['mysql', 'postgres'] as const satisfies readonly EngineKind[]) {
  describe(`${engine}: analyzeSql never throws`, () => {
    it('returns an Analysis for 300+ fuzzed inputs', () => {
      let accepted = 0;
      for (const sql of cases(engine === 'mysql' ? 1 : 2, 300)) {
        let analysis;
        expect(
          () => {
            analysis = analyzeSql({ engine, sql, defaultSchema: 'hr' });
          },
          JSON.stringify(sql.slice(0, 200)),
        ).not.toThrow();
        expect(typeof analysis!.ok).toBe('boolean');
        expect(Array.isArray(analysis!.reasons)).toBe(true);
        if (analysis!.ok) {
          accepted++;
          expect(analysis!.reasons).toEqual([]);
          expect(analysis!.statementType).toBe('select');
        } else {
          expect(analysis!.reasons.length).toBeGreaterThan(0);
        }
      }
      // The fuzzer must exercise both outcomes to mean anything.
      expect(accepted).toBeGreaterThan(0);
    });
  });
}
