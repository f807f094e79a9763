import { describe, expect, it } from 'vitest';
import { ownersOf, parseCodeowners, type Codeowners } from '../../src/policy/codeowners.js';

function parse(text: string): ReturnType<typeof parseCodeowners> {
  return parseCodeowners(text, '.github/CODEOWNERS');
}

function owners(text: string, path: string): readonly string[] {
  const { codeowners, diagnostics } = parse(text);
  expect(diagnostics).toEqual([]);
  return ownersOf(codeowners, path);
}

// Semantics from https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
describe('parseCodeowners + ownersOf: GitHub semantics', () => {
  it('lets the last matching line win', () => {
    const text = ['*       @acme/all', '/access/ @acme/dba', '/access/hr_prod/ @acme/hr'].join(
      '\n',
    );
    expect(owners(text, 'access/hr_prod/a.yaml')).toEqual(['@acme/hr']);
    expect(owners(text, 'access/hr_test/a.yaml')).toEqual(['@acme/dba']);
    expect(owners(text, 'README.md')).toEqual(['@acme/all']);
  });

  it('does not merge owners of earlier lines (same pattern on two lines: the last only)', () => {
    const text = '/policies/ @alice\n/policies/ @bob\n';
    expect(owners(text, 'policies/risk.yaml')).toEqual(['@bob']);
  });

  it('clears ownership with a pattern that has no owners', () => {
    const text = '* @acme/all\n/access/generated/\n';
    expect(owners(text, 'access/generated/x.yaml')).toEqual([]);
    expect(owners(text, 'access/hr/x.yaml')).toEqual(['@acme/all']);
  });

  it('returns no owners when nothing matches', () => {
    expect(owners('/docs/ @alice\n', 'src/a.ts')).toEqual([]);
    expect(owners('', 'src/a.ts')).toEqual([]);
  });

  it('matches paths case-sensitively', () => {
    const text = '/Policies/ @alice\n';
    expect(owners(text, 'Policies/risk.yaml')).toEqual(['@alice']);
    expect(owners(text, 'policies/risk.yaml')).toEqual([]);
  });

  it('docs/* matches files directly in docs only, not docs/a/b', () => {
    const text = 'docs/* docs@example.com\n';
    expect(owners(text, 'docs/getting-started.md')).toEqual(['docs@example.com']);
    expect(owners(text, 'docs/build-app/troubleshooting.md')).toEqual([]);
  });

  it('apps/ matches a directory at any depth; /docs/ only at the root', () => {
    expect(owners('apps/ @octocat\n', 'apps/a.js')).toEqual(['@octocat']);
    expect(owners('apps/ @octocat\n', 'src/apps/deep/a.js')).toEqual(['@octocat']);
    expect(owners('/docs/ @doctocat\n', 'docs/a.md')).toEqual(['@doctocat']);
    expect(owners('/docs/ @doctocat\n', 'src/docs/a.md')).toEqual([]);
  });

  it('supports ** in leading, middle and trailing position', () => {
    expect(owners('**/logs @octocat\n', 'build/logs/a.log')).toEqual(['@octocat']);
    expect(owners('/build/**/x @octocat\n', 'build/a/b/x')).toEqual(['@octocat']);
    expect(owners('/build/** @octocat\n', 'build/a/b/c')).toEqual(['@octocat']);
    expect(owners('/build/** @octocat\n', 'build')).toEqual([]);
  });

  it('matches extensions anywhere (*.js)', () => {
    expect(owners('*.js @js-owner\n', 'src/deep/a.js')).toEqual(['@js-owner']);
    expect(owners('*.js @js-owner\n', 'src/deep/a.ts')).toEqual([]);
  });

  it('skips whole-line and inline comments and blank lines', () => {
    const text = [
      '# Owners of the access repository',
      '',
      '   ',
      '   # indented comment',
      '/policies/ @acme/security   # the security team reviews policy changes',
      '/access/ @acme/dba #no space needed after the hash',
    ].join('\n');
    const { codeowners, diagnostics } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(codeowners.rules).toEqual([
      { pattern: '/policies/', owners: ['@acme/security'], line: 5 },
      { pattern: '/access/', owners: ['@acme/dba'], line: 6 },
    ]);
  });

  it('treats a pattern followed only by a comment as a pattern without owners', () => {
    expect(owners('* @acme/all\n/tmp/ # nobody owns tmp\n', 'tmp/a')).toEqual([]);
  });

  it('accepts @user, @org/team and email owners, and drops repeats', () => {
    const { codeowners, diagnostics } = parse(
      '* @alice @Acme/DBA-team dba@example.com @alice bob_acme@corp.example.org @bob_acme\n',
    );
    expect(diagnostics).toEqual([]);
    expect(codeowners.rules[0]?.owners).toEqual([
      '@alice',
      '@Acme/DBA-team',
      'dba@example.com',
      'bob_acme@corp.example.org',
      '@bob_acme',
    ]);
  });

  it('reads CRLF line endings, tabs as separators and a leading BOM', () => {
    const text = '\uFEFF*\t@acme/all\r\n/access/\t\t@acme/dba\r\n';
    const { codeowners, diagnostics } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(codeowners.rules.map((r) => [r.pattern, r.owners, r.line])).toEqual([
      ['*', ['@acme/all'], 1],
      ['/access/', ['@acme/dba'], 2],
    ]);
  });

  it('keeps an escaped space inside a pattern', () => {
    expect(owners('/docs/my\\ file.md @alice\n', 'docs/my file.md')).toEqual(['@alice']);
    expect(owners('/docs/my\\ file.md @alice\n', 'docs/my')).toEqual([]);
  });

  it('matches an escaped # and escaped brackets literally', () => {
    expect(owners('/notes/c\\#.md @alice\n', 'notes/c#.md')).toEqual(['@alice']);
    expect(owners('/apps/\\[id\\]/page.tsx @alice\n', 'apps/[id]/page.tsx')).toEqual(['@alice']);
    expect(owners('/apps/\\[id\\]/page.tsx @alice\n', 'apps/i/page.tsx')).toEqual([]);
  });

  it('returns frozen data', () => {
    const { codeowners } = parse('* @alice\n');
    expect(Object.isFrozen(codeowners)).toBe(true);
    expect(Object.isFrozen(codeowners.rules)).toBe(true);
    expect(Object.isFrozen(codeowners.rules[0])).toBe(true);
  });

  it('works on hand-built rules (plain data, no parser)', () => {
    const codeowners: Codeowners = {
      file: 'CODEOWNERS',
      rules: [
        { pattern: '*', owners: ['@all'], line: 1 },
        { pattern: '/access/hr_prod/', owners: ['@acme/hr'], line: 2 },
      ],
    };
    expect(ownersOf(codeowners, 'access/hr_prod/x.yaml')).toEqual(['@acme/hr']);
    expect(ownersOf(codeowners, 'access/hr_test/x.yaml')).toEqual(['@all']);
  });
});

describe('parseCodeowners: unsupported syntax is CODEOWNERS_INVALID and the line is skipped', () => {
  // GitHub docs: "If any line in your CODEOWNERS file contains invalid syntax, that line will
  // be skipped." The skipped line neither grants nor clears ownership.
  const cases: { name: string; line: string; column: number; path: string }[] = [
    { name: 'negation', line: '!/access/hr_prod/ @mallory', column: 1, path: 'access/hr_prod/a' },
    {
      name: 'character range',
      line: '/access/hr_[a-z]*/ @mallory',
      column: 1,
      path: 'access/hr_p/a',
    },
    { name: 'unescaped ] alone', line: '/access/x]/ @mallory', column: 1, path: 'access/x]/a' },
    { name: 'escaped leading #', line: '\\#access/ @mallory', column: 1, path: '#access/a' },
    { name: 'three asterisks', line: '/access/*** @mallory', column: 1, path: 'access/a' },
    { name: '# inside a pattern', line: '/access/a#b @mallory', column: 1, path: 'access/a' },
    { name: 'lone slash', line: '/ @mallory', column: 1, path: 'access/a' },
    { name: 'trailing backslash', line: '/access/\\', column: 1, path: 'access/a' },
    { name: 'owner without @', line: '/access/ mallory', column: 10, path: 'access/a' },
    {
      name: 'owner with a bad character',
      line: '/access/ @acme/dba @mal!ory',
      column: 20,
      path: 'access/a',
    },
    {
      name: 'owner that is a URL',
      line: '  /access/ https://example.com/x',
      column: 12,
      path: 'access/a',
    },
    { name: 'team with two slashes', line: '/access/ @acme/dba/x', column: 10, path: 'access/a' },
    { name: '# glued to an owner', line: '/access/ @acme/dba#ops', column: 10, path: 'access/a' },
    { name: 'bare @', line: '/access/ @', column: 10, path: 'access/a' },
  ];

  it.each(cases)('$name: $line', ({ line, column, path }) => {
    const text = `* @acme/all\n${line}\n/other/ @acme/other\n`;
    const { codeowners, diagnostics } = parse(text);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      file: '.github/CODEOWNERS',
      line: 2,
      column,
      code: 'CODEOWNERS_INVALID',
    });
    expect(codeowners.rules.map((r) => r.line)).toEqual([1, 3]);
    // Neither the line's owners nor a cleared ownership: the earlier line still applies.
    expect(ownersOf(codeowners, path)).toEqual(['@acme/all']);
  });

  it('reports every invalid line, each with its number', () => {
    const { diagnostics } = parse('!a @x\n\nb @y\n[c] @z\n');
    expect(diagnostics.map((d) => [d.line, d.code])).toEqual([
      [1, 'CODEOWNERS_INVALID'],
      [4, 'CODEOWNERS_INVALID'],
    ]);
  });

  it('ignores a file of 3 MB or more entirely, as GitHub does', () => {
    const line = '/access/ @acme/dba\n';
    const text = line.repeat(Math.ceil((3 * 1024 * 1024) / line.length));
    const { codeowners, diagnostics } = parse(text);
    expect(codeowners.rules).toEqual([]);
    expect(diagnostics).toMatchObject([{ line: 0, code: 'CODEOWNERS_INVALID' }]);
  });
});
