import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { main } from '../../src/cli/main.js';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: process.cwd(),
  };
}

async function run(...args: string[]) {
  const io = captureIo();
  const code = await main(['explain', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('gatehouse explain', () => {
  it('exits 0 and prints the decision when the grant covers the statement', async () => {
    const r = await run('--engine', 'mysql', '--database', 'hr', '--grant', 'employee,title',
      'select e.name, t.title from employee e join title t using (emp_no)'); // prettier-ignore
    expect(r.code).toBe(0);
    expect(r.out).toContain('Statement:  select');
    expect(r.out).toContain('hr.employee, hr.title');
    expect(r.out).toContain('Decision:   allowed');
  });

  it('exits 1 with the reason and the request command when a table is not granted', async () => {
    const r = await run('--engine', 'mysql', '--database', 'hr', '--grant', 'employee',
      'select * from employee join salary using (emp_no)'); // prettier-ignore
    expect(r.code).toBe(1);
    expect(r.out).toContain('SQL_TABLE_NOT_GRANTED');
    expect(r.out).toContain('gatehouse request hr --tables salary --for 1h --reason "…"');
  });

  it('without --grant reports what the query needs and exits 0', async () => {
    const r = await run('--engine', 'postgres', '--database', 'analytics', 'select * from events');
    expect(r.code).toBe(0);
    expect(r.out).toContain('needs a grant covering public.events');
    expect(r.out).toContain('gatehouse request analytics --tables events');
  });

  it('without --grant exits 1 when the statement itself is refused', async () => {
    const r = await run(
      '--engine',
      'postgres',
      '--database',
      'analytics',
      'select * from pg_stats',
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('SQL_SYSTEM_CATALOG');
  });

  it('prints the documented JSON shape', async () => {
    const r = await run('--engine', 'postgres', '--database', 'analytics', '--grant', '*', '--json',
      'select count(*) from events; select 1'); // prettier-ignore
    expect(r.code).toBe(1);
    const body = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'allowed',
      'functions',
      'reasons',
      'statementType',
      'tables',
    ]);
    expect(body.allowed).toBe(false);
    expect(body.reasons).toEqual([
      { code: 'SQL_MULTIPLE_STATEMENTS', message: 'Only one statement per query is allowed.' },
    ]);
  });

  it('JSON lists tables and functions of an allowed statement', async () => {
    const r = await run('--engine', 'mysql', '--database', 'hr', '--grant', '*', '--json',
      'select count(*) from salary'); // prettier-ignore
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      allowed: true,
      statementType: 'select',
      tables: [{ schema: 'hr', name: 'salary' }],
      functions: ['count'],
      reasons: [],
    });
  });

  it('accepts several --grant options as several grants', async () => {
    const r = await run('--engine', 'mysql', '--database', 'hr', '--grant', 'employee', '--grant',
      'salary', 'select * from employee join salary using (emp_no)'); // prettier-ignore
    expect(r.code).toBe(0);
  });

  it.each([
    [['--database', 'hr', 'select 1']],
    [['--engine', 'oracle', '--database', 'hr', 'select 1']],
    [['--engine', 'mysql', 'select 1']],
    [['--engine', 'mysql', '--database', 'hr']],
    [['--engine', 'mysql', '--database', 'hr', 'select 1', 'select 2']],
    [['--engine', 'mysql', '--database', 'hr', '--bogus', 'select 1']],
    [['--engine', 'mysql', '--database', 'hr', '--grant', ',', 'select 1']],
  ])('exits 2 on a usage error: %j', async (args) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: gatehouse explain');
  });

  it('prints help with exit 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--grant');
  });
});
