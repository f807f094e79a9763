/**
 * IAM auth against the real servers: a token is minted for every NEW connection and sent as
 * that connection's password; reused connections mint nothing. The MySQL server checks each
 * token for real (the provider returns the user's real password); for PostgreSQL, whose local
 * server trusts loopback, a password gate in front of it plays RDS's password check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions } from '../../src/engines/engine.js';
import type {
  AuthTokenProvider,
  AuthTokenTarget,
} from '../../src/engines/iam/auth-token-provider.js';
import { GatehouseError, type ErrorCode } from '../../src/errors/catalogue.js';
import type { DatabaseConfig } from '../../src/policy/databases.js';
import { ENGINE_TARGETS, PASSWORD, type TargetDatabase } from './support/engine-targets.js';
import { startPasswordGate, type PasswordGate } from './support/password-gate.js';

const LIMITS: ExecuteOptions = { maxRows: 10, maxBytes: 100_000, timeoutMs: 10_000 };

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (error instanceof GatehouseError) return error.code;
    throw error;
  }
}

/** Counts mints; `token(n)` is the n-th token (1-based). */
function countingProvider(token: (n: number) => string): AuthTokenProvider & {
  readonly targets: AuthTokenTarget[];
} {
  const targets: AuthTokenTarget[] = [];
  return {
    targets,
    async getToken(target) {
      targets.push(target);
      return token(targets.length);
    },
  };
}

function iamConfig(db: DatabaseConfig, port = db.port): DatabaseConfig {
  return {
    ...db,
    port,
    auth: { kind: 'iam', region: 'eu-west-1', user: db.auth.user },
    // Loopback only: IAM without TLS is refused for any other host (see below).
    tls: { required: false },
  };
}

for (const target of ENGINE_TARGETS) {
  describe(`${target.kind} engine with IAM auth`, () => {
    let t: TargetDatabase;
    let gate: PasswordGate | undefined;
    const engines: Engine[] = [];

    beforeAll(async () => {
      t = await target.setup();
      if (target.kind === 'postgres') {
        gate = await startPasswordGate({ host: t.db.host, port: t.db.port }, (password) =>
          /^token-\d+$/.test(password),
        );
      }
    });

    afterAll(async () => {
      await Promise.all(engines.map((e) => e.close()));
      await gate?.close();
      await t?.drop();
    });

    const port = () => gate?.port ?? t.db.port;
    const tokenFor = (n: number) => (target.kind === 'postgres' ? `token-${n}` : PASSWORD);

    it('mints one token per new connection and none for reused ones', async () => {
      const provider = countingProvider(tokenFor);
      const engine = createEngine(iamConfig(t.db, port()), {
        env: {},
        tokenProvider: provider,
        poolSize: 2,
      });
      engines.push(engine);
      await Promise.all([engine.execute('SELECT 1', LIMITS), engine.execute('SELECT 2', LIMITS)]);
      expect(provider.targets).toHaveLength(2);
      expect(provider.targets[0]).toEqual({
        hostname: t.db.host,
        port: port(),
        username: t.db.auth.user,
        region: 'eu-west-1',
      });
      for (let i = 0; i < 4; i++) await engine.execute('SELECT 3', LIMITS);
      expect(provider.targets).toHaveLength(2);
      if (gate !== undefined) expect([...gate.passwords].sort()).toEqual(['token-1', 'token-2']);
    });

    it('mints again for every connection that replaces or helps one', async () => {
      const provider = countingProvider(tokenFor);
      const engine = createEngine(iamConfig(t.db, port()), {
        env: {},
        tokenProvider: provider,
        poolSize: 1,
      });
      engines.push(engine);
      await engine.execute('SELECT 1', LIMITS);
      // A truncated result: PostgreSQL leaves the portal suspended and keeps the connection;
      // MySQL kills the statement from a second, new connection (no idle one in a pool of
      // one) and drops the first, so the next query needs a third.
      expect(
        (await engine.execute('SELECT id FROM items', { ...LIMITS, maxRows: 1 })).truncated,
      ).toBe(true);
      await engine.execute('SELECT 1', LIMITS);
      expect(provider.targets.length).toBe(target.kind === 'mysql' ? 3 : 1);
    });

    it('paces new connections through the rate limiter', async () => {
      const sleeps: number[] = [];
      let now = 0;
      const engine = createEngine(iamConfig(t.db, port()), {
        env: {},
        tokenProvider: countingProvider(tokenFor),
        poolSize: 3,
        connectRateLimit: 10,
        limiterTimer: {
          now: () => now,
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      });
      engines.push(engine);
      await Promise.all([1, 2, 3].map((n) => engine.execute(`SELECT ${n}`, LIMITS)));
      // Rate 10/s, burst 1: the second new connection waits 100 ms, the third 200 ms.
      expect(sleeps).toEqual([100, 200]);
      now = 10_000;
    });

    it('reports a token that cannot be minted as IAM_TOKEN_FAILED', async () => {
      const engine = createEngine(iamConfig(t.db, port()), {
        env: {},
        tokenProvider: {
          getToken: () => Promise.reject(new Error('ExpiredToken: the session has expired')),
        },
      });
      engines.push(engine);
      expect(await codeOf(engine.execute('SELECT 1', LIMITS))).toBe('IAM_TOKEN_FAILED');
      expect(await codeOf(engine.ping())).toBe('IAM_TOKEN_FAILED');
    });

    it('reports a rejected token as DATABASE_UNAVAILABLE', async () => {
      const engine = createEngine(iamConfig(t.db, port()), {
        env: {},
        tokenProvider: countingProvider(() => 'not-a-valid-token'),
      });
      engines.push(engine);
      expect(await codeOf(engine.execute('SELECT 1', LIMITS))).toBe('DATABASE_UNAVAILABLE');
    });

    it('refuses IAM without TLS to a host that is not loopback', () => {
      const config: DatabaseConfig = { ...iamConfig(t.db), host: 'db.example.internal' };
      const error = (() => {
        try {
          createEngine(config, { env: {}, tokenProvider: countingProvider(tokenFor) });
        } catch (e) {
          return e;
        }
      })();
      expect((error as GatehouseError).code).toBe('CONFIG_INVALID');
    });
  });
}
