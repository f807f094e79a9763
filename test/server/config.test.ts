import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config/config.js';
import { configuredClock } from '../../src/config/configured-clock.js';
import { GatehouseError } from '../../src/errors/catalogue.js';

const CWD = '/srv/gatehouse';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(env: Env): { code: string; message: string } {
  try {
    loadConfig(env, CWD);
  } catch (error) {
    if (error instanceof GatehouseError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const config = loadConfig({}, CWD);
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      trustProxy: false,
      repoDir: CWD,
      state: { kind: 'sqlite', path: '/srv/gatehouse/data/gatehouse.db' },
      repository: null,
      githubApiUrl: 'https://api.github.com',
      githubApp: null,
      oidc: null,
      limits: {
        statementTimeoutMs: 30_000,
        defaultMaxRows: 1000,
        maxRowsCap: 10_000,
        maxResultBytes: 10 * 1024 * 1024,
        redactSqlLiterals: false,
      },
      poolSize: 10,
      identityCacheTtlMs: 300_000,
      reconcileIntervalMs: 600_000,
      expiryIntervalMs: 60_000,
      logLevel: 'info',
      githubThrottle: true,
      clock: { kind: 'system' },
    });
  });

  it('reads every key', () => {
    const keyFile = join(dir, 'app.pem');
    writeFileSync(keyFile, PEM);
    const config = loadConfig(
      {
        PORT: '8080',
        HOST: '127.0.0.1',
        GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
        GATEHOUSE_REPO_DIR: 'access-repo',
        GATEHOUSE_STATE: 'postgres://gatehouse@db:5432/gatehouse',
        GATEHOUSE_REPOSITORY: 'acme/access',
        GHE_HOST: 'github.acme.internal',
        APP_ID: '12345',
        PRIVATE_KEY_PATH: keyFile,
        WEBHOOK_SECRET: 's3cret',
        GATEHOUSE_OIDC_ISSUER: 'https://idp.acme.com',
        GATEHOUSE_OIDC_AUDIENCE: 'gatehouse',
        GATEHOUSE_OIDC_JWKS_URL: 'https://idp.acme.com/keys',
        GATEHOUSE_OIDC_LOGIN_CLAIM: 'github_login',
        GATEHOUSE_STATEMENT_TIMEOUT: '10s',
        GATEHOUSE_MAX_ROWS: '500',
        GATEHOUSE_MAX_ROWS_CAP: '2000',
        GATEHOUSE_MAX_RESULT_BYTES: '1048576',
        GATEHOUSE_AUDIT_REDACT_LITERALS: 'true',
        GATEHOUSE_DB_POOL_SIZE: '4',
        GATEHOUSE_IDENTITY_CACHE_TTL: '1m',
        GATEHOUSE_RECONCILE_INTERVAL: '0',
        GATEHOUSE_EXPIRY_INTERVAL: '30s',
        GATEHOUSE_LOG_LEVEL: 'debug',
        GATEHOUSE_GITHUB_THROTTLE: 'off',
        GATEHOUSE_CLOCK_OFFSET_MS: '-5000',
      },
      CWD,
    );
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      trustProxy: ['10.0.0.0/8', '192.168.1.1'],
      repoDir: '/srv/gatehouse/access-repo',
      state: { kind: 'postgres', url: 'postgres://gatehouse@db:5432/gatehouse' },
      repository: { owner: 'acme', name: 'access' },
      githubApiUrl: 'https://github.acme.internal/api/v3',
      githubApp: { appId: '12345', privateKey: PEM, webhookSecret: 's3cret' },
      oidc: {
        issuer: 'https://idp.acme.com',
        audience: 'gatehouse',
        jwksUrl: 'https://idp.acme.com/keys',
        loginClaim: 'github_login',
      },
      limits: {
        statementTimeoutMs: 10_000,
        defaultMaxRows: 500,
        maxRowsCap: 2000,
        maxResultBytes: 1_048_576,
        redactSqlLiterals: true,
      },
      poolSize: 4,
      identityCacheTtlMs: 60_000,
      reconcileIntervalMs: 0,
      expiryIntervalMs: 30_000,
      logLevel: 'debug',
      githubThrottle: false,
      clock: { kind: 'offset', offsetMs: -5000 },
    });
  });

  it('is frozen, deeply', () => {
    const config = loadConfig({}, CWD);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.env)).toBe(true);
  });

  it('accepts PRIVATE_KEY with escaped newlines, and an explicit API URL over GHE_HOST', () => {
    const config = loadConfig(
      {
        APP_ID: '1',
        PRIVATE_KEY: PEM.replace(/\n/g, '\\n'),
        WEBHOOK_SECRET: 'x',
        GATEHOUSE_REPOSITORY: 'acme/access',
        GHE_HOST: 'ignored.example',
        GATEHOUSE_GITHUB_API_URL: 'http://127.0.0.1:9999/api/v3/',
      },
      CWD,
    );
    expect(config.githubApp?.privateKey).toBe(PEM);
    expect(config.githubApiUrl).toBe('http://127.0.0.1:9999/api/v3');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ GATEHOUSE_STATE: 'mysql://db/gatehouse' }, 'GATEHOUSE_STATE'],
    [{ GATEHOUSE_SQLITE_AUDIT_WRITER: 'worker' }, 'GATEHOUSE_SQLITE_AUDIT_WRITER'],
    [{ GATEHOUSE_REPOSITORY: 'just-a-name' }, 'GATEHOUSE_REPOSITORY'],
    [{ GATEHOUSE_GITHUB_API_URL: 'ftp://github' }, 'GATEHOUSE_GITHUB_API_URL'],
    [{ GHE_HOST: 'ghe', GHE_PROTOCOL: 'gopher' }, 'GHE_PROTOCOL'],
    [{ APP_ID: '1' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: 'x' }, 'APP_ID'],
    [{ APP_ID: 'abc', WEBHOOK_SECRET: 'x', PRIVATE_KEY: PEM }, 'APP_ID'],
    [{ APP_ID: '1', WEBHOOK_SECRET: 'x' }, 'PRIVATE_KEY'],
    [{ APP_ID: '1', WEBHOOK_SECRET: 'x', PRIVATE_KEY: 'not a key' }, 'PRIVATE_KEY'],
    [
      { APP_ID: '1', WEBHOOK_SECRET: 'x', PRIVATE_KEY_PATH: '/nonexistent/key.pem' },
      'PRIVATE_KEY_PATH',
    ],
    [{ APP_ID: '1', WEBHOOK_SECRET: 'x', PRIVATE_KEY: PEM }, 'GATEHOUSE_REPOSITORY'],
    [{ GATEHOUSE_OIDC_ISSUER: 'https://idp' }, 'GATEHOUSE_OIDC_AUDIENCE'],
    [{ GATEHOUSE_OIDC_AUDIENCE: 'x' }, 'GATEHOUSE_OIDC_ISSUER'],
    [
      {
        GATEHOUSE_OIDC_ISSUER: 'https://idp',
        GATEHOUSE_OIDC_AUDIENCE: 'x',
        GATEHOUSE_OIDC_JWKS_URL: 'http://idp.example.com/keys',
      },
      'GATEHOUSE_OIDC_JWKS_URL',
    ],
    [{ GATEHOUSE_STATEMENT_TIMEOUT: '30' }, 'GATEHOUSE_STATEMENT_TIMEOUT'],
    [{ GATEHOUSE_STATEMENT_TIMEOUT: '0' }, 'GATEHOUSE_STATEMENT_TIMEOUT'],
    [{ GATEHOUSE_MAX_ROWS: '20000' }, 'GATEHOUSE_MAX_ROWS'],
    [{ GATEHOUSE_MAX_ROWS_CAP: '-1' }, 'GATEHOUSE_MAX_ROWS_CAP'],
    [{ GATEHOUSE_IDENTITY_CACHE_TTL: '10m' }, 'GATEHOUSE_IDENTITY_CACHE_TTL'],
    [{ GATEHOUSE_LOG_LEVEL: 'loud' }, 'GATEHOUSE_LOG_LEVEL'],
    [{ GATEHOUSE_TRUST_PROXY: 'everyone' }, 'GATEHOUSE_TRUST_PROXY'],
    [{ GATEHOUSE_CLOCK_OFFSET_MS: 'soon' }, 'GATEHOUSE_CLOCK_OFFSET_MS'],
    [{ GATEHOUSE_CLOCK_OFFSET_MS: '1', GATEHOUSE_CLOCK_FILE: '/tmp/c' }, 'GATEHOUSE_CLOCK_FILE'],
  ])('refuses %o with CONFIG_INVALID naming %s', (env, key) => {
    const { code, message } = failure(env);
    expect(code).toBe('CONFIG_INVALID');
    expect(message.startsWith(`${key}:`)).toBe(true);
  });

  it('runs SQLite audit appends on the event loop unless GATEHOUSE_SQLITE_AUDIT_WRITER=thread', () => {
    expect(loadConfig({}, CWD).state).toEqual({ kind: 'sqlite', path: `${CWD}/data/gatehouse.db` });
    expect(loadConfig({ GATEHOUSE_SQLITE_AUDIT_WRITER: 'thread' }, CWD).state).toEqual({
      kind: 'sqlite',
      path: `${CWD}/data/gatehouse.db`,
      auditWriter: 'thread',
    });
    expect(loadConfig({ GATEHOUSE_SQLITE_AUDIT_WRITER: 'inline' }, CWD).state).not.toHaveProperty(
      'auditWriter',
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', APP_ID: ' ', GATEHOUSE_STATE: '' }, CWD).port).toBe(3000);
  });
});

describe('configured clock (test-only)', () => {
  it('follows the clock file: an ISO instant stands still, a number of ms shifts', () => {
    const file = join(dir, 'clock');
    const clock = configuredClock({ kind: 'file', path: file });
    const before = Date.now();
    expect(clock().getTime()).toBeGreaterThanOrEqual(before); // no file yet: system time
    writeFileSync(file, '2031-05-01T12:00:00Z\n');
    expect(clock().toISOString()).toBe('2031-05-01T12:00:00.000Z');
    writeFileSync(file, '2031-05-01T15:00:00+02:00');
    expect(clock().toISOString()).toBe('2031-05-01T13:00:00.000Z');
    writeFileSync(file, String(7 * 24 * 3_600_000));
    expect(clock().getTime()).toBeGreaterThanOrEqual(before + 7 * 24 * 3_600_000);
    writeFileSync(file, '2031-05-01T12:00:00');
    expect(() => clock()).toThrow(GatehouseError);
  });

  it('shifts by a fixed offset', () => {
    const before = Date.now();
    const clock = configuredClock({ kind: 'offset', offsetMs: 3_600_000 });
    expect(clock().getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
  });
});

describe('docs/configuration.md', () => {
  it('documents every key the config reads', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../../src/config/config.ts', import.meta.url), 'utf8');
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const keys = new Set(
      [
        ...source.matchAll(
          /'((?:GATEHOUSE_|GHE_)[A-Z_]+|PORT|HOST|APP_ID|PRIVATE_KEY(?:_PATH)?|WEBHOOK_SECRET)'/g,
        ),
      ].map((m) => m[1]),
    );
    expect(keys.size).toBeGreaterThan(20);
    for (const key of keys) expect(docs, key).toContain(`\`${key}\``);
  });
});
