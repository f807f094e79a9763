/**
 * Before initSqlAnalysis() resolves, the WASM PostgreSQL parser is not loaded: analyses must
 * refuse (fail closed), not throw and not allow. This file deliberately never calls init.
 */
import { describe, expect, it } from 'vitest';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';

describe('analyzeSql before initSqlAnalysis', () => {
  it('refuses PostgreSQL statements with SQL_ANALYSER_UNAVAILABLE, and does not cache that', async () => {
    const input = { engine: 'postgres', sql: 'select 1', defaultSchema: 'public' } as const;
    const before = analyzeSql(input);
    expect(before.ok).toBe(false);
    expect(before.reasons.map((r) => r.code)).toEqual(['SQL_ANALYSER_UNAVAILABLE']);
    await initSqlAnalysis();
    expect(analyzeSql(input).ok).toBe(true);
  });

  it('refuses an unknown engine', () => {
    const analysis = analyzeSql({
      engine: 'oracle' as 'mysql',
      sql: 'select 1',
      defaultSchema: 'x',
    });
    expect(analysis.reasons.map((r) => r.code)).toEqual(['SQL_UNRESOLVED']);
  });

  it('refuses statements over the length limit and NUL characters', () => {
    const long = analyzeSql({
      engine: 'mysql',
      sql: `select ${'1+'.repeat(60_000)}1`,
      defaultSchema: 'hr',
    });
    expect(long.reasons.map((r) => r.code)).toEqual(['SQL_TOO_LONG']);
    const nul = analyzeSql({ engine: 'mysql', sql: 'select 1\u0000', defaultSchema: 'hr' });
    expect(nul.reasons.map((r) => r.code)).toEqual(['SQL_LEXICAL']);
  });
});
