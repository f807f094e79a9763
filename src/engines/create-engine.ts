import { readFileSync } from 'node:fs';
import { GatehouseError } from '../errors/catalogue.js';
import type { DatabaseConfig } from '../policy/databases.js';
import { connectionCredentials } from './connection-credentials.js';
import type { Engine } from './engine.js';
import { rdsSignerTokenProvider, type AuthTokenProvider } from './iam/auth-token-provider.js';
import { createConnectRateLimiter, type LimiterTimer } from './iam/connect-rate-limiter.js';
import { createMysqlEngine } from './mysql/mysql-engine.js';
import { createPostgresEngine } from './postgres/postgres-engine.js';
import { buildTlsOptions, type ReadFile } from './tls-options.js';

export interface EngineOptions {
  /** Connections per database; default 10. */
  readonly poolSize?: number;
  /** Where `auth.passwordEnv` is looked up (usually process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For `iam` auth; default: @aws-sdk/rds-signer with the default credential chain. */
  readonly tokenProvider?: AuthTokenProvider;
  /** New IAM connections per second; default 100, at most 180 (AWS: stay under 200/s). */
  readonly connectRateLimit?: number;
  /** Time source of the rate limiter (tests). */
  readonly limiterTimer?: LimiterTimer;
  /** How long past the statement timeout the gateway stops the statement itself; default 1000. */
  readonly killGraceMs?: number;
  /** Connect (and wait-for-a-free-connection) timeout; default 10000. */
  readonly connectTimeoutMs?: number;
  /** Reads the `tls.ca` PEM bundle; default fs.readFileSync. */
  readonly readFile?: ReadFile;
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_CONNECT_RATE_LIMIT = 100;
export const DEFAULT_KILL_GRACE_MS = 1000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * One engine (one pool) for one database of policies/databases.yaml. Nothing connects until
 * the first query or ping. Throws CONFIG_INVALID for settings that cannot work (missing
 * password variable, unreadable CA, IAM without TLS to a remote host, bad numbers).
 */
export function createEngine(db: DatabaseConfig, options: EngineOptions): Engine {
  const poolSize = positiveInteger('poolSize', options.poolSize ?? DEFAULT_POOL_SIZE);
  const killGraceMs = positiveInteger('killGraceMs', options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  const connectTimeoutMs = positiveInteger(
    'connectTimeoutMs',
    options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  );
  const tls = buildTlsOptions(db, options.readFile ?? ((path) => readFileSync(path)));
  const credentials = connectionCredentials(db, {
    env: options.env,
    tokenProvider: options.tokenProvider ?? rdsSignerTokenProvider(),
    rateLimiter: createConnectRateLimiter(
      options.connectRateLimit ?? DEFAULT_CONNECT_RATE_LIMIT,
      options.limiterTimer,
    ),
    tls: tls !== undefined,
  });
  const settings = { db, credentials, tls, poolSize, killGraceMs, connectTimeoutMs };
  switch (db.engine) {
    case 'mysql':
      return createMysqlEngine(settings);
    case 'postgres':
      return createPostgresEngine(settings);
  }
}

function positiveInteger(key: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `Engine option ${key} must be a positive integer; got ${value}.`,
    );
  }
  return value;
}
