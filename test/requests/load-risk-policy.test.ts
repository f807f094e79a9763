import { describe, expect, it } from 'vitest';
import { loadDatabases } from '../../src/policy/load-databases.js';
import { loadRiskPolicy } from '../../src/policy/load-risk-policy.js';
import { FIXTURE_FILES } from './fixture-context.js';

const FILE = 'policies/risk.yaml';
const databases = loadDatabases(
  'policies/databases.yaml',
  FIXTURE_FILES['policies/databases.yaml'] ?? '',
).databases;

describe('loadRiskPolicy', () => {
  it('maps the readable format onto RiskPolicy', () => {
    const { policy, diagnostics } = loadRiskPolicy(
      FILE,
      `levels:
  low:
    approvals:
      - count: 1
        from: [codeowners, '@acme/dba', carol, '@dave']
    maxDuration: 7d
  nope:
    deny: Ask the payments team.
  meta:
    approvals: [{ count: 2, from: ['@acme/security'] }]
rules:
  - name: payments
    match:
      environment: [prod, test]
      database: hr_prod
      tables: '*payment*'
      durationOver: 8h
      requesters: ['@acme/contractors', erin]
    level: nope
  - name: everything
    match: {}
    level: low
meta:
  level: meta
auditors: ['@acme/audit', frank]
`,
    );
    expect(diagnostics).toEqual([]);
    expect(policy?.levels.get('low')).toEqual({
      name: 'low',
      kind: 'approve',
      approvals: [
        { count: 1, from: { codeowners: true, teams: ['acme/dba'], users: ['carol', 'dave'] } },
      ],
      maxDurationMs: 7 * 86_400_000,
      maxDurationText: '7d',
    });
    expect(policy?.levels.get('nope')).toEqual({
      name: 'nope',
      kind: 'deny',
      message: 'Ask the payments team.',
    });
    expect(policy?.rules).toEqual([
      {
        name: 'payments',
        level: 'nope',
        match: {
          environments: ['prod', 'test'],
          databases: ['hr_prod'],
          tables: ['*payment*'],
          durationOverMs: 8 * 3_600_000,
          requesters: { users: ['erin'], teams: ['acme/contractors'] },
        },
      },
      { name: 'everything', level: 'low', match: {} },
    ]);
    expect(policy?.meta).toEqual({ level: 'meta' });
    expect(policy?.auditors).toEqual({ users: ['frank'], teams: ['acme/audit'] });
    expect(policy?.reminderLeadMs).toBe(30 * 60_000);
  });

  const policy = (rules: string, levels = '') => `levels:
  low:
    approvals: [{ count: 1, from: [codeowners] }]
    maxDuration: 7d
  meta:
    approvals: [{ count: 2, from: ['@acme/security'] }]
${levels}rules:
${rules}meta:
  level: meta
`;
  const rule = '  - name: all\n    match: {}\n    level: low\n';

  it.each([
    [
      'a rule naming a missing level',
      policy('  - name: all\n    match: {}\n    level: medium\n'),
      'POLICY_INVALID',
      10,
    ],
    ['two rules with one name', policy(rule + rule), 'POLICY_INVALID', 11],
    [
      'meta naming a missing level',
      policy(rule).replace('level: meta', 'level: top'),
      'POLICY_INVALID',
      12,
    ],
    [
      'a level used by a rule without maxDuration',
      policy('  - name: all\n    match: {}\n    level: meta\n'),
      'POLICY_INVALID',
      5,
    ],
    [
      'deny with maxDuration',
      policy(rule, '  no:\n    deny: No.\n    maxDuration: 1h\n'),
      'POLICY_INVALID',
      9,
    ],
    [
      'deny and approvals together',
      policy(rule, '  no:\n    deny: No.\n    approvals: [{ count: 1, from: [x] }]\n'),
      'SCHEMA_INVALID_VALUE',
      9,
    ],
    [
      'neither deny nor approvals',
      policy(rule, '  no:\n    maxDuration: 1h\n'),
      'SCHEMA_INVALID_VALUE',
      7,
    ],
    [
      'more approvals than listed users',
      policy(rule, '  two:\n    approvals: [{ count: 2, from: [alice] }]\n    maxDuration: 1h\n'),
      'POLICY_INVALID',
      8,
    ],
    [
      'zero approvals',
      policy(rule, '  free:\n    approvals: []\n    maxDuration: 1h\n'),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    [
      'a count of zero',
      policy(rule, '  free:\n    approvals: [{ count: 0, from: [alice] }]\n    maxDuration: 1h\n'),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    [
      'a zero maxDuration',
      policy(rule, '  x:\n    approvals: [{ count: 1, from: [alice] }]\n    maxDuration: 0h\n'),
      'POLICY_INVALID',
      9,
    ],
    [
      'a reviewer that is not one',
      policy(
        rule,
        '  x:\n    approvals: [{ count: 1, from: ["acme dba"] }]\n    maxDuration: 1h\n',
      ),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    [
      'an unknown match key',
      policy('  - name: all\n    match: { env: prod }\n    level: low\n'),
      'SCHEMA_UNKNOWN_KEY',
      9,
    ],
    [
      'a duration in words',
      policy('  - name: all\n    match: { durationOver: 8 hours }\n    level: low\n'),
      'SCHEMA_INVALID_VALUE',
      9,
    ],
    [
      'no rules',
      policy('  []\n'.replace('  []\n', '')).replace('rules:\n', 'rules: []\n'),
      'SCHEMA_INVALID_VALUE',
      7,
    ],
    [
      'a level name with spaces',
      policy(rule, '  "very high":\n    deny: No.\n'),
      'SCHEMA_INVALID_VALUE',
      7,
    ],
  ])('%s → %s at line %d', (_name, text, code, line) => {
    const { policy: loaded, diagnostics } = loadRiskPolicy(FILE, text);
    expect(loaded).toBeUndefined();
    expect(
      diagnostics.map((d) => [d.code, d.line]),
      JSON.stringify(diagnostics),
    ).toContainEqual([code, line]);
  });

  it('refuses rules naming environments or databases that databases.yaml lacks', () => {
    const text = policy(
      '  - name: prod\n    match: { environment: prd }\n    level: low\n  - name: hr\n    match: { database: [hr_prod, hr_prd] }\n    level: low\n',
    );
    const { policy: loaded, diagnostics } = loadRiskPolicy(
      FILE,
      text,
      databases === undefined ? {} : { databases },
    );
    expect(loaded).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.line, d.field])).toEqual([
      ['POLICY_INVALID', 9, 'rules[0].match.environment'],
      ['POLICY_INVALID', 12, 'rules[1].match.database'],
    ]);
    expect(diagnostics[0]?.message).toContain("environment 'prd'");
    expect(diagnostics[1]?.message).toContain("database 'hr_prd'");
    // Without databases, only the file itself is checked.
    expect(loadRiskPolicy(FILE, text).diagnostics).toEqual([]);
  });
});
