import { isIP } from 'node:net';
import type { DatabaseConfig } from '../policy/databases.js';
import { GatehouseError } from '../errors/catalogue.js';
import type { AuthTokenProvider } from './iam/auth-token-provider.js';
import type { ConnectRateLimiter } from './iam/connect-rate-limiter.js';

/** How a new connection authenticates. `password()` is called once per NEW connection and
 * never cached: for `iam` it waits for the connect rate limiter, then mints a fresh token. */
export interface ConnectionCredentials {
  readonly user: string;
  password(): Promise<string>;
}

export interface CredentialDependencies {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tokenProvider: AuthTokenProvider;
  readonly rateLimiter: ConnectRateLimiter;
  /** Whether the connection uses verified TLS. */
  readonly tls: boolean;
}

export function connectionCredentials(
  db: DatabaseConfig,
  deps: CredentialDependencies,
): ConnectionCredentials {
  const auth = db.auth;
  if (auth.kind === 'password') {
    const value = deps.env[auth.passwordEnv];
    if (value === undefined || value === '') {
      throw new GatehouseError(
        'CONFIG_INVALID',
        `databases.${db.id}.auth.passwordEnv: the environment variable ${auth.passwordEnv} is not set.`,
      );
    }
    return { user: auth.user, password: () => Promise.resolve(value) };
  }
  // An IAM token is a bearer credential for 15 minutes: it must never cross a network in
  // plaintext (MySQL sends it with mysql_clear_password). Loopback is accepted for local
  // test setups, where no network is crossed.
  if (!deps.tls && !isLoopback(db.host)) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `databases.${db.id}.tls.required: iam auth needs verified TLS to ${db.host}.`,
    );
  }
  const target = { hostname: db.host, port: db.port, username: auth.user, region: auth.region };
  return {
    user: auth.user,
    async password() {
      await deps.rateLimiter.acquire();
      try {
        return await deps.tokenProvider.getToken(target);
      } catch (cause) {
        if (cause instanceof GatehouseError) throw cause;
        throw new GatehouseError(
          'IAM_TOKEN_FAILED',
          `Could not mint an RDS IAM token for ${auth.user}@${db.host}:${db.port}: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      }
    },
  };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
