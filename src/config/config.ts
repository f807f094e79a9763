/**
 * The service configuration: read ONCE from the environment at start, validated, frozen
 * (Kysely's rule: config is read once and never mutated). Every key is documented with an
 * example in docs/configuration.md. An invalid key stops the start with CONFIG_INVALID and a
 * message that names the key.
 *
 * Probot's standard keys (APP_ID, PRIVATE_KEY, PRIVATE_KEY_PATH, WEBHOOK_SECRET, GHE_HOST,
 * GHE_PROTOCOL) keep their names so a GitHub App configured for any Probot app works as is
 * (https://probot.github.io/docs/configuration/); every other key starts with GATEHOUSE_.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { GatehouseError } from '../errors/catalogue.js';
import { envRepository, invalidConfig, readEnv, type Env } from './env-values.js';

export type { Env };

export type StateConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export interface GithubAppConfig {
  readonly appId: string;
  /** PEM text of the App's private key (from PRIVATE_KEY or the file at PRIVATE_KEY_PATH). */
  readonly privateKey: string;
  readonly webhookSecret: string;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** The claim that holds the caller's GitHub login. */
  readonly loginClaim: string;
}

export interface QueryLimits {
  readonly statementTimeoutMs: number;
  /** Rows returned when the caller does not ask for a number. */
  readonly defaultMaxRows: number;
  /** The most rows a caller may ask for (`maxRows` above it is a 400). */
  readonly maxRowsCap: number;
  /** Cap on the JSON size of the rows of one result. */
  readonly maxResultBytes: number;
  /** Store SQL in the audit log with string and number literals replaced by `?`
   * (GATEHOUSE_AUDIT_REDACT_LITERALS); the sha256 is always of the original text. */
  readonly redactSqlLiterals: boolean;
}

/** Test-only clock control (see docs/configuration.md, "Clock for tests"). */
export type ClockConfig =
  | { readonly kind: 'system' }
  | { readonly kind: 'offset'; readonly offsetMs: number }
  | { readonly kind: 'file'; readonly path: string };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Which proxies may set X-Forwarded-For, so audit records hold the real client address. */
  readonly trustProxy: boolean | number | readonly string[];
  /** Local checkout of the access repository: policies/ are read from here. */
  readonly repoDir: string;
  readonly state: StateConfig;
  /** The access repository the GitHub App serves, `owner/name`. */
  readonly repository: { readonly owner: string; readonly name: string } | null;
  /** REST API base URL without a trailing slash (github.com or GitHub Enterprise `/api/v3`). */
  readonly githubApiUrl: string;
  /** Null when no GitHub App is configured: the webhook route then answers 503. */
  readonly githubApp: GithubAppConfig | null;
  readonly oidc: OidcConfig | null;
  readonly limits: QueryLimits;
  /** Connections per database pool. */
  readonly poolSize: number;
  /** How long a resolved token identity is cached (at most 5 minutes). */
  readonly identityCacheTtlMs: number;
  /** Period of the reconcile job inside `serve`; 0 turns it off. */
  readonly reconcileIntervalMs: number;
  /** Period of the check for changed policy files inside `serve`; 0 (default) turns it off
   * (SIGHUP still reloads; src/config/policy-holder.ts). */
  readonly policyReloadIntervalMs: number;
  /** Period of the expiry sweep inside `serve`; 0 turns it off. */
  readonly expiryIntervalMs: number;
  readonly logLevel: LogLevel;
  /** Probot's write spacing and rate-limit waits (GATEHOUSE_GITHUB_THROTTLE, default on). */
  readonly githubThrottle: boolean;
  readonly clock: ClockConfig;
  /** The environment as seen at start, for adapters that resolve secrets by name
   * (databases.yaml `passwordEnv`, AWS credentials). Frozen copy. */
  readonly env: Env;
}

const MAX_IDENTITY_CACHE_TTL_MS = 5 * 60_000;
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

const invalid = invalidConfig;
const read = readEnv;

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const text = read(env, key);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw invalid(key, `'${text}' is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw invalid(key, `${value} is outside ${min}..${max}`);
  return value;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Durations are written like `250ms`, `30s`, `5m`, `1h`; a bare `0` means "off". */
function duration(env: Env, key: string, fallbackMs: number, maxMs: number): number {
  const text = read(env, key);
  if (text === undefined) return fallbackMs;
  if (text === '0') return 0;
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) throw invalid(key, `'${text}' is not a duration like 250ms, 30s, 5m or 1h`);
  const ms = Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? Number.NaN);
  if (!(ms > 0)) throw invalid(key, `'${text}' must be longer than zero`);
  if (ms > maxMs) throw invalid(key, `'${text}' is longer than the maximum of ${maxMs} ms`);
  return ms;
}

function url(key: string, text: string, protocols: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw invalid(key, `'${text}' is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw invalid(key, `'${text}' must use ${protocols.join(' or ')}`);
  }
  return parsed;
}

function state(env: Env, cwd: string): StateConfig {
  const text = read(env, 'GATEHOUSE_STATE') ?? './data/gatehouse.db';
  if (/^postgres(ql)?:\/\//.test(text)) {
    url('GATEHOUSE_STATE', text, ['postgres:', 'postgresql:']);
    return { kind: 'postgres', url: text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw invalid('GATEHOUSE_STATE', 'must be a SQLite file path or a postgres:// URL');
  }
  const writer = read(env, 'GATEHOUSE_SQLITE_AUDIT_WRITER') ?? 'inline';
  if (writer !== 'inline' && writer !== 'thread') {
    throw invalid('GATEHOUSE_SQLITE_AUDIT_WRITER', `must be inline or thread, not ${writer}`);
  }
  return {
    kind: 'sqlite',
    path: isAbsolute(text) ? text : resolve(cwd, text),
    ...(writer === 'thread' ? { auditWriter: writer } : {}),
  };
}

function repository(env: Env): Config['repository'] {
  return envRepository(env);
}

function githubApiUrl(env: Env): string {
  const explicit = read(env, 'GATEHOUSE_GITHUB_API_URL');
  if (explicit !== undefined) {
    return url('GATEHOUSE_GITHUB_API_URL', explicit, ['https:', 'http:']).href.replace(/\/+$/, '');
  }
  const gheHost = read(env, 'GHE_HOST');
  if (gheHost === undefined) return 'https://api.github.com';
  const protocol = read(env, 'GHE_PROTOCOL') ?? 'https';
  if (protocol !== 'https' && protocol !== 'http') {
    throw invalid('GHE_PROTOCOL', `'${protocol}' must be https or http`);
  }
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(gheHost)) {
    throw invalid('GHE_HOST', `'${gheHost}' must be a host name with an optional port`);
  }
  // GitHub Enterprise Server serves the REST API under /api/v3, as Probot assumes:
  // https://docs.github.com/en/enterprise-server@latest/rest/quickstart
  return `${protocol}://${gheHost}/api/v3`;
}

/** Probot accepts the key with literal `\n` sequences (one-line env files) or base64. */
function normalisePem(text: string): string {
  const unescaped = text.replace(/\\n/g, '\n');
  if (unescaped.includes('-----BEGIN')) return unescaped;
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : unescaped;
}

function githubApp(env: Env, cwd: string): GithubAppConfig | null {
  const appId = read(env, 'APP_ID');
  const keyText = read(env, 'PRIVATE_KEY');
  const keyPath = read(env, 'PRIVATE_KEY_PATH');
  const secret = read(env, 'WEBHOOK_SECRET');
  if (
    appId === undefined &&
    keyText === undefined &&
    keyPath === undefined &&
    secret === undefined
  ) {
    return null;
  }
  // A half-configured App is a mistake, not "no App": say which key is missing.
  if (appId === undefined) throw invalid('APP_ID', 'is required when a GitHub App key is set');
  if (!/^\d+$/.test(appId)) throw invalid('APP_ID', `'${appId}' is not a numeric App ID`);
  if (secret === undefined) {
    throw invalid('WEBHOOK_SECRET', 'is required with APP_ID (webhooks are verified with it)');
  }
  if (keyText !== undefined && keyPath !== undefined) {
    throw invalid('PRIVATE_KEY_PATH', 'set either PRIVATE_KEY or PRIVATE_KEY_PATH, not both');
  }
  let pem: string;
  if (keyText !== undefined) {
    pem = normalisePem(keyText);
  } else if (keyPath !== undefined) {
    try {
      pem = readFileSync(isAbsolute(keyPath) ? keyPath : resolve(cwd, keyPath), 'utf8');
    } catch (cause) {
      throw new GatehouseError(
        'CONFIG_INVALID',
        `PRIVATE_KEY_PATH: cannot read '${keyPath}' (${(cause as Error).message})`,
        { cause },
      );
    }
  } else {
    throw invalid('PRIVATE_KEY', 'is required with APP_ID (or set PRIVATE_KEY_PATH)');
  }
  if (!pem.includes('-----BEGIN')) {
    throw invalid(keyText !== undefined ? 'PRIVATE_KEY' : 'PRIVATE_KEY_PATH', 'is not a PEM key');
  }
  return { appId, privateKey: pem, webhookSecret: secret };
}

function oidc(env: Env): OidcConfig | null {
  const issuer = read(env, 'GATEHOUSE_OIDC_ISSUER');
  const audience = read(env, 'GATEHOUSE_OIDC_AUDIENCE');
  const jwksUrl = read(env, 'GATEHOUSE_OIDC_JWKS_URL');
  const loginClaim = read(env, 'GATEHOUSE_OIDC_LOGIN_CLAIM');
  if (
    issuer === undefined &&
    audience === undefined &&
    jwksUrl === undefined &&
    loginClaim === undefined
  ) {
    return null;
  }
  if (issuer === undefined) throw invalid('GATEHOUSE_OIDC_ISSUER', 'is required for OIDC');
  // Without an audience check a token minted for any other app of the IdP would be accepted.
  if (audience === undefined) throw invalid('GATEHOUSE_OIDC_AUDIENCE', 'is required for OIDC');
  if (jwksUrl === undefined) throw invalid('GATEHOUSE_OIDC_JWKS_URL', 'is required for OIDC');
  url('GATEHOUSE_OIDC_ISSUER', issuer, ['https:', 'http:']);
  // Keys fetched over plain HTTP could be swapped by anyone on the path; loopback is allowed
  // so tests can serve a JWKS locally.
  const jwks = url('GATEHOUSE_OIDC_JWKS_URL', jwksUrl, ['https:', 'http:']);
  if (jwks.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(jwks.hostname)) {
    throw invalid('GATEHOUSE_OIDC_JWKS_URL', 'must use https (http only on loopback)');
  }
  const claim = loginClaim ?? 'preferred_username';
  if (!/^[A-Za-z0-9_:.-]{1,100}$/.test(claim)) {
    throw invalid('GATEHOUSE_OIDC_LOGIN_CLAIM', `'${claim}' is not a claim name`);
  }
  return { issuer, audience, jwksUrl: jwks.href, loginClaim: claim };
}

function clock(env: Env, cwd: string): ClockConfig {
  const offset = read(env, 'GATEHOUSE_CLOCK_OFFSET_MS');
  const file = read(env, 'GATEHOUSE_CLOCK_FILE');
  if (offset !== undefined && file !== undefined) {
    throw invalid('GATEHOUSE_CLOCK_FILE', 'set either GATEHOUSE_CLOCK_OFFSET_MS or this, not both');
  }
  if (file !== undefined) {
    return { kind: 'file', path: isAbsolute(file) ? file : resolve(cwd, file) };
  }
  if (offset !== undefined) {
    if (!/^-?\d+$/.test(offset)) {
      throw invalid('GATEHOUSE_CLOCK_OFFSET_MS', `'${offset}' is not a whole number of ms`);
    }
    return { kind: 'offset', offsetMs: Number(offset) };
  }
  return { kind: 'system' };
}

/** Fastify's trustProxy (https://fastify.dev/docs/latest/Reference/Server/#trustproxy):
 * `true`, a number of hops, or a comma-separated list of addresses/CIDRs. Off by default, so
 * a client cannot forge its audited address with an X-Forwarded-For header. */
function trustProxy(env: Env): Config['trustProxy'] {
  const text = read(env, 'GATEHOUSE_TRUST_PROXY');
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(entry))) {
    throw invalid(
      'GATEHOUSE_TRUST_PROXY',
      `'${text}' is not true, a hop count or a list of addresses`,
    );
  }
  return entries;
}

/**
 * Probot spaces the App's write requests at least 1 s apart and those that notify people (new
 * PRs, comments) 3 s apart, per process, as GitHub asks of integrations
 * (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#avoid-concurrent-requests)
 * and waits out rate limits. Keep it on against github.com. `off` removes both, for a GitHub
 * Enterprise Server whose rate limits are disabled and for the simulated GitHub of the demo
 * and the end-to-end tests.
 */
function githubThrottle(env: Env): boolean {
  const text = read(env, 'GATEHOUSE_GITHUB_THROTTLE') ?? 'on';
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw invalid('GATEHOUSE_GITHUB_THROTTLE', `'${text}' must be on or off`);
}

function logLevel(env: Env): LogLevel {
  const text = read(env, 'GATEHOUSE_LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined) {
    throw invalid('GATEHOUSE_LOG_LEVEL', `'${text}' is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

function limits(env: Env): QueryLimits {
  const statementTimeoutMs = duration(env, 'GATEHOUSE_STATEMENT_TIMEOUT', 30_000, 3_600_000);
  if (statementTimeoutMs === 0) {
    throw invalid('GATEHOUSE_STATEMENT_TIMEOUT', 'cannot be 0: every query needs a timeout');
  }
  const maxRowsCap = integer(env, 'GATEHOUSE_MAX_ROWS_CAP', 10_000, 1, 1_000_000);
  const defaultMaxRows = integer(env, 'GATEHOUSE_MAX_ROWS', 1000, 1, 1_000_000);
  if (defaultMaxRows > maxRowsCap) {
    throw invalid('GATEHOUSE_MAX_ROWS', `${defaultMaxRows} exceeds GATEHOUSE_MAX_ROWS_CAP`);
  }
  // 10 MiB rather than Bytebase's 100 MB: results are built as JSON in memory on a shared
  // gateway, and a person reads at most a few thousand rows.
  const maxResultBytes = integer(
    env,
    'GATEHOUSE_MAX_RESULT_BYTES',
    10 * 1024 * 1024,
    1024,
    2 ** 30,
  );
  const redactText = read(env, 'GATEHOUSE_AUDIT_REDACT_LITERALS') ?? 'false';
  if (redactText !== 'true' && redactText !== 'false') {
    throw invalid('GATEHOUSE_AUDIT_REDACT_LITERALS', `must be true or false, not ${redactText}`);
  }
  const redactSqlLiterals = redactText === 'true';
  return { statementTimeoutMs, defaultMaxRows, maxRowsCap, maxResultBytes, redactSqlLiterals };
}

/** Reads and validates every key once; the result is deeply frozen. Throws GatehouseError
 * CONFIG_INVALID naming the first bad key. */
export function loadConfig(env: Env, cwd: string): Config {
  const repoDirText = read(env, 'GATEHOUSE_REPO_DIR');
  const config: Config = {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: read(env, 'HOST') ?? '0.0.0.0',
    trustProxy: trustProxy(env),
    repoDir:
      repoDirText === undefined
        ? cwd
        : isAbsolute(repoDirText)
          ? repoDirText
          : resolve(cwd, repoDirText),
    state: state(env, cwd),
    repository: repository(env),
    githubApiUrl: githubApiUrl(env),
    githubApp: githubApp(env, cwd),
    oidc: oidc(env),
    limits: limits(env),
    poolSize: integer(env, 'GATEHOUSE_DB_POOL_SIZE', 10, 1, 200),
    identityCacheTtlMs: duration(
      env,
      'GATEHOUSE_IDENTITY_CACHE_TTL',
      MAX_IDENTITY_CACHE_TTL_MS,
      MAX_IDENTITY_CACHE_TTL_MS,
    ),
    reconcileIntervalMs: duration(env, 'GATEHOUSE_RECONCILE_INTERVAL', 10 * 60_000, 24 * 3_600_000),
    expiryIntervalMs: duration(env, 'GATEHOUSE_EXPIRY_INTERVAL', 60_000, 24 * 3_600_000),
    policyReloadIntervalMs: duration(env, 'GATEHOUSE_POLICY_RELOAD_INTERVAL', 0, 24 * 3_600_000),
    logLevel: logLevel(env),
    githubThrottle: githubThrottle(env),
    clock: clock(env, cwd),
    env: Object.freeze({ ...env }),
  };
  if (config.githubApp !== null && config.repository === null) {
    throw invalid('GATEHOUSE_REPOSITORY', 'is required with a GitHub App (the access repository)');
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
