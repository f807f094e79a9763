import { describe, expect, it } from 'vitest';
import { loadDatabases } from '../../src/policy/load-databases.js';

const FILE = 'policies/databases.yaml';

describe('loadDatabases', () => {
  it('loads entries with defaults: port by engine, TLS required for iam only', () => {
    const { databases, diagnostics } = loadDatabases(
      FILE,
      `databases:
  hr_prod:
    engine: mysql
    environment: prod
    host: hr.example.internal
    name: hr
    auth:
      iam: { region: eu-west-1, user: gatehouse }
    tls: { ca: /etc/rds.pem }
    tables: [employee, salary]
  local:
    engine: postgres
    environment: dev
    host: 127.0.0.1
    name: app
    defaultSchema: app
    auth:
      password: { user: reader, passwordEnv: LOCAL_DB_PASSWORD }
`,
    );
    expect(diagnostics).toEqual([]);
    expect(databases?.get('hr_prod')).toEqual({
      id: 'hr_prod',
      engine: 'mysql',
      environment: 'prod',
      host: 'hr.example.internal',
      port: 3306,
      name: 'hr',
      auth: { kind: 'iam', region: 'eu-west-1', user: 'gatehouse' },
      tls: { required: true, ca: '/etc/rds.pem' },
      tables: ['employee', 'salary'],
    });
    expect(databases?.get('local')).toEqual({
      id: 'local',
      engine: 'postgres',
      environment: 'dev',
      host: '127.0.0.1',
      port: 5432,
      name: 'app',
      defaultSchema: 'app',
      auth: { kind: 'password', user: 'reader', passwordEnv: 'LOCAL_DB_PASSWORD' },
      tls: { required: false },
    });
  });

  const base = (entry: string) => `databases:
  hr:
    engine: mysql
    environment: prod
    host: hr.example.internal
    name: hr
${entry}`;

  it.each([
    ['no databases', 'databases: {}\n', 'SCHEMA_INVALID_VALUE', 1],
    ['missing auth', base(''), 'SCHEMA_MISSING_KEY', 2],
    [
      'both auth methods',
      base(
        '    auth:\n      iam: { region: eu-west-1, user: gw }\n      password: { user: gw, passwordEnv: X }\n',
      ),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    ['empty auth', base('    auth: {}\n'), 'SCHEMA_INVALID_VALUE', 7],
    [
      'a password instead of its variable',
      base('    auth:\n      password: { user: gw, password: hunter2 }\n'),
      'SCHEMA_UNKNOWN_KEY',
      8,
    ],
    [
      'passwordEnv holding a secret',
      base('    auth:\n      password: { user: gw, passwordEnv: "hunter2!" }\n'),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    [
      'a region that is not one',
      base('    auth:\n      iam: { region: Europe, user: gw }\n'),
      'SCHEMA_INVALID_VALUE',
      8,
    ],
    [
      'iam without TLS',
      base('    auth:\n      iam: { region: eu-west-1, user: gw }\n    tls: { required: false }\n'),
      'POLICY_INVALID',
      9,
    ],
    [
      'defaultSchema on mysql',
      base('    defaultSchema: public\n    auth:\n      iam: { region: eu-west-1, user: gw }\n'),
      'POLICY_INVALID',
      7,
    ],
    [
      'a wildcard in the table catalog',
      base('    auth:\n      iam: { region: eu-west-1, user: gw }\n    tables: ["*"]\n'),
      'SCHEMA_INVALID_VALUE',
      9,
    ],
    [
      'a port as text',
      base('    port: "3306"\n    auth:\n      iam: { region: eu-west-1, user: gw }\n'),
      'SCHEMA_WRONG_TYPE',
      7,
    ],
    ['not YAML', 'databases: [\n', 'YAML_SYNTAX', 2],
  ])('%s → %s at line %d', (_name, text, code, line) => {
    const { databases, diagnostics } = loadDatabases(FILE, text);
    expect(databases).toBeUndefined();
    expect(
      diagnostics.map((d) => [d.code, d.line]),
      JSON.stringify(diagnostics),
    ).toContainEqual([code, line]);
    for (const d of diagnostics) expect(d.file).toBe(FILE);
  });
});
