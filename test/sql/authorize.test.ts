import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineKind } from '../../src/policy/databases.js';
import type { Analysis } from '../../src/sql/analysis.js';
import { analyzeSql, initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import { authorizeTables } from '../../src/sql/authorize.js';
import { requestHint } from '../../src/sql/request-hint.js';

beforeAll(async () => {
  await initSqlAnalysis();
});

function authorize(engine: EngineKind, sql: string, grants: readonly (readonly string[])[]) {
  const defaultSchema = engine === 'mysql' ? 'hr' : 'public';
  const analysis = analyzeSql({ engine, sql, defaultSchema });
  return authorizeTables({ analysis, engine, defaultSchema, grantedTables: grants });
}

/** [engine, sql, grants, allowed, missing (schema.name)] */
type Row = readonly [
  EngineKind,
  string,
  readonly (readonly string[])[],
  boolean,
  readonly string[],
];

const MATRIX: readonly Row[] = [
  ['mysql', 'select * from employee', [['employee']], true, []],
  ['mysql', 'select * from hr.employee', [['employee']], true, []],
  ['mysql', 'select * from employee', [['hr.employee']], true, []],
  ['mysql', 'select * from employee', [['*']], true, []],
  ['mysql', 'select * from employee join salary using (id)', [['employee'], ['salary']], true, []],
  ['mysql', 'select * from employee join salary using (id)', [['employee']], false, ['hr.salary']],
  ['mysql', 'select * from EMPLOYEE', [['employee']], false, ['hr.EMPLOYEE']],
  ['mysql', 'select * from Salary', [['salary']], false, ['hr.Salary']],
  ['mysql', 'select * from other_db.employee', [['employee']], false, ['other_db.employee']],
  ['mysql', 'select * from other_db.employee', [['*']], false, ['other_db.employee']],
  [
    'mysql',
    'select * from other_db.employee',
    [['other_db.employee']],
    false,
    ['other_db.employee'],
  ],
  ['mysql', 'select * from HR.employee', [['*']], false, ['HR.employee']],
  ['mysql', 'select 1', [['employee']], true, []],
  ['postgres', 'select * from employee', [['employee']], true, []],
  ['postgres', 'select * from EMPLOYEE', [['employee']], true, []],
  ['postgres', 'select * from "Employee"', [['employee']], false, ['public.Employee']],
  ['postgres', 'select * from "Employee"', [['Employee']], true, []],
  ['postgres', 'select * from public.employee', [['public.employee']], true, []],
  ['postgres', 'select * from hr.employee', [['employee']], false, ['hr.employee']],
  ['postgres', 'select * from hr.employee', [['hr.employee']], true, []],
  ['postgres', 'select * from hr.employee', [['*']], true, []],
  ['postgres', 'select * from employee, salary', [['employee', 'salary']], true, []],
  [
    'postgres',
    'select * from employee, salary',
    [['employee'], ['title']],
    false,
    ['public.salary'],
  ],
  ['postgres', 'select * from employee', [['hr.*']], false, ['public.employee']],
];

describe('authorizeTables', () => {
  it.each(MATRIX)('%s: %s under %j', (engine, sql, grants, allowed, missing) => {
    const authorization = authorize(engine, sql, grants);
    expect(authorization.allowed).toBe(allowed);
    expect(authorization.missing.map((t) => `${t.schema}.${t.name}`)).toEqual(missing);
    if (!allowed) {
      expect(authorization.reasons.map((r) => r.code)).toContain('SQL_TABLE_NOT_GRANTED');
    }
  });

  it('refuses with SQL_NO_GRANT when the caller holds no grant, listing what to request', () => {
    const authorization = authorize('mysql', 'select * from employee', []);
    expect(authorization.allowed).toBe(false);
    expect(authorization.reasons.map((r) => r.code)).toEqual(['SQL_NO_GRANT']);
    expect(authorization.missing).toEqual([{ schema: 'hr', name: 'employee' }]);
  });

  it('passes the analysis reasons through when the analysis refused', () => {
    const authorization = authorize('postgres', 'select pg_sleep(1)', [['*']]);
    expect(authorization.allowed).toBe(false);
    expect(authorization.reasons.map((r) => r.code)).toEqual(['SQL_FUNCTION_NOT_ALLOWED']);
  });

  it('never covers a system schema, even with * and a hand-made analysis', () => {
    const analysis: Analysis = {
      ok: true,
      statementType: 'select',
      tables: [{ schema: 'pg_catalog', name: 'pg_authid' }],
      functions: [],
      reasons: [],
    };
    const authorization = authorizeTables({
      analysis,
      engine: 'postgres',
      defaultSchema: 'public',
      grantedTables: [['*'], ['pg_catalog.pg_authid']],
    });
    expect(authorization.allowed).toBe(false);
    expect(authorization.reasons.map((r) => r.code)).toContain('SQL_SYSTEM_CATALOG');
  });

  it('reports which grants were used', () => {
    const authorization = authorize('mysql', 'select * from employee join salary using (id)', [
      ['title'],
      ['salary'],
      ['employee'],
    ]);
    expect(authorization.usedGrants).toEqual([1, 2]);
  });
});

describe('requestHint', () => {
  it('writes unqualified names for the default schema', () => {
    expect(
      requestHint(
        'hr_prod',
        [
          { schema: 'hr', name: 'salary' },
          { schema: 'hr', name: 'title' },
        ],
        'hr',
      ),
    ).toBe('gatehouse request hr_prod --tables salary,title --for 1h --reason "…"');
  });

  it('qualifies other schemas and quotes unusual names for the shell', () => {
    expect(
      requestHint(
        'analytics_prod',
        [
          { schema: 'sales', name: 'orders' },
          { schema: 'public', name: "it's mine" },
        ],
        'public',
      ),
    ).toBe(
      `gatehouse request analytics_prod --tables 'sales.orders,it'\\''s mine' --for 1h --reason "…"`,
    );
  });
});
