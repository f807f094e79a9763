import { describe, expect, it } from 'vitest';
import { compileTableGlob, matchesTableGlob } from '../../src/policy/glob.js';

describe('table globs', () => {
  const rows: [glob: string, table: string, expected: boolean][] = [
    ['salary', 'salary', true],
    ['salary', 'salary_history', false],
    ['*salary*', 'salary', true],
    ['*salary*', 'employee_salary_history', true],
    ['*salary*', 'hr.salary', true],
    ['*salary*', 'employee', false],
    ['salar?', 'salary', true],
    ['salar?', 'salar', false],
    ['salar?', 'salaryy', false],
    ['hr.*', 'hr.salary', true],
    ['hr.*', 'hrx.salary', false],
    ['*', 'anything.at_all', true],
    ['*', '', true],
    ['?', '', false],
    // Case-insensitive: MySQL lower_case_table_names and PostgreSQL folding make these one table.
    ['*salary*', 'SALARY', true],
    ['*Salary*', 'employee_salary', true],
    ['PAYMENT', 'payment', true],
    // Regex metacharacters are literal.
    ['a.b', 'axb', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['(x)|y', 'y', false],
    ['(x)|y', '(x)|y', true],
    ['a[1]', 'a1', false],
    ['a[1]', 'a[1]', true],
    ['$x^', '$x^', true],
    ['a\\b', 'a\\b', true],
    // `*` spans any character, including a newline, so a crafted name cannot slip past it.
    ['*ssn*', 'x\nssn', true],
    // `?` is one code point.
    ['t?', 't😀', true],
  ];

  it.each(rows)('%j matches %j → %j', (glob, table, expected) => {
    expect(matchesTableGlob(glob, table)).toBe(expected);
  });

  it('compiles once and applies to many names', () => {
    const isSensitive = compileTableGlob('*ssn*');
    expect(['ssn', 'person_ssn', 'employee'].map(isSensitive)).toEqual([true, true, false]);
  });
});
