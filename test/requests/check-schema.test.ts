import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors/catalogue.js';
import { checkSchema, type SchemaName } from '../../src/yaml/check-schema.js';
import { loadYaml } from '../../src/yaml/load-yaml.js';

function check(name: SchemaName, text: string) {
  const loaded = loadYaml('f.yaml', text);
  expect(loaded.diagnostics).toEqual([]);
  return checkSchema('f.yaml', loaded, name);
}

const VALID_REQUEST = `requester: alice
database: hr_prod
tables: [employee]
access: read
duration: 4h
reason: INC-42
`;

describe('checkSchema: ajv errors translated for people', () => {
  it('accepts a valid request', () => {
    expect(check('access-request', VALID_REQUEST)).toEqual([]);
  });

  it('SCHEMA_UNKNOWN_KEY points at the key, suggests the nearest allowed key and lists them', () => {
    const [d] = check('access-request', `${VALID_REQUEST}tikcet: INC-42\n`);
    expect(d).toMatchObject({ code: 'SCHEMA_UNKNOWN_KEY', line: 7, column: 1, field: 'tikcet' });
    expect(d?.message).toContain("Did you mean 'ticket'?");
    expect(d?.message).toContain('Allowed keys: requester, database');
  });

  it('SCHEMA_UNKNOWN_KEY in a nested mapping names where it is', () => {
    const text = `databases:
  hr:
    engine: mysql
    environment: prod
    host: h
    name: hr
    auth:
      iam: { region: eu-west-1, user: gw, role: admin }
`;
    const [d] = check('databases', text);
    expect(d).toMatchObject({
      code: 'SCHEMA_UNKNOWN_KEY',
      line: 8,
      column: 43,
      field: 'databases.hr.auth.iam.role',
    });
    expect(d?.message).toContain('in databases.hr.auth.iam');
  });

  it('SCHEMA_MISSING_KEY names the key and says what it is for', () => {
    const [d] = check('access-request', VALID_REQUEST.replace('reason: INC-42\n', ''));
    expect(d).toMatchObject({ code: 'SCHEMA_MISSING_KEY', line: 1, field: 'reason' });
    expect(d?.message).toMatch(/^Missing required key 'reason'\. Why you need the access/);
  });

  it('SCHEMA_WRONG_TYPE says what was expected and what was found, with a quoting hint', () => {
    const [d] = check('access-request', VALID_REQUEST.replace('alice', '1234'));
    expect(d).toMatchObject({ code: 'SCHEMA_WRONG_TYPE', line: 1, column: 12 });
    expect(d?.message).toBe(
      'requester must be text, but it is the number 1234. Put the value in quotes to make it text.',
    );
    const [list] = check('access-request', VALID_REQUEST.replace('[employee]', '{ a: 1 }'));
    expect(list?.message).toBe('tables must be a list, but it is a mapping.');
  });

  it('SCHEMA_INVALID_VALUE uses the schema sentence, or a generic one, never ajv text', () => {
    const text = `databases:
  hr:
    engine: oracle
    environment: prod
    host: h
    port: 70000
    name: hr
    auth: { iam: { region: eu-west-1, user: gw } }
`;
    const diagnostics = check('databases', text);
    expect(diagnostics.map((d) => [d.code, d.line, d.field])).toEqual([
      ['SCHEMA_INVALID_VALUE', 3, 'databases.hr.engine'],
      ['SCHEMA_INVALID_VALUE', 6, 'databases.hr.port'],
    ]);
    expect(diagnostics[0]?.message).toBe('engine must be mysql or postgres.');
    expect(diagnostics[1]?.message).toBe('port must be a whole number from 1 to 65535.');
  });

  it('uses the specific catalogue code a schema names (x-gatehouse-code)', () => {
    const [d] = check('access-request', VALID_REQUEST.replace('read', 'write'));
    expect(d?.code).toBe('REQ_ACCESS_KIND');
  });

  it('reports a bad mapping key name (propertyNames) at the key', () => {
    const text = `databases:
  "hr prod":
    engine: mysql
    environment: prod
    host: h
    name: hr
    auth: { iam: { region: eu-west-1, user: gw } }
`;
    const diagnostics = check('databases', text);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'SCHEMA_INVALID_VALUE',
      line: 2,
      column: 3,
      field: 'databases["hr prod"]',
    });
  });

  it('reports one sentence for a oneOf, not its branches', () => {
    const diagnostics = check('access-request', `${VALID_REQUEST}expires: 2030-01-01T00:00:00Z\n`);
    expect(diagnostics.map((d) => [d.code, d.line, d.field])).toEqual([
      ['REQ_LIFETIME', 7, 'expires'],
    ]);
  });

  it('reports every problem at once (allErrors), sorted by position', () => {
    const diagnostics = check(
      'access-request',
      'requester: "@x"\ndatabase: hr\ntables: []\naccess: write\nduration: 4 h\nreason: ""\nfoo: 1\n',
    );
    expect(diagnostics.map((d) => d.code)).toEqual([
      'REQ_REQUESTER',
      'REQ_TABLES_EMPTY',
      'REQ_ACCESS_KIND',
      'REQ_DURATION_FORMAT',
      'REQ_REASON_BLANK',
      'SCHEMA_UNKNOWN_KEY',
    ]);
  });

  it('only ever uses catalogue codes', () => {
    const diagnostics = check(
      'risk-policy',
      'levels: 1\nrules: {}\nmeta: []\nauditors: [1]\nx: 1\n',
    );
    expect(diagnostics.length).toBeGreaterThan(3);
    for (const d of diagnostics) expect(Object.hasOwn(ERRORS, d.code)).toBe(true);
  });
});
