import { describe, expect, it } from 'vitest';
import { parseCodeowners } from '../../src/policy/codeowners.js';
import type { DatabaseConfig, Databases } from '../../src/policy/databases.js';
import { evaluateMetaChange, evaluateRisk } from '../../src/policy/evaluate-risk.js';
import { describeRequirement, type RiskDecision } from '../../src/policy/risk-decision.js';
import type {
  ApprovalRequirement,
  RiskLevel,
  RiskPolicy,
  RiskRule,
} from '../../src/policy/risk-policy.js';
import type { AccessRequest } from '../../src/requests/access-request.js';

// Plain data only: no loader, no file system, no clock.
const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const NOW = new Date('2026-03-01T12:00:00Z');

function database(
  id: string,
  engine: 'mysql' | 'postgres',
  environment: string,
  name: string,
): DatabaseConfig {
  return {
    id,
    engine,
    environment,
    host: `${id}.cluster-abc.eu-west-1.rds.amazonaws.com`,
    port: engine === 'mysql' ? 3306 : 5432,
    name,
    auth: { kind: 'iam', region: 'eu-west-1', user: 'gatehouse' },
    tls: { required: true },
  };
}

const DATABASES: Databases = new Map(
  [
    database('hr_prod', 'mysql', 'prod', 'hr'),
    database('hr_test', 'mysql', 'test', 'hr'),
    database('analytics_prod', 'postgres', 'prod', 'analytics'),
    database('orphan_test', 'mysql', 'test', 'orphan'),
    database('hr_staging', 'mysql', 'staging', 'hr'),
  ].map((db) => [db.id, db]),
);

const team = (count: number, ...teams: string[]): ApprovalRequirement => ({
  count,
  from: { codeowners: false, teams, users: [] },
});
const codeownersOnly = (count: number): ApprovalRequirement => ({
  count,
  from: { codeowners: true, teams: [], users: [] },
});

const LEVELS: RiskLevel[] = [
  {
    name: 'low',
    kind: 'approve',
    approvals: [codeownersOnly(1)],
    maxDurationMs: 7 * D,
    maxDurationText: '7d',
  },
  {
    name: 'trusted',
    kind: 'approve',
    approvals: [],
    maxDurationMs: 30 * D,
    maxDurationText: '30d',
  },
  {
    name: 'prod',
    kind: 'approve',
    approvals: [team(1, 'acme/dba')],
    maxDurationMs: 1 * D,
    maxDurationText: '1d',
  },
  {
    name: 'prod_extended',
    kind: 'approve',
    approvals: [team(2, 'acme/dba')],
    maxDurationMs: 3 * D,
    maxDurationText: '3d',
  },
  {
    name: 'sensitive',
    kind: 'approve',
    approvals: [team(1, 'acme/dba'), team(1, 'acme/security')],
    maxDurationMs: 8 * H,
    maxDurationText: '8h',
  },
  { name: 'frozen', kind: 'deny', message: 'Payroll is frozen until the audit ends.' },
  {
    name: 'policy_change',
    kind: 'approve',
    approvals: [team(2, 'acme/security')],
    maxDurationMs: 0,
    maxDurationText: '0m',
  },
];

const RULES: RiskRule[] = [
  {
    name: 'payroll-freeze',
    match: { databases: ['hr_prod'], tables: ['payroll*', 'hr.bonus'] },
    level: 'frozen',
  },
  {
    name: 'prod-sensitive',
    match: { environments: ['prod'], tables: ['*salary*', '*ssn*', '*payment*'] },
    level: 'sensitive',
  },
  {
    name: 'analytics-pii',
    match: { databases: ['analytics_prod'], tables: ['pii.*'] },
    level: 'sensitive',
  },
  {
    name: 'prod-long',
    match: { environments: ['prod'], durationOverMs: 1 * D },
    level: 'prod_extended',
  },
  { name: 'prod', match: { environments: ['prod'] }, level: 'prod' },
  {
    name: 'test-trusted',
    match: { environments: ['test'], requesters: { users: ['@Dora'], teams: ['@Acme/DBA'] } },
    level: 'trusted',
  },
  { name: 'test', match: { environments: ['test'] }, level: 'low' },
];

function policy(rules: RiskRule[] = RULES, metaLevel = 'policy_change'): RiskPolicy {
  return {
    levels: new Map(LEVELS.map((level) => [level.name, level])),
    rules,
    meta: { level: metaLevel },
    auditors: { users: [], teams: ['acme/security'] },
    reminderLeadMs: 2 * D,
  };
}

const { codeowners: CODEOWNERS, diagnostics } = parseCodeowners(
  [
    '*                    @acme/platform',
    '/access/             @acme/dba',
    '/access/hr_test/     @acme/hr-leads @dora',
    '/access/orphan_test/ # nobody owns these',
    '/policies/           @acme/security',
    '/policies/databases.yaml @acme/dba @acme/security',
    '/.github/CODEOWNERS  @acme/security',
  ].join('\n'),
  '.github/CODEOWNERS',
);

type Lifetime = { for: number } | { until: string };

function request(
  db: string,
  tables: string[],
  lifetime: Lifetime,
  requester = 'alice',
): AccessRequest {
  return {
    path: `access/${db}/${requester}-incident-42.yaml`,
    requester,
    database: db,
    tables,
    access: 'read',
    lifetime:
      'for' in lifetime
        ? { kind: 'duration', text: `${lifetime.for / M}m`, ms: lifetime.for }
        : { kind: 'expires', text: lifetime.until, at: new Date(lifetime.until) },
    reason: 'Incident 42: reconcile payroll export',
  };
}

/** What a row expects: the decision, with approvals written as describeRequirement does. */
type Expected =
  | {
      kind: 'approve';
      level: string;
      rule: string;
      approvals: string[];
      max: number;
      requested: number;
    }
  | { kind: 'deny'; level: string; rule: string }
  | { kind: 'error'; code: string; level?: string; rule?: string };

interface Row {
  readonly name: string;
  readonly request: AccessRequest;
  readonly teams?: ReadonlySet<string>;
  readonly policy?: RiskPolicy;
  readonly expected: Expected;
}

const DBA_1 = '1 approval from @acme/dba';
const SENSITIVE = [DBA_1, '1 approval from @acme/security'];

const ROWS: Row[] = [
  {
    name: 'test environment: 1 CODEOWNER approval, up to 7 days',
    request: request('hr_test', ['employee'], { for: 4 * H }),
    teams: new Set(),
    expected: {
      kind: 'approve',
      level: 'low',
      rule: 'test',
      approvals: ['1 approval from @acme/hr-leads or @dora'],
      max: 7 * D,
      requested: 4 * H,
    },
  },
  {
    name: 'prod: 1 approval from the DBA team, up to 1 day',
    request: request('hr_prod', ['employee', 'title'], { for: 4 * H }),
    expected: {
      kind: 'approve',
      level: 'prod',
      rule: 'prod',
      approvals: [DBA_1],
      max: D,
      requested: 4 * H,
    },
  },
  {
    name: 'prod salary: 2 approvals (DBA + security), up to 8 hours',
    request: request('hr_prod', ['salary'], { for: 2 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'prod-sensitive',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: 2 * H,
    },
  },
  {
    name: 'a sensitive table bundled with harmless ones still gets the sensitive level',
    request: request('hr_prod', ['employee', 'title', 'salary'], { for: 2 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'prod-sensitive',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: 2 * H,
    },
  },
  {
    name: 'table names match case-insensitively (SALARY is salary)',
    request: request('hr_prod', ['SALARY'], { for: 2 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'prod-sensitive',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: 2 * H,
    },
  },
  {
    name: '* on hr_prod matches every table glob, so the first table rule (a deny) applies',
    request: request('hr_prod', ['*'], { for: 1 * H }),
    expected: { kind: 'deny', level: 'frozen', rule: 'payroll-freeze' },
  },
  {
    name: '* on analytics_prod gets the sensitive level, never plain prod',
    request: request('analytics_prod', ['*'], { for: 1 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'prod-sensitive',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: H,
    },
  },
  {
    name: 'deny level: payroll tables are frozen',
    request: request('hr_prod', ['payroll_2026'], { for: 1 * H }),
    expected: { kind: 'deny', level: 'frozen', rule: 'payroll-freeze' },
  },
  {
    name: 'a MySQL table matches a glob qualified with the database name (hr.bonus)',
    request: request('hr_prod', ['bonus'], { for: 1 * H }),
    expected: { kind: 'deny', level: 'frozen', rule: 'payroll-freeze' },
  },
  {
    name: 'a schema-qualified PostgreSQL table matches a schema glob (pii.*)',
    request: request('analytics_prod', ['pii.users'], { for: 1 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'analytics-pii',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: H,
    },
  },
  {
    name: 'an unqualified PostgreSQL table is in the default schema, not pii',
    request: request('analytics_prod', ['users'], { for: 1 * H }),
    expected: {
      kind: 'approve',
      level: 'prod',
      rule: 'prod',
      approvals: [DBA_1],
      max: D,
      requested: H,
    },
  },
  {
    name: 'a schema-qualified table matches a bare-name glob (public.payments vs *payment*)',
    request: request('analytics_prod', ['public.payments'], { for: 1 * H }),
    expected: {
      kind: 'approve',
      level: 'sensitive',
      rule: 'prod-sensitive',
      approvals: SENSITIVE,
      max: 8 * H,
      requested: H,
    },
  },
  {
    name: 'exactly the 1-day threshold is not "over" it: plain prod',
    request: request('hr_prod', ['employee'], { for: 1 * D }),
    expected: {
      kind: 'approve',
      level: 'prod',
      rule: 'prod',
      approvals: [DBA_1],
      max: D,
      requested: D,
    },
  },
  {
    name: 'duration over a rule threshold: 2 days on prod needs 2 DBA approvals, up to 3 days',
    request: request('hr_prod', ['employee'], { for: 2 * D }),
    expected: {
      kind: 'approve',
      level: 'prod_extended',
      rule: 'prod-long',
      approvals: ['2 approvals from @acme/dba'],
      max: 3 * D,
      requested: 2 * D,
    },
  },
  {
    name: "duration beyond the level's maximum is refused, naming the level",
    request: request('hr_prod', ['employee'], { for: 4 * D }),
    expected: {
      kind: 'error',
      code: 'REQ_DURATION_TOO_LONG',
      level: 'prod_extended',
      rule: 'prod-long',
    },
  },
  {
    name: 'a sensitive table for longer than 8 hours is refused (the table rule comes first)',
    request: request('hr_prod', ['salary'], { for: 12 * H }),
    expected: {
      kind: 'error',
      code: 'REQ_DURATION_TOO_LONG',
      level: 'sensitive',
      rule: 'prod-sensitive',
    },
  },
  {
    name: 'requester in a team (@Acme/DBA in the rule, acme/dba from GitHub): trusted level',
    request: request('hr_test', ['employee'], { for: 10 * D }, 'carol'),
    teams: new Set(['acme/dba']),
    expected: {
      kind: 'approve',
      level: 'trusted',
      rule: 'test-trusted',
      approvals: [],
      max: 30 * D,
      requested: 10 * D,
    },
  },
  {
    name: 'requester in no listed team: the next rule applies',
    request: request('hr_test', ['employee'], { for: 4 * H }, 'carol'),
    teams: new Set(['acme/frontend']),
    expected: {
      kind: 'approve',
      level: 'low',
      rule: 'test',
      approvals: ['1 approval from @acme/hr-leads or @dora'],
      max: 7 * D,
      requested: 4 * H,
    },
  },
  {
    name: 'requester listed by login, case-insensitively (@Dora in the rule, dora requests)',
    request: request('hr_test', ['employee'], { for: 4 * H }, 'dora'),
    expected: {
      kind: 'approve',
      level: 'trusted',
      rule: 'test-trusted',
      approvals: [],
      max: 30 * D,
      requested: 4 * H,
    },
  },
  {
    name: 'teams not looked up while a team rule decides: POLICY_TEAMS_UNKNOWN, not a guess',
    request: request('hr_test', ['employee'], { for: 4 * H }, 'carol'),
    expected: { kind: 'error', code: 'POLICY_TEAMS_UNKNOWN', rule: 'test-trusted' },
  },
  {
    name: 'teams not looked up but irrelevant (prod rules come first): fine',
    request: request('hr_prod', ['employee'], { for: 4 * H }, 'carol'),
    expected: {
      kind: 'approve',
      level: 'prod',
      rule: 'prod',
      approvals: [DBA_1],
      max: D,
      requested: 4 * H,
    },
  },
  {
    name: 'no rule applies (staging): POLICY_NO_RULE, never a success',
    request: request('hr_staging', ['employee'], { for: 1 * H }),
    expected: { kind: 'error', code: 'POLICY_NO_RULE' },
  },
  {
    name: 'an empty rule list: POLICY_NO_RULE',
    request: request('hr_test', ['employee'], { for: 1 * H }),
    policy: policy([]),
    expected: { kind: 'error', code: 'POLICY_NO_RULE' },
  },
  {
    name: 'expires-based lifetime is measured from now (3 hours)',
    request: request('hr_test', ['employee'], { until: '2026-03-01T17:00:00+02:00' }),
    teams: new Set(),
    expected: {
      kind: 'approve',
      level: 'low',
      rule: 'test',
      approvals: ['1 approval from @acme/hr-leads or @dora'],
      max: 7 * D,
      requested: 3 * H,
    },
  },
  {
    name: 'expires 2 days ahead on prod triggers the duration rule',
    request: request('hr_prod', ['employee'], { until: '2026-03-03T12:00:00Z' }),
    expected: {
      kind: 'approve',
      level: 'prod_extended',
      rule: 'prod-long',
      approvals: ['2 approvals from @acme/dba'],
      max: 3 * D,
      requested: 2 * D,
    },
  },
  {
    name: 'expires in the past',
    request: request('hr_prod', ['employee'], { until: '2026-03-01T11:59:59Z' }),
    expected: { kind: 'error', code: 'REQ_EXPIRES_PAST' },
  },
  {
    name: 'expires exactly now',
    request: request('hr_prod', ['employee'], { until: '2026-03-01T12:00:00Z' }),
    expected: { kind: 'error', code: 'REQ_EXPIRES_PAST' },
  },
  {
    name: 'an unparseable expires date fails closed',
    request: request('hr_prod', ['employee'], { until: 'tomorrow' }),
    expected: { kind: 'error', code: 'REQ_EXPIRES_PAST' },
  },
  {
    name: 'a zero duration',
    request: request('hr_prod', ['employee'], { for: 0 }),
    expected: { kind: 'error', code: 'REQ_DURATION_ZERO' },
  },
  {
    name: 'an undeclared database is the request’s fault',
    request: request('payments_prod', ['employee'], { for: H }),
    expected: { kind: 'error', code: 'REQ_UNKNOWN_DATABASE' },
  },
  {
    name: 'CODEOWNERS approval wanted but the file has no owner: nobody could ever approve',
    request: request('orphan_test', ['employee'], { for: H }),
    teams: new Set(),
    expected: { kind: 'error', code: 'PR_NO_APPROVERS', level: 'low', rule: 'test' },
  },
  {
    name: 'a rule naming an undefined level: POLICY_INVALID',
    request: request('hr_prod', ['employee'], { for: H }),
    policy: policy([{ name: 'typo', match: {}, level: 'prdo' }]),
    expected: { kind: 'error', code: 'POLICY_INVALID', rule: 'typo' },
  },
  {
    name: 'an empty condition list matches nothing (environments: [])',
    request: request('hr_prod', ['employee'], { for: H }),
    policy: policy([{ name: 'never', match: { environments: [] }, level: 'low' }]),
    expected: { kind: 'error', code: 'POLICY_NO_RULE' },
  },
];

function summarize(decision: RiskDecision): Expected {
  switch (decision.kind) {
    case 'approve':
      return {
        kind: 'approve',
        level: decision.level,
        rule: decision.rule,
        approvals: decision.approvals.map(describeRequirement),
        max: decision.maxDurationMs,
        requested: decision.requestedMs,
      };
    case 'deny':
      return { kind: 'deny', level: decision.level, rule: decision.rule };
    case 'error':
      return {
        kind: 'error',
        code: decision.code,
        ...(decision.level === undefined ? {} : { level: decision.level }),
        ...(decision.rule === undefined ? {} : { rule: decision.rule }),
      };
  }
}

describe('evaluateRisk: request × policy → level, approvals, max duration', () => {
  it('uses a valid CODEOWNERS fixture', () => {
    expect(diagnostics).toEqual([]);
  });

  it.each(ROWS)('$name', (row) => {
    const decision = evaluateRisk({
      request: row.request,
      databases: DATABASES,
      policy: row.policy ?? policy(),
      codeowners: CODEOWNERS,
      now: NOW,
      ...(row.teams === undefined ? {} : { requesterTeams: row.teams }),
    });
    expect(summarize(decision)).toEqual(row.expected);
  });

  it('resolves CODEOWNERS of the request file into the requirement', () => {
    const decision = evaluateRisk({
      request: request('hr_test', ['employee'], { for: H }),
      databases: DATABASES,
      policy: policy(),
      codeowners: CODEOWNERS,
      now: NOW,
      requesterTeams: new Set(),
    });
    expect(decision).toEqual({
      kind: 'approve',
      level: 'low',
      rule: 'test',
      approvals: [
        {
          count: 1,
          from: { codeowners: true, teams: [], users: [] },
          codeowners: ['@acme/hr-leads', '@dora'],
        },
      ],
      maxDurationMs: 7 * D,
      requestedMs: H,
    });
  });

  it('leaves codeowners empty for requirements that do not ask for them', () => {
    const decision = evaluateRisk({
      request: request('hr_prod', ['employee'], { for: H }),
      databases: DATABASES,
      policy: policy(),
      codeowners: CODEOWNERS,
      now: NOW,
    });
    expect(decision.kind === 'approve' && decision.approvals).toEqual([
      { count: 1, from: { codeowners: false, teams: ['acme/dba'], users: [] }, codeowners: [] },
    ]);
  });

  it('gives the deny message and the duration bounds in refusals', () => {
    const input = { databases: DATABASES, policy: policy(), codeowners: CODEOWNERS, now: NOW };
    const denied = evaluateRisk({ ...input, request: request('hr_prod', ['payroll'], { for: H }) });
    expect(denied).toMatchObject({
      kind: 'deny',
      message: 'Payroll is frozen until the audit ends.',
    });
    const tooLong = evaluateRisk({
      ...input,
      request: request('hr_prod', ['salary'], { for: 12 * H }),
    });
    expect(tooLong).toMatchObject({ kind: 'error', maxDurationMs: 8 * H, requestedMs: 12 * H });
    expect(tooLong.kind === 'error' && tooLong.message).toContain('8h');
  });

  it('does not depend on anything but its input (same input, same output)', () => {
    const input = {
      request: request('hr_prod', ['salary'], { until: '2026-03-01T14:00:00Z' }),
      databases: DATABASES,
      policy: policy(),
      codeowners: CODEOWNERS,
      now: NOW,
    };
    expect(evaluateRisk(input)).toEqual(evaluateRisk(input));
    expect(evaluateRisk({ ...input, now: new Date('2026-03-01T13:00:00Z') })).toMatchObject({
      requestedMs: H,
    });
  });
});

describe('evaluateMetaChange: changes to policies/ and CODEOWNERS', () => {
  it('uses the meta level, never the request rules', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/risk.yaml'],
      policy: policy(),
      codeowners: CODEOWNERS,
    });
    expect(summarize(decision)).toEqual({
      kind: 'approve',
      level: 'policy_change',
      rule: 'meta',
      approvals: ['2 approvals from @acme/security'],
      max: 0,
      requested: 0,
    });
  });

  const metaPolicy = (approvals: ApprovalRequirement[]): RiskPolicy => ({
    ...policy(),
    levels: new Map([
      [
        'policy_change',
        {
          name: 'policy_change',
          kind: 'approve',
          approvals,
          maxDurationMs: 0,
          maxDurationText: '0m',
        },
      ],
    ]),
  });

  it('resolves the CODEOWNERS of the changed files', () => {
    const decision = evaluateMetaChange({
      paths: ['.github/CODEOWNERS'],
      policy: metaPolicy([codeownersOnly(1)]),
      codeowners: CODEOWNERS,
    });
    expect(decision.kind === 'approve' && decision.approvals[0]?.codeowners).toEqual([
      '@acme/security',
    ]);
  });

  it('with several files, only owners of every file qualify', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/databases.yaml', 'policies/risk.yaml', '.github/CODEOWNERS'],
      policy: metaPolicy([codeownersOnly(1)]),
      codeowners: CODEOWNERS,
    });
    expect(decision.kind === 'approve' && decision.approvals[0]?.codeowners).toEqual([
      '@acme/security',
    ]);
  });

  it('fails closed when no one owns every changed file', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/risk.yaml', 'access/orphan_test/x.yaml'],
      policy: metaPolicy([codeownersOnly(1)]),
      codeowners: CODEOWNERS,
    });
    expect(decision).toMatchObject({ kind: 'error', code: 'PR_NO_APPROVERS' });
  });

  it('a meta level that denies freezes policy changes', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/risk.yaml'],
      policy: policy(RULES, 'frozen'),
      codeowners: CODEOWNERS,
    });
    expect(decision).toMatchObject({ kind: 'deny', level: 'frozen', rule: 'meta' });
  });

  it('a meta level that is not defined: POLICY_INVALID', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/risk.yaml'],
      policy: policy(RULES, 'missing'),
      codeowners: CODEOWNERS,
    });
    expect(decision).toMatchObject({ kind: 'error', code: 'POLICY_INVALID', rule: 'meta' });
  });
});

describe('describeRequirement', () => {
  const rows: [string, Parameters<typeof describeRequirement>[0], string][] = [
    ['one team', { ...team(1, 'acme/dba'), codeowners: [] }, '1 approval from @acme/dba'],
    [
      'two teams',
      { ...team(2, 'acme/dba', 'acme/security'), codeowners: [] },
      '2 approvals from @acme/dba or @acme/security',
    ],
    [
      'owners, teams and users, without repeats',
      {
        count: 1,
        from: { codeowners: true, teams: ['acme/dba'], users: ['carol'] },
        codeowners: ['@Acme/DBA', 'dba@example.com', '@dora'],
      },
      '1 approval from @Acme/DBA, dba@example.com, @dora or @carol',
    ],
    [
      'CODEOWNERS with no owner',
      { ...codeownersOnly(1), codeowners: [] },
      '1 approval from a code owner (the file has none)',
    ],
    ['nobody', { ...team(1), codeowners: [] }, '1 approval from nobody (no reviewer is named)'],
  ];
  it.each(rows)('%s', (_name, req, text) => {
    expect(describeRequirement(req)).toBe(text);
  });
});
