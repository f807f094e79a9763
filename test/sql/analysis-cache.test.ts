import { beforeAll, describe, expect, it } from 'vitest';
import { AnalysisCache } from '../../src/sql/analysis-cache.js';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import { refusedAnalysis } from '../../src/sql/analysis-collector.js';

beforeAll(async () => {
  await initSqlAnalysis();
});

describe('AnalysisCache', () => {
  const a = refusedAnalysis('select', 'SQL_EMPTY', 'a');
  const b = refusedAnalysis('select', 'SQL_EMPTY', 'b');

  it('keys by engine, default schema and text', () => {
    const cache = new AnalysisCache(10);
    cache.set('mysql', 'hr', 'select 1', a);
    expect(cache.get('mysql', 'hr', 'select 1')).toBe(a);
    expect(cache.get('postgres', 'hr', 'select 1')).toBeUndefined();
    expect(cache.get('mysql', 'hr2', 'select 1')).toBeUndefined();
    expect(cache.get('mysql', 'hr', 'select 1 ')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new AnalysisCache(2);
    cache.set('mysql', 'hr', 'one', a);
    cache.set('mysql', 'hr', 'two', b);
    cache.get('mysql', 'hr', 'one');
    cache.set('mysql', 'hr', 'three', a);
    expect(cache.size).toBe(2);
    expect(cache.get('mysql', 'hr', 'two')).toBeUndefined();
    expect(cache.get('mysql', 'hr', 'one')).toBe(a);
  });

  it('does not cache long statements', () => {
    const cache = new AnalysisCache(2, 10);
    cache.set('mysql', 'hr', 'x'.repeat(11), a);
    expect(cache.size).toBe(0);
  });
});

describe('analyzeSql results', () => {
  it('are frozen and equal for equal input (served from the cache)', () => {
    const input = {
      engine: 'postgres',
      sql: 'select * from employee',
      defaultSchema: 'public',
    } as const;
    const first = analyzeSql(input);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.tables)).toBe(true);
    expect(analyzeSql(input)).toBe(first);
  });

  it('distinguish the default schema', () => {
    const hr = analyzeSql({ engine: 'mysql', sql: 'select * from t', defaultSchema: 'hr' });
    const ops = analyzeSql({ engine: 'mysql', sql: 'select * from t', defaultSchema: 'ops' });
    expect(hr.tables).toEqual([{ schema: 'hr', name: 't' }]);
    expect(ops.tables).toEqual([{ schema: 'ops', name: 't' }]);
  });
});
