/**
 * THE one place that builds Gatehouse from its Config (Kysely's rule: all wiring in one
 * place, everything else receives its dependencies as arguments). `gatehouse serve`, the
 * demo and the end-to-end tests start the service through `startGatehouse`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Probot } from 'probot';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createEngine } from './engines/create-engine.js';
import type { Engine } from './engines/engine.js';
import { GatehouseError } from './errors/catalogue.js';
import { createQueryService } from './gateway/query-service.js';
import { registerReviewGate } from './github/review-gate.js';
import { loadReviewGateConfig } from './github/review-gate-config.js';
import { createCompositeIdentityProvider } from './identity/composite-identity-provider.js';
import { createGithubIdentityProvider } from './identity/github/github-identity-provider.js';
import type { IdentityProvider } from './identity/identity-provider.js';
import { createOidcIdentityProvider } from './identity/oidc/oidc-identity-provider.js';
import type { Databases } from './policy/databases.js';
import { loadDatabases } from './policy/load-databases.js';
import { buildServer } from './server/build-server.js';
import { createReadinessCheck } from './server/readiness.js';
import { initSqlAnalysis } from './sql/analyze-sql.js';
import { openState, type State } from './state/open-state.js';
import type { Clock } from './util/clock.js';

export const DATABASES_FILE = 'policies/databases.yaml';

/** Seams for the embedded demo and for tests: each replaces one piece the wiring would
 * otherwise build from the Config. */
export interface StartOptions {
  /** Databases to serve instead of GATEHOUSE_REPO_DIR/policies/databases.yaml. */
  readonly databases?: Databases;
  readonly logger?: Logger;
  readonly identity?: IdentityProvider;
  /** A ready Probot (e.g. with a test Octokit); by default built from the App keys. */
  readonly probot?: Probot;
  /** Extra routes on the same server and auth (e.g. GET /v1/audit from the audit task). */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
}

export interface Gatehouse {
  readonly server: FastifyInstance;
  /** Base URL the server listens on, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  readonly state: State;
  readonly probot: Probot | null;
  close(): Promise<void>;
}

function createLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'gatehouse' },
    // Belt and braces: no code path logs these, and if one ever does they are masked.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}

async function readDatabases(config: Config): Promise<Databases> {
  const path = join(config.repoDir, DATABASES_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `GATEHOUSE_REPO_DIR: cannot read ${DATABASES_FILE} in ${config.repoDir} (${(cause as Error).message})`,
      { cause },
    );
  }
  const loaded = loadDatabases(DATABASES_FILE, bytes);
  if (loaded.databases === undefined) {
    const lines = loaded.diagnostics.map(
      (d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`,
    );
    throw new GatehouseError(
      'POLICY_INVALID',
      `${DATABASES_FILE} is invalid:\n${lines.join('\n')}`,
    );
  }
  return loaded.databases;
}

function createIdentity(config: Config, clock: Clock): IdentityProvider {
  const github = createGithubIdentityProvider({
    apiUrl: config.githubApiUrl,
    clock,
    cacheTtlMs: config.identityCacheTtlMs,
  });
  const oidc =
    config.oidc === null
      ? null
      : createOidcIdentityProvider({
          issuer: config.oidc.issuer,
          audience: config.oidc.audience,
          jwksUrl: config.oidc.jwksUrl,
          loginClaim: config.oidc.loginClaim,
          clock,
        });
  return createCompositeIdentityProvider({ github, oidc });
}

async function createProbot(
  config: Config,
  clock: Clock,
  state: State,
  log: Logger,
  given: Probot | undefined,
): Promise<Probot | null> {
  let probot: Probot | null = given ?? null;
  if (probot === null && config.githubApp !== null) {
    probot = new Probot({
      appId: config.githubApp.appId,
      privateKey: config.githubApp.privateKey,
      secret: config.githubApp.webhookSecret,
      baseUrl: config.githubApiUrl,
      log: log.child({ name: 'probot' }),
    });
  }
  if (probot === null) {
    log.warn(
      'No GitHub App configured: the webhook route answers 503 and no pull request is checked. ' +
        'To connect one, create a GitHub App from app.yml, then set APP_ID, PRIVATE_KEY (or ' +
        'PRIVATE_KEY_PATH), WEBHOOK_SECRET and GATEHOUSE_REPOSITORY, and point its webhook URL ' +
        'at <this server>/api/github/webhooks (docs/configuration.md).',
    );
    return null;
  }
  // The gate's own keys (GATEHOUSE_REPOSITORY, GATEHOUSE_REQUEST_REVIEWS; docs/github-app.md)
  // are read from the same start-time snapshot of the environment.
  const gateConfig = loadReviewGateConfig(config.env);
  await probot.load((app) =>
    registerReviewGate(app, { config: gateConfig, clock, audit: state.audit }),
  );
  return probot;
}

export async function startGatehouse(
  config: Config,
  clock: Clock,
  options: StartOptions = {},
): Promise<Gatehouse> {
  const log = options.logger ?? createLogger(config);
  if (config.clock.kind !== 'system') {
    log.warn(
      { clock: config.clock },
      'TEST-ONLY clock in use (GATEHOUSE_CLOCK_OFFSET_MS or GATEHOUSE_CLOCK_FILE): grant expiry follows it. Never set these in production.',
    );
  }

  const databases = options.databases ?? (await readDatabases(config));
  await initSqlAnalysis();

  // One engine per database, created now so that a database setting that cannot work (a
  // missing password variable, an unreadable CA) stops the start naming the key. Pools are
  // lazy: nothing connects until the first query or readiness ping.
  const engines = new Map<string, Engine>();
  const closeEngines = async () => {
    await Promise.allSettled([...engines.values()].map((engine) => engine.close()));
    engines.clear();
  };
  try {
    for (const db of databases.values()) {
      engines.set(db.id, createEngine(db, { poolSize: config.poolSize, env: config.env }));
    }
  } catch (error) {
    await closeEngines();
    throw error;
  }
  const engineFor = (id: string): Engine => {
    const engine = engines.get(id);
    if (engine === undefined) throw new GatehouseError('UNKNOWN_DATABASE', `No database '${id}'.`);
    return engine;
  };

  // Opened only once everything above validated, so a configuration error leaves no state
  // file behind.
  let state: State;
  try {
    state = await openState(config.state, clock);
  } catch (error) {
    await closeEngines();
    throw error;
  }

  let probot: Probot | null = null;
  let server: FastifyInstance | null = null;
  try {
    probot = await createProbot(config, clock, state, log, options.probot);
    const queryService = createQueryService({
      databases,
      grants: state.grants,
      audit: state.audit,
      engines: engineFor,
      clock,
      limits: config.limits,
      log,
    });

    const readiness = createReadinessCheck({
      grants: state.grants,
      audit: state.audit,
      databaseIds: [...databases.keys()],
      engineFor,
      githubApp: probot !== null,
      log,
    });

    server = buildServer({
      queryService,
      identity: options.identity ?? createIdentity(config, clock),
      audit: state.audit,
      limits: config.limits,
      readiness,
      webhooks: probot === null ? null : probot.webhooks,
      clock,
      logger: log,
      trustProxy: config.trustProxy,
      ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
    });
    const address = await server.listen({ port: config.port, host: config.host });
    const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
    log.info(
      { url, databases: [...databases.keys()], state: config.state.kind },
      'Gatehouse is listening',
    );

    const running = server;
    let closed: Promise<void> | null = null;
    return {
      server: running,
      url,
      state,
      probot,
      close() {
        closed ??= (async () => {
          await running.close();
          await closeEngines();
          await state.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    await server?.close().catch(() => undefined);
    await closeEngines();
    await state.close().catch(() => undefined);
    throw error;
  }
}
