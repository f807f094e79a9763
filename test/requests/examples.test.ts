import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateMetaChange } from '../../src/policy/evaluate-risk.js';
import { loadRepoContext } from '../../src/policy/repo-context.js';
import { describeRequirement } from '../../src/policy/risk-decision.js';
import { directoryReader } from '../../src/requests/local-repository.js';
import { renderRequest } from '../../src/requests/render-request.js';
import { validateRequestFile } from '../../src/requests/validate-request.js';

/** The repository's own examples (access/, policies/, .github/CODEOWNERS) are what users copy:
 * they must be valid and must say what issue 2 promises. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const NOW = new Date('2025-06-01T00:00:00Z');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

describe('example content', async () => {
  const { context, diagnostics } = await loadRepoContext(directoryReader(ROOT));

  it('policies/ and CODEOWNERS load without a diagnostic', () => {
    expect(diagnostics).toEqual([]);
    expect(context?.codeownersPath).toBe('.github/CODEOWNERS');
    expect([...(context?.databases.keys() ?? [])]).toEqual(
      expect.arrayContaining(['hr_prod', 'hr_test', 'analytics_prod', 'hr_demo']),
    );
    expect(context?.databases.get('hr_demo')).toMatchObject({
      engine: 'postgres',
      environment: 'demo',
      host: '127.0.0.1',
      port: 5544,
      auth: { kind: 'password', passwordEnv: 'GATEHOUSE_DEMO_PASSWORD' },
      tables: ['employee', 'title', 'salary', 'department'],
    });
  });

  it('holds at least two valid requests under access/', () => {
    const files = yamlFiles(path.join(ROOT, 'access'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const relative = path.relative(ROOT, file).split(path.sep).join('/');
      const result = validateRequestFile({
        path: relative,
        bytes: readFileSync(file),
        context: context!,
        now: new Date(),
      });
      expect(result.diagnostics, relative).toEqual([]);
    }
  });

  it('every YAML file starts with a yaml-language-server line pointing at its schema', () => {
    const files = [
      ...yamlFiles(path.join(ROOT, 'access')),
      ...yamlFiles(path.join(ROOT, 'policies')),
    ];
    for (const file of files) {
      const first = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(match, file).not.toBeNull();
      const schema = path.resolve(path.dirname(file), match?.[1] ?? '');
      expect(existsSync(schema), `${file} → ${schema}`).toBe(true);
      const expected = file.includes(`${path.sep}access${path.sep}`)
        ? 'access-request'
        : path.basename(file) === 'risk.yaml'
          ? 'risk-policy'
          : 'databases';
      expect(path.basename(schema)).toBe(`${expected}.schema.json`);
    }
  });

  it('the header written by gatehouse request resolves from access/<database>/', () => {
    const header = renderRequest({
      requester: 'a',
      database: 'hr_prod',
      tables: ['employee'],
      duration: '1h',
      reason: 'x',
    }).split('\n')[0];
    const target = header?.replace('# yaml-language-server: $schema=', '') ?? '';
    expect(existsSync(path.resolve(ROOT, 'access/hr_prod', target))).toBe(true);
  });

  // Issue 2: "test environment 1 CODEOWNER approval up to 7 days; prod 1 approval from the DBA
  // team up to 1 day; prod tables matching *salary*, *ssn*, *payment* 2 approvals (DBA +
  // security) up to 8 hours; changes to policies 2 approvals from security."
  it.each([
    ['hr_test', 'employee', '7d', 'low', ['1 approval from @acme/dba'], 7 * 24],
    ['hr_test', 'salary', '1d', 'low', ['1 approval from @acme/dba'], 7 * 24],
    ['hr_prod', 'employee', '4h', 'medium', ['1 approval from @acme/dba'], 24],
    ['hr_prod', 'employee', '1d', 'medium', ['1 approval from @acme/dba'], 24],
    [
      'hr_prod',
      'employee,salary',
      '2h',
      'high',
      ['1 approval from @acme/dba', '1 approval from @acme/security'],
      8,
    ],
    [
      'analytics_prod',
      'billing.payment_methods',
      '1h',
      'high',
      ['1 approval from @acme/dba', '1 approval from @acme/security'],
      8,
    ],
    ['analytics_prod', 'events', '4h', 'medium', ['1 approval from @acme/dba'], 24],
    ['hr_demo', 'employee', '1h', 'medium', ['1 approval from @acme/dba'], 24],
  ])('%s %s for %s → %s', (database, tables, duration, level, approvals, maxHours) => {
    const text = renderRequest({
      requester: 'alice',
      database,
      tables: tables.split(','),
      duration,
      reason: 'Example',
    });
    const result = validateRequestFile({
      path: `access/${database}/alice.yaml`,
      bytes: text,
      context: context!,
      now: NOW,
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.decision?.kind).toBe('approve');
    if (result.decision?.kind !== 'approve') return;
    expect(result.decision.level).toBe(level);
    expect(result.decision.approvals.map(describeRequirement)).toEqual(approvals);
    expect(result.decision.maxDurationMs).toBe(maxHours * 3_600_000);
  });

  it('refuses prod salary for longer than 8h and test for longer than 7d', () => {
    for (const [database, tables, duration] of [
      ['hr_prod', ['salary'], '9h'],
      ['hr_prod', ['*'], '1d'],
      ['hr_test', ['employee'], '8d'],
    ] as const) {
      const result = validateRequestFile({
        path: `access/${database}/alice.yaml`,
        bytes: renderRequest({ requester: 'alice', database, tables, duration, reason: 'x' }),
        context: context!,
        now: NOW,
      });
      expect(result.diagnostics.map((d) => d.code)).toEqual(['REQ_DURATION_TOO_LONG']);
    }
  });

  it('changes to policies/ and CODEOWNERS need 2 approvals from @acme/security', () => {
    const decision = evaluateMetaChange({
      paths: ['policies/risk.yaml', '.github/CODEOWNERS'],
      policy: context!.policy,
      codeowners: context!.codeowners,
    });
    expect(decision.kind).toBe('approve');
    if (decision.kind !== 'approve') return;
    expect(decision.approvals.map(describeRequirement)).toEqual([
      '2 approvals from @acme/security',
    ]);
  });
});
