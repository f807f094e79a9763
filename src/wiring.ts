/**
 * THE one place that builds Gatehouse from its Config (Kysely's rule: all wiring in one
 * place, everything else receives its dependencies as arguments). `gatehouse serve`, the
 * demo and the end-to-end tests start the service through `startGatehouse`: the state store,
 * one engine per database, the query API, GET /v1/audit, and with a GitHub App the review
 * gate, the grant lifecycle and its scheduled jobs (reconcile, expiry sweep).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import {
  openPolicyHolder,
  readPolicyFiles,
  type PolicyHolder,
  type ReloadOutcome,
  type ReloadTrigger,
} from './config/policy-holder.js';
import { createEngine } from './engines/create-engine.js';
import { GatehouseError } from './errors/catalogue.js';
import { createQueryService } from './gateway/query-service.js';
import { registerReviewGate } from './github/review-gate.js';
import { loadReviewGateConfig } from './github/review-gate-config.js';
import { installationGithub } from './grants/lifecycle/installation-github.js';
import {
  registerLifecycle,
  startLifecycleSchedules,
  type LifecycleSchedules,
} from './grants/lifecycle/lifecycle-app.js';
import { loadLifecycleConfig } from './grants/lifecycle/lifecycle-config.js';
import { LifecycleOctokit } from './grants/lifecycle/lifecycle-runtime.js';
import type { LifecycleDeps } from './grants/lifecycle/lifecycle-deps.js';
import { createCompositeIdentityProvider } from './identity/composite-identity-provider.js';
import { createGithubIdentityProvider } from './identity/github/github-identity-provider.js';
import type { IdentityProvider } from './identity/identity-provider.js';
import { createOidcIdentityProvider } from './identity/oidc/oidc-identity-provider.js';
import type { Databases } from './policy/databases.js';
import { loadDatabases } from './policy/load-databases.js';
import type { RiskPolicy } from './policy/risk-policy.js';
import { createAuditorCheck } from './audit/tools/auditor-check.js';
import { registerAuditRoute } from './server/audit-route.js';
import { buildServer } from './server/build-server.js';
import { WEBHOOK_PATH } from './server/routes/webhook-route.js';
import { createReadinessCheck, type ReadinessCheck } from './server/readiness.js';
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
  /** Extra routes on the same server and auth (GET /v1/audit is always registered). */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
}

export interface Gatehouse {
  readonly server: FastifyInstance;
  /** Base URL the server listens on, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  readonly state: State;
  readonly probot: Probot | null;
  /** What the scheduled jobs run with (null without a GitHub App): the demo and tools call
   * `reconcile` or `runExpiry` with it instead of waiting for a timer. */
  readonly lifecycle: LifecycleDeps | null;
  /** Reloads policies/ (SIGHUP in `serve`, the GATEHOUSE_POLICY_RELOAD_INTERVAL poll), audited
   * as `config.reloaded`; a policy with any diagnostic is refused and the old one kept. */
  reloadPolicy(trigger?: ReloadTrigger): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

/** The service's pino logger (also used by `serve --demo` before the service starts). */
export function createLogger(config: Config): Logger {
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

/** policies/databases.yaml of GATEHOUSE_REPO_DIR, validated; POLICY_INVALID lists every
 * diagnostic with file, line and column. */
export async function readDatabases(config: Config): Promise<Databases> {
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

/** The GitHub App side: the Probot instance with the review gate and the grant lifecycle, and
 * GitHub as the App's installation on the access repository for scheduled work. */
interface GithubSide {
  readonly probot: Probot;
  readonly lifecycle: LifecycleDeps;
}

/** Probot's Octokit with the throttling plugin turned off. Probot always passes throttle
 * options, so only a function default can override them (docs/testing.md). */
const UnthrottledOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: { ...(options['throttle'] as object | undefined), enabled: false },
}));

function createProbot(
  config: Config,
  throttle: boolean,
  log: Logger,
  given: Probot | undefined,
): Probot | null {
  if (given !== undefined) return given;
  if (config.githubApp === null) return null; // said once the server listens, with its URL
  return new Probot({
    appId: config.githubApp.appId,
    privateKey: config.githubApp.privateKey,
    secret: config.githubApp.webhookSecret,
    baseUrl: config.githubApiUrl,
    log: log.child({ name: 'probot' }),
    ...(throttle ? {} : { Octokit: UnthrottledOctokit }),
  });
}

/**
 * The client of scheduled work (reconcile, the expiry sweep, auditor team checks): the App's
 * own credentials with the lifecycle's Octokit, which lets a rate limit surface instead of
 * waiting it out while holding the leader lock (src/grants/lifecycle/lifecycle-runtime.ts,
 * the same client as `gatehouse reconcile` and `gatehouse expire`). A Probot given by a test
 * serves both roles.
 */
function scheduledProbot(
  config: Config,
  throttle: boolean,
  log: Logger,
  webhooks: Probot,
  given: Probot | undefined,
): Probot {
  if (given !== undefined || config.githubApp === null) return webhooks;
  return new Probot({
    appId: config.githubApp.appId,
    privateKey: config.githubApp.privateKey,
    secret: config.githubApp.webhookSecret,
    baseUrl: config.githubApiUrl,
    log: log.child({ name: 'lifecycle-github' }),
    Octokit: throttle ? LifecycleOctokit : UnthrottledOctokit,
  });
}

async function loadGithubSide(
  probot: Probot,
  scheduled: Probot,
  config: Config,
  clock: Clock,
  state: State,
  log: Logger,
): Promise<GithubSide> {
  // Both read GATEHOUSE_REPOSITORY and their own keys (docs/github-app.md,
  // docs/lifecycle.md) from the same start-time snapshot of the environment.
  const gateConfig = loadReviewGateConfig(config.env);
  const lifecycleConfig = loadLifecycleConfig(config.env);
  const lifecycle: LifecycleDeps = {
    config: lifecycleConfig,
    state: { grants: state.grants, audit: state.audit, leader: state.leader },
    clock,
    log: log.child({ name: 'lifecycle' }),
    github: installationGithub(scheduled, lifecycleConfig),
  };
  await probot.load((app) => {
    registerReviewGate(app, {
      config: gateConfig,
      clock,
      audit: state.audit,
      grants: state.grants,
    });
    registerLifecycle(app, lifecycle);
  });
  return { probot, lifecycle };
}

/** GET /v1/audit, for the auditors of the policy in force (policies/risk.yaml of
 * GATEHOUSE_REPO_DIR: the review gate reads the policy from each PR's base branch on GitHub,
 * but the auditors list is a service setting, so the deployed checkout is the right source;
 * absent, nobody may read). Team membership is asked of GitHub as the App's installation (the
 * same client the lifecycle's scheduled jobs use). */
function auditPlugin(
  policy: PolicyHolder,
  github: GithubSide | null,
  state: State,
  clock: Clock,
): (app: FastifyInstance) => void {
  const isTeamMember = async (org: string, slug: string, login: string): Promise<boolean> => {
    if (github === null) {
      throw new GatehouseError(
        'CONFIG_GITHUB_APP_MISSING',
        `Team auditors (${org}/${slug}) cannot be checked without a GitHub App.`,
      );
    }
    return (await github.lifecycle.github()).isActiveTeamMember(org, slug, login);
  };
  // Rebuilt when a reload brings another auditors list, which also drops cached answers: a
  // removed auditor loses access at once.
  const checkFor = (auditors: RiskPolicy['auditors']) => ({
    auditors,
    isAuditor: createAuditorCheck(auditors, isTeamMember, clock),
  });
  let check = checkFor(policy.current().auditors);
  const isAuditor = (login: string): Promise<boolean> => {
    const { auditors } = policy.current();
    if (auditors !== check.auditors) check = checkFor(auditors);
    return check.isAuditor(login);
  };
  return (app) =>
    registerAuditRoute(app, {
      audit: state.audit,
      isAuditor,
      getIdentity: (request) => request.identity,
      clock,
    });
}

/** How long a stop waits for a running reconcile or expiry run. Octokit retries an
 * unreachable GitHub for several seconds; a stop (SIGTERM from an orchestrator, which kills
 * after 30 s by default) must not wait for that. Every job is idempotent, so the next run,
 * on this replica or another, redoes what was cut short. */
const JOB_DRAIN_MS = 10_000;

async function drain(jobs: LifecycleSchedules, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), JOB_DRAIN_MS);
    timer.unref();
  });
  const outcome = await Promise.race([jobs.idle().then(() => 'idle' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    log.warn(
      { waitedMs: JOB_DRAIN_MS },
      'A lifecycle job is still running; stopping anyway (jobs are idempotent: the next run redoes its work)',
    );
  }
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

  const throttle = config.githubThrottle;
  await initSqlAnalysis();

  // policies/databases.yaml and policies/risk.yaml, validated, with one engine per database,
  // created now so that a database setting that cannot work (a missing password variable, an
  // unreadable CA) stops the start naming the key. Pools are lazy: nothing connects until the
  // first query or readiness ping. Reloaded on SIGHUP or by polling (docs/configuration.md).
  const pinned = options.databases;
  const policy = await openPolicyHolder({
    read: () => readPolicyFiles(config.repoDir, { databases: pinned === undefined }),
    repoDir: config.repoDir,
    ...(pinned === undefined ? {} : { pinnedDatabases: pinned }),
    createEngine: (db) => createEngine(db, { poolSize: config.poolSize, env: config.env }),
    clock,
    log: log.child({ name: 'policy' }),
  });
  const closeEngines = () => policy.close();
  const engineFor = (id: string) => policy.engineFor(id);

  // Opened only once everything above validated, so a configuration error leaves no state
  // file behind.
  let state: State;
  try {
    state = await openState(config.state, clock);
  } catch (error) {
    await closeEngines();
    throw error;
  }

  let github: GithubSide | null = null;
  let schedules: LifecycleSchedules | null = null;
  let server: FastifyInstance | null = null;
  let reloadTimer: NodeJS.Timeout | undefined;
  try {
    // Which policy was in force from when: the first `config.reloaded` record (docs/audit.md).
    await policy.start(state.audit);
    const probot = createProbot(config, throttle, log, options.probot);
    github =
      probot === null
        ? null
        : await loadGithubSide(
            probot,
            scheduledProbot(config, throttle, log, probot, options.probot),
            config,
            clock,
            state,
            log,
          );
    const queryService = createQueryService({
      databases: () => policy.current().databases,
      grants: state.grants,
      audit: state.audit,
      engines: engineFor,
      clock,
      limits: config.limits,
      log,
    });

    // Built per probe so `?databases=1` lists the databases of the policy in force.
    const readiness: ReadinessCheck = (probe) =>
      createReadinessCheck({
        grants: state.grants,
        audit: state.audit,
        databaseIds: [...policy.current().databases.keys()],
        engineFor,
        githubApp: probot !== null,
        log,
      })(probe);

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
      plugins: [auditPlugin(policy, github, state, clock), ...(options.plugins ?? [])],
    });
    const address = await server.listen({ port: config.port, host: config.host });
    const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
    log.info(
      { url, databases: [...policy.current().databases.keys()], state: config.state.kind },
      'Gatehouse is listening',
    );
    // Reloads run one at a time and never reject (src/config/policy-holder.ts).
    const reloadPolicy = (trigger: ReloadTrigger = 'manual') => policy.reload(trigger);
    if (config.policyReloadIntervalMs > 0) {
      reloadTimer = setInterval(() => void reloadPolicy('interval'), config.policyReloadIntervalMs);
      reloadTimer.unref();
    }
    if (github === null) {
      log.warn(
        { webhookUrl: `${url}${WEBHOOK_PATH}` },
        'No GitHub App configured: the webhook route answers 503, no pull request is checked and ' +
          'no grant is activated. To connect one: create a GitHub App from app.yml (README, ' +
          '"Production"), set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH), WEBHOOK_SECRET and ' +
          "GATEHOUSE_REPOSITORY (docs/configuration.md), and point the App's webhook URL at " +
          `${url}${WEBHOOK_PATH} (through a tunnel such as smee.io when GitHub cannot reach this machine).`,
      );
    } else {
      // Started once the server listens, so the first reconcile (which heals whatever
      // happened while no replica was up) never races a half-built service.
      schedules = startLifecycleSchedules(github.lifecycle, {
        reconcileEveryMs: config.reconcileIntervalMs,
        sweepEveryMs: config.expiryIntervalMs,
      });
    }

    const running = server;
    const jobs = schedules;
    let closed: Promise<void> | null = null;
    return {
      server: running,
      url,
      state,
      probot,
      lifecycle: github?.lifecycle ?? null,
      reloadPolicy,
      close() {
        closed ??= (async () => {
          clearInterval(reloadTimer);
          jobs?.stop();
          await running.close();
          // A job in progress writes to the state store: let it finish first, within bounds.
          if (jobs !== null) await drain(jobs, log);
          await closeEngines();
          await state.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    clearInterval(reloadTimer);
    schedules?.stop();
    await server?.close().catch(() => undefined);
    if (schedules !== null) await drain(schedules, log);
    await closeEngines();
    await state.close().catch(() => undefined);
    throw error;
  }
}
