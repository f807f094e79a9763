import { loadRepoContext, type RepoContext } from '../../src/policy/repo-context.js';

/** The policies the request tests are judged against: the shape of the repository's own
 * examples, plus a denial and a database no rule covers, kept here so that editing the
 * examples does not move test expectations. */
export const FIXTURE_FILES: Readonly<Record<string, string>> = {
  'policies/databases.yaml': `databases:
  hr_prod:
    engine: mysql
    environment: prod
    host: hr-prod.example.internal
    name: hr
    auth:
      iam: { region: eu-west-1, user: gatehouse }
    tables: [employee, title, salary, department]
  hr_test:
    engine: mysql
    environment: test
    host: hr-test.example.internal
    name: hr
    auth:
      iam: { region: eu-west-1, user: gatehouse }
    tables: [employee, title, salary, department]
  analytics_prod:
    engine: postgres
    environment: prod
    host: analytics.example.internal
    name: analytics
    auth:
      iam: { region: eu-west-1, user: gatehouse }
  legacy:
    engine: mysql
    environment: legacy
    host: legacy.example.internal
    name: legacy
    auth:
      password: { user: reader, passwordEnv: LEGACY_PASSWORD }
`,
  'policies/risk.yaml': `levels:
  low:
    approvals: [{ count: 1, from: [codeowners] }]
    maxDuration: 7d
  medium:
    approvals: [{ count: 1, from: ['@acme/dba'] }]
    maxDuration: 1d
  high:
    approvals:
      - { count: 1, from: ['@acme/dba'] }
      - { count: 1, from: ['@acme/security'] }
    maxDuration: 8h
  denied:
    deny: Payment data is only available through the payments team's tooling.
  policy-change:
    approvals: [{ count: 2, from: ['@acme/security'] }]
rules:
  - name: analytics-payments
    match: { database: analytics_prod, tables: ['*payment*'] }
    level: denied
  - name: prod-sensitive
    match: { environment: prod, tables: ['*salary*', '*ssn*', '*payment*'] }
    level: high
  - name: prod
    match: { environment: prod }
    level: medium
  - name: test
    match: { environment: test }
    level: low
meta:
  level: policy-change
`,
  '.github/CODEOWNERS': `/access/ @acme/dba
/policies/ @acme/security
/.github/ @acme/security
`,
};

/** Tests run at this instant. */
export const NOW = new Date('2025-06-01T00:00:00Z');

export function memoryReader(files: Readonly<Record<string, string>>) {
  return async (path: string): Promise<Uint8Array | null> => {
    const text = files[path];
    return text === undefined ? null : new TextEncoder().encode(text);
  };
}

export async function fixtureContext(
  overrides: Readonly<Record<string, string>> = {},
): Promise<RepoContext> {
  const { context, diagnostics } = await loadRepoContext(
    memoryReader({ ...FIXTURE_FILES, ...overrides }),
  );
  if (context === undefined) throw new Error(JSON.stringify(diagnostics, null, 2));
  return context;
}
