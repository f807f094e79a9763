import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/catalogue.js';
import { validateRequestFile } from '../../src/requests/validate-request.js';
import { fixtureContext, NOW } from './fixture-context.js';

interface Case {
  /** test/fixtures/requests/invalid/<fixture>.yaml */
  readonly fixture: string;
  readonly code: ErrorCode;
  /** 1-based; 0 = the whole file. */
  readonly line: number;
  readonly field?: string;
  /** Where the file is validated as if it were; default access/hr_prod/<fixture>.yaml. */
  readonly path?: string;
  readonly author?: string;
}

const CASES: readonly Case[] = [
  { fixture: 'unknown-key', code: 'SCHEMA_UNKNOWN_KEY', line: 8, field: 'colour' },
  { fixture: 'misspelt-key', code: 'SCHEMA_UNKNOWN_KEY', line: 7, field: 'reasn' },
  { fixture: 'misspelt-key', code: 'SCHEMA_MISSING_KEY', line: 2, field: 'reason' },
  { fixture: 'missing-reason', code: 'SCHEMA_MISSING_KEY', line: 2, field: 'reason' },
  { fixture: 'missing-tables', code: 'SCHEMA_MISSING_KEY', line: 2, field: 'tables' },
  { fixture: 'missing-requester', code: 'SCHEMA_MISSING_KEY', line: 2, field: 'requester' },
  { fixture: 'requester-number', code: 'SCHEMA_WRONG_TYPE', line: 2, field: 'requester' },
  { fixture: 'requester-at', code: 'REQ_REQUESTER', line: 2, field: 'requester' },
  { fixture: 'requester-trailing-hyphen', code: 'REQ_REQUESTER', line: 2 },
  { fixture: 'tables-string', code: 'SCHEMA_WRONG_TYPE', line: 4, field: 'tables' },
  { fixture: 'tables-empty', code: 'REQ_TABLES_EMPTY', line: 4, field: 'tables' },
  { fixture: 'table-name-malformed', code: 'REQ_TABLE_NAME', line: 6, field: 'tables[1]' },
  { fixture: 'table-number', code: 'SCHEMA_WRONG_TYPE', line: 5, field: 'tables[0]' },
  { fixture: 'table-star-with-others', code: 'REQ_TABLE_NAME', line: 6, field: 'tables[1]' },
  { fixture: 'table-system-schema', code: 'REQ_TABLE_NAME', line: 5, field: 'tables[0]' },
  { fixture: 'table-unknown', code: 'REQ_UNKNOWN_TABLE', line: 6, field: 'tables[1]' },
  { fixture: 'table-duplicate', code: 'SCHEMA_INVALID_VALUE', line: 7, field: 'tables[2]' },
  {
    fixture: 'database-unknown',
    code: 'REQ_UNKNOWN_DATABASE',
    line: 3,
    field: 'database',
    path: 'access/hr_staging/database-unknown.yaml',
  },
  { fixture: 'database-mismatch', code: 'REQ_DATABASE_MISMATCH', line: 3, field: 'database' },
  { fixture: 'access-write', code: 'REQ_ACCESS_KIND', line: 5, field: 'access' },
  { fixture: 'lifetime-both', code: 'REQ_LIFETIME', line: 7, field: 'expires' },
  { fixture: 'lifetime-none', code: 'REQ_LIFETIME', line: 2, field: '' },
  { fixture: 'duration-words', code: 'REQ_DURATION_FORMAT', line: 6, field: 'duration' },
  { fixture: 'duration-compound', code: 'REQ_DURATION_FORMAT', line: 6, field: 'duration' },
  { fixture: 'duration-number', code: 'SCHEMA_WRONG_TYPE', line: 6, field: 'duration' },
  { fixture: 'duration-zero', code: 'REQ_DURATION_ZERO', line: 6, field: 'duration' },
  { fixture: 'duration-too-long', code: 'REQ_DURATION_TOO_LONG', line: 6, field: 'duration' },
  { fixture: 'expires-no-offset', code: 'REQ_EXPIRES_FORMAT', line: 6, field: 'expires' },
  { fixture: 'expires-date-only', code: 'REQ_EXPIRES_FORMAT', line: 6, field: 'expires' },
  { fixture: 'expires-impossible', code: 'REQ_EXPIRES_FORMAT', line: 6, field: 'expires' },
  { fixture: 'expires-past', code: 'REQ_EXPIRES_PAST', line: 6, field: 'expires' },
  { fixture: 'expires-too-long', code: 'REQ_DURATION_TOO_LONG', line: 6, field: 'expires' },
  { fixture: 'reason-blank', code: 'REQ_REASON_BLANK', line: 7, field: 'reason' },
  { fixture: 'reason-empty', code: 'SCHEMA_WRONG_TYPE', line: 7, field: 'reason' },
  { fixture: 'reason-too-long', code: 'REQ_REASON_TOO_LONG', line: 7, field: 'reason' },
  { fixture: 'ticket-spaces', code: 'SCHEMA_INVALID_VALUE', line: 8, field: 'ticket' },
  {
    fixture: 'policy-denied',
    code: 'POLICY_DENIED',
    line: 2,
    path: 'access/analytics_prod/policy-denied.yaml',
  },
  {
    fixture: 'policy-no-rule',
    code: 'POLICY_NO_RULE',
    line: 2,
    path: 'access/legacy/policy-no-rule.yaml',
  },
  {
    fixture: 'requester-not-author',
    code: 'REQ_REQUESTER_NOT_AUTHOR',
    line: 2,
    field: 'requester',
    author: 'mallory',
  },
  { fixture: 'yaml-duplicate-key', code: 'YAML_DUPLICATE_KEY', line: 8 },
  { fixture: 'yaml-two-documents', code: 'YAML_MULTIPLE_DOCUMENTS', line: 8 },
  { fixture: 'yaml-anchor', code: 'YAML_ALIAS', line: 4 },
  { fixture: 'yaml-anchor', code: 'YAML_ALIAS', line: 7 },
  { fixture: 'yaml-alias-bomb', code: 'YAML_ALIAS', line: 2 },
  { fixture: 'yaml-tab-indent', code: 'YAML_TAB_INDENT', line: 5 },
  { fixture: 'yaml-syntax', code: 'YAML_SYNTAX', line: 5 },
  { fixture: 'yaml-bad-quote', code: 'YAML_SYNTAX', line: 7 },
  { fixture: 'top-level-list', code: 'YAML_NOT_MAPPING', line: 2 },
  { fixture: 'top-level-scalar', code: 'YAML_NOT_MAPPING', line: 2 },
  { fixture: 'empty', code: 'FILE_EMPTY', line: 0 },
  {
    fixture: 'path-yml-extension',
    code: 'REQ_PATH',
    line: 0,
    path: 'access/hr_prod/path-yml-extension.yml',
  },
  {
    fixture: 'path-nested',
    code: 'REQ_PATH',
    line: 0,
    path: 'access/hr_prod/extra/path-nested.yaml',
  },
  { fixture: 'path-outside-access', code: 'REQ_PATH', line: 0, path: 'requests/hr_prod/x.yaml' },
];

function fixture(name: string): Uint8Array {
  return new Uint8Array(
    readFileSync(new URL(`../fixtures/requests/invalid/${name}.yaml`, import.meta.url)),
  );
}

describe('malformed access requests', async () => {
  const context = await fixtureContext();

  it('covers at least 30 distinct fixture files', () => {
    expect(new Set(CASES.map((c) => c.fixture)).size).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('$fixture → $code at line $line', (c) => {
    const path = c.path ?? `access/hr_prod/${c.fixture}.yaml`;
    const result = validateRequestFile({
      path,
      bytes: fixture(c.fixture),
      context,
      now: NOW,
      ...(c.author === undefined ? {} : { author: c.author }),
    });
    const found = result.diagnostics.filter((d) => d.code === c.code);
    expect(found, JSON.stringify(result.diagnostics, null, 2)).not.toHaveLength(0);
    const match = found.find((d) => c.line === 0 || d.line === c.line);
    expect(match, JSON.stringify(found, null, 2)).toBeDefined();
    if (c.line !== 0) expect(match?.line).toBe(c.line);
    if (c.field !== undefined) expect(match?.field).toBe(c.field);
    // Every diagnostic names the file and a position and says something a person can act on.
    for (const d of result.diagnostics) {
      expect(d.file).toBe(path);
      expect(d.message.length).toBeGreaterThan(15);
      expect(d.message).not.toMatch(/must NOT have|must match|must be equal to|#\//);
    }
    expect(result.diagnostics.length > 0).toBe(true);
  });
});
