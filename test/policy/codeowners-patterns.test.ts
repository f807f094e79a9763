import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  matchesCodeownersPattern,
  ownersOf,
  parseCodeowners,
} from '../../src/policy/codeowners.js';

/**
 * Every case of hmarr/codeowners' `testdata/patterns.json` (153 path checks over 30 patterns),
 * copied to fixtures/codeowners-patterns.json.
 *
 * Test data: Copyright (c) 2020 Harry Marr, MIT License
 * (https://github.com/hmarr/codeowners, see codeowners-patterns.LICENSE beside the data).
 */
interface PatternCase {
  readonly name: string;
  readonly pattern: string;
  readonly paths: Readonly<Record<string, boolean>>;
}

const DATA = new URL('./fixtures/codeowners-patterns.json', import.meta.url);
const cases = JSON.parse(readFileSync(DATA, 'utf8')) as PatternCase[];

const rows = cases.flatMap((c) =>
  Object.entries(c.paths).map(([path, expected]) => ({
    name: c.name,
    pattern: c.pattern,
    path,
    expected,
  })),
);

describe('CODEOWNERS patterns (hmarr/codeowners test data)', () => {
  it('holds all 153 cases', () => {
    expect(cases).toHaveLength(30);
    expect(rows).toHaveLength(153);
  });

  it.each(rows)('$name: $pattern vs $path → $expected', ({ pattern, path, expected }) => {
    expect(matchesCodeownersPattern(pattern, path)).toBe(expected);
  });

  // The same cases through the parser, so the compiled-once rule path agrees with the direct
  // matcher. Unescaped brackets are rejected by the parser (GitHub's validator: "both `[` and
  // `]` must be escaped with a `\`"), so that case is written escaped here.
  it.each(rows)('parsed: $pattern vs $path → $expected', ({ pattern, path, expected }) => {
    const written = pattern.replace(/([[\]])/gu, '\\$1');
    const { codeowners, diagnostics } = parseCodeowners(`${written} @acme/owner\n`, 'CODEOWNERS');
    expect(diagnostics).toEqual([]);
    expect(ownersOf(codeowners, path)).toEqual(expected ? ['@acme/owner'] : []);
  });
});
