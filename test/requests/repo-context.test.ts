import { describe, expect, it } from 'vitest';
import { loadRepoContext } from '../../src/policy/repo-context.js';
import { FIXTURE_FILES, memoryReader } from './fixture-context.js';

const { ['.github/CODEOWNERS']: codeowners = '', ...policies } = FIXTURE_FILES;

describe('loadRepoContext', () => {
  it('loads databases, risk policy and CODEOWNERS', async () => {
    const { context, diagnostics } = await loadRepoContext(memoryReader(FIXTURE_FILES));
    expect(diagnostics).toEqual([]);
    expect([...(context?.databases.keys() ?? [])]).toEqual([
      'hr_prod',
      'hr_test',
      'analytics_prod',
      'legacy',
    ]);
    expect(context?.policy.rules.map((r) => r.name)).toContain('prod');
    expect(context?.codeownersPath).toBe('.github/CODEOWNERS');
    expect(context?.codeowners.rules).toHaveLength(3);
  });

  it('takes CODEOWNERS from the first of .github/, the root and docs/, like GitHub', async () => {
    const reads: string[] = [];
    const files = { ...policies, CODEOWNERS: '* @root', 'docs/CODEOWNERS': '* @docs' };
    const reader = memoryReader(files);
    const { context } = await loadRepoContext(async (path) => {
      reads.push(path);
      return reader(path);
    });
    expect(context?.codeownersPath).toBe('CODEOWNERS');
    expect(context?.codeowners.rules[0]?.owners).toEqual(['@root']);
    // Looked for .github/CODEOWNERS first and stopped at the first found.
    expect(reads.filter((p) => p.endsWith('CODEOWNERS'))).toEqual([
      '.github/CODEOWNERS',
      'CODEOWNERS',
    ]);

    const docsOnly = await loadRepoContext(
      memoryReader({ ...policies, 'docs/CODEOWNERS': '* @docs' }),
    );
    expect(docsOnly.context?.codeownersPath).toBe('docs/CODEOWNERS');
  });

  it('works without CODEOWNERS (nobody owns anything)', async () => {
    const { context, diagnostics } = await loadRepoContext(memoryReader(policies));
    expect(diagnostics).toEqual([]);
    expect(context?.codeownersPath).toBeNull();
    expect(context?.codeowners.rules).toEqual([]);
  });

  it('refuses a CODEOWNERS with an invalid line: ownership would silently shift', async () => {
    const { context, diagnostics } = await loadRepoContext(
      memoryReader({
        ...policies,
        '.github/CODEOWNERS': `${codeowners}/policies/ not-an-owner!\n`,
      }),
    );
    expect(context).toBeUndefined();
    expect(diagnostics.map((d) => [d.file, d.code, d.line])).toEqual([
      ['.github/CODEOWNERS', 'CODEOWNERS_INVALID', 4],
    ]);
  });

  it('reports missing policy files and problems in both files together', async () => {
    const missing = await loadRepoContext(memoryReader({}));
    expect(missing.context).toBeUndefined();
    expect(missing.diagnostics.map((d) => [d.file, d.code, d.line])).toEqual([
      ['policies/databases.yaml', 'POLICY_INVALID', 0],
      ['policies/risk.yaml', 'POLICY_INVALID', 0],
    ]);

    const broken = await loadRepoContext(
      memoryReader({
        ...FIXTURE_FILES,
        'policies/databases.yaml': 'databases:\n  a: 1\n',
        'policies/risk.yaml': 'levels: {}\n',
      }),
    );
    expect(broken.context).toBeUndefined();
    expect(new Set(broken.diagnostics.map((d) => d.file))).toEqual(
      new Set(['policies/databases.yaml', 'policies/risk.yaml']),
    );
  });

  it('refuses a risk policy whose rules name environments the databases do not have', async () => {
    const { context, diagnostics } = await loadRepoContext(
      memoryReader({
        ...FIXTURE_FILES,
        'policies/risk.yaml': (FIXTURE_FILES['policies/risk.yaml'] ?? '').replace(
          'environment: test',
          'environment: testing',
        ),
      }),
    );
    expect(context).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.field])).toEqual([
      ['POLICY_INVALID', 'rules[3].match.environment'],
    ]);
  });
});
