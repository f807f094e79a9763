import { pino, type Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import type { Config } from '../../config/config.js';
import { GatehouseError } from '../../errors/catalogue.js';
import { openState, type State } from '../../state/open-state.js';
import type { Clock } from '../../util/clock.js';
import { installationGithub } from './installation-github.js';
import { loadLifecycleConfig } from './lifecycle-config.js';
import type { LifecycleDeps, LifecycleLogger } from './lifecycle-deps.js';
import type { LifecycleGithub } from './lifecycle-github.js';

/**
 * Octokit for scheduled lifecycle work. Probot's default waits out every rate limit and
 * retries (its `onRateLimit` returns true), which would hold the expiry sweep and its leader
 * lock for up to an hour; here a limit is retried once when it lifts within a minute, and
 * otherwise surfaces, so the sweep stops early and the next run resumes
 * (https://github.com/octokit/plugin-throttling.js#options).
 */
export const LifecycleOctokit = ProbotOctokit.defaults({
  throttle: {
    onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
      retryCount < 1 && retryAfter <= 60,
    onSecondaryRateLimit: (
      retryAfter: number,
      _options: unknown,
      _octokit: unknown,
      retryCount: number,
    ) => retryCount < 1 && retryAfter <= 60,
  },
});

/** A Probot for the App's credentials, used only to authenticate (no webhooks). */
export function lifecycleProbot(config: Config, log: Logger): Probot {
  if (config.githubApp === null) {
    throw new GatehouseError(
      'CONFIG_GITHUB_APP_MISSING',
      'The grant lifecycle talks to GitHub as the App: set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH), WEBHOOK_SECRET and GATEHOUSE_REPOSITORY.',
    );
  }
  return new Probot({
    appId: config.githubApp.appId,
    privateKey: config.githubApp.privateKey,
    secret: config.githubApp.webhookSecret,
    baseUrl: config.githubApiUrl,
    Octokit: LifecycleOctokit,
    log,
  });
}

export interface LifecycleRuntime {
  readonly deps: LifecycleDeps;
  readonly state: State;
  close(): Promise<void>;
}

/**
 * Everything `gatehouse reconcile` and `gatehouse expire` need, from the same configuration
 * as `serve` (src/config/config.ts): the state store, the lifecycle config and GitHub as the
 * App's installation on GATEHOUSE_REPOSITORY. `github` replaces the App client in tests.
 */
export async function openLifecycleRuntime(
  config: Config,
  clock: Clock,
  options: { readonly log?: Logger; readonly github?: () => Promise<LifecycleGithub> } = {},
): Promise<LifecycleRuntime> {
  const log = options.log ?? pino({ level: config.logLevel }, pino.destination(2));
  const lifecycleConfig = loadLifecycleConfig(config.env);
  const github =
    options.github ?? installationGithub(lifecycleProbot(config, log), lifecycleConfig);
  const state = await openState(config.state, clock);
  const logger: LifecycleLogger = log;
  return {
    state,
    deps: { config: lifecycleConfig, state, clock, log: logger, github },
    close: () => state.close(),
  };
}
