import {
  envAppId,
  envFlag,
  envRepository,
  invalidConfig,
  readEnv,
  type Env,
} from '../../config/env-values.js';

/**
 * The grant lifecycle's own configuration, read once from the environment, validated, frozen.
 * The periods of the scheduled jobs belong to the service config (GATEHOUSE_RECONCILE_INTERVAL,
 * GATEHOUSE_EXPIRY_INTERVAL in src/config/config.ts). Documented in docs/lifecycle.md.
 */
export interface LifecycleConfig {
  /** The one access repository served (GATEHOUSE_REPOSITORY, `owner/name`). */
  readonly repository: { readonly owner: string; readonly name: string };
  /** Merge revocation PRs through the API right after opening them
   * (GATEHOUSE_AUTO_MERGE_REVOCATIONS). Safe because a revocation only removes access. */
  readonly autoMergeRevocations: boolean;
  /** Grants that need GitHub work in one expiry sweep, at most (GATEHOUSE_EXPIRY_MAX_PER_SWEEP). */
  readonly maxPerSweep: number;
  /** The GitHub App's id (APP_ID): lets the lifecycle recognise its own comments. */
  readonly appId: number | undefined;
}

export type { Env };

export const DEFAULT_MAX_PER_SWEEP = 50;

/** The fixed branch of one grant's revocation PR (docs/lifecycle.md, "Why one branch per
 * grant"): every rerun and every replica derives the same name, so GitHub itself refuses a
 * second branch (422 "Reference already exists") and a second PR for it. */
export const REVOCATION_BRANCH_PREFIX = 'gatehouse/revoke/';
export const REVOCATION_LABEL = 'gatehouse:revocation';

export function loadLifecycleConfig(env: Env): LifecycleConfig {
  const repository = envRepository(env);
  if (repository === null) {
    throw invalidConfig('GATEHOUSE_REPOSITORY', 'is required: the access repository as owner/name');
  }
  const maxText = readEnv(env, 'GATEHOUSE_EXPIRY_MAX_PER_SWEEP');
  let maxPerSweep = DEFAULT_MAX_PER_SWEEP;
  if (maxText !== undefined) {
    if (!/^\d{1,5}$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > 10_000) {
      throw invalidConfig(
        'GATEHOUSE_EXPIRY_MAX_PER_SWEEP',
        `'${maxText}' is not a number in 1..10000`,
      );
    }
    maxPerSweep = Number(maxText);
  }
  return Object.freeze({
    repository,
    autoMergeRevocations: envFlag(env, 'GATEHOUSE_AUTO_MERGE_REVOCATIONS', false),
    maxPerSweep,
    appId: envAppId(env),
  });
}
