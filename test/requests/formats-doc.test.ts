import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDatabases } from '../../src/policy/load-databases.js';
import { loadRiskPolicy } from '../../src/policy/load-risk-policy.js';
import { loadRepoContext } from '../../src/policy/repo-context.js';
import { directoryReader } from '../../src/requests/local-repository.js';
import { validateRequestFile } from '../../src/requests/validate-request.js';
import { schemaDocument, type SchemaName } from '../../src/yaml/check-schema.js';

/** docs/formats.md is checked against the schemas: every key they define is documented, and
 * every example in it is validated by the real loaders. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/formats.md'), 'utf8');
const SCHEMAS: SchemaName[] = ['access-request', 'databases', 'risk-policy'];

/** Every property name and every x-gatehouse-code anywhere in a schema. */
function walk(node: unknown, keys: Set<string>, codes: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, keys, codes);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.properties !== undefined && typeof record.properties === 'object') {
    for (const key of Object.keys(record.properties as object)) keys.add(key);
  }
  if (typeof record['x-gatehouse-code'] === 'string') codes.add(record['x-gatehouse-code']);
  for (const value of Object.values(record)) walk(value, keys, codes);
}

function yamlBlocks(): { header: string; text: string }[] {
  return [...DOC.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => {
    const text = m[1] ?? '';
    return { header: text.split('\n')[0] ?? '', text };
  });
}

describe('docs/formats.md', async () => {
  const { context } = await loadRepoContext(directoryReader(ROOT));

  it.each(SCHEMAS)('documents every key and code of %s.schema.json', (name) => {
    const keys = new Set<string>();
    const codes = new Set<string>();
    walk(schemaDocument(name), keys, codes);
    expect(keys.size).toBeGreaterThan(3);
    for (const key of keys) expect(DOC, `key ${key}`).toContain(`\`${key}\``);
    for (const code of codes) expect(DOC, `code ${code}`).toContain(`\`${code}\``);
    expect(DOC).toContain(`schemas/${name}.schema.json`);
  });

  it('every YAML example is valid (or fails with the code it says)', () => {
    const blocks = yamlBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const { header, text } of blocks) {
      const file = /^# file: (\S+)$/.exec(header)?.[1];
      const invalid = /^# invalid: ([A-Z_]+)$/.exec(header)?.[1];
      expect(
        file ?? invalid,
        `a yaml block must start with # file: or # invalid: (${header})`,
      ).toBeDefined();
      if (file === 'policies/databases.yaml') {
        expect(loadDatabases(file, text).diagnostics).toEqual([]);
      } else if (file === 'policies/risk.yaml') {
        expect(
          loadRiskPolicy(file, text, context === undefined ? {} : { databases: context.databases })
            .diagnostics,
        ).toEqual([]);
      } else {
        const database = /^database: (\S+)$/m.exec(text)?.[1] ?? '';
        const result = validateRequestFile({
          path: file ?? `access/${database}/example.yaml`,
          bytes: text,
          context: context!,
          now: new Date('2025-06-01T00:00:00Z'),
        });
        expect(result.diagnostics.map((d) => d.code)).toEqual(
          invalid === undefined ? [] : [invalid],
        );
      }
    }
  });

  it('shows the repository’s own default risk policy', () => {
    const fromDoc = yamlBlocks().find((b) => b.header === '# file: policies/risk.yaml');
    const actual = loadRiskPolicy(
      'policies/risk.yaml',
      readFileSync(path.join(ROOT, 'policies/risk.yaml')),
    );
    expect(loadRiskPolicy('policies/risk.yaml', fromDoc?.text ?? '').policy).toEqual(actual.policy);
  });
});
