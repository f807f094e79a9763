import { GatehouseError } from '../../errors/catalogue.js';

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

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_MAX_PER_SWEEP = 50;

/** The fixed branch of one grant's revocation PR (docs/lifecycle.md, "Why one branch per
 * grant"): every rerun and every replica derives the same name, so GitHub itself refuses a
 * second branch (422 "Reference already exists") and a second PR for it. */
export const REVOCATION_BRANCH_PREFIX = 'gatehouse/revoke/';
export const REVOCATION_LABEL = 'gatehouse:revocation';

// https://docs.github.com/en/repositories/creating-and-managing-repositories/about-repositories
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

function invalid(key: string, message: string): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', `${key}: ${message}`);
}

function read(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function flag(env: Env, key: string, fallback: boolean): boolean {
  const text = read(env, key);
  if (text === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw invalid(key, `must be true or false, not '${text}'`);
}

export function loadLifecycleConfig(env: Env): LifecycleConfig {
  const repoText = read(env, 'GATEHOUSE_REPOSITORY');
  if (repoText === undefined) {
    throw invalid('GATEHOUSE_REPOSITORY', 'is required: the access repository as owner/name');
  }
  const [owner, name, ...rest] = repoText.split('/');
  if (
    owner === undefined ||
    name === undefined ||
    rest.length > 0 ||
    !OWNER.test(owner) ||
    !NAME.test(name) ||
    name === '.' ||
    name === '..'
  ) {
    throw invalid('GATEHOUSE_REPOSITORY', `'${repoText}' is not owner/name`);
  }
  const maxText = read(env, 'GATEHOUSE_EXPIRY_MAX_PER_SWEEP');
  let maxPerSweep = DEFAULT_MAX_PER_SWEEP;
  if (maxText !== undefined) {
    if (!/^\d{1,5}$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > 10_000) {
      throw invalid('GATEHOUSE_EXPIRY_MAX_PER_SWEEP', `'${maxText}' is not a number in 1..10000`);
    }
    maxPerSweep = Number(maxText);
  }
  const appIdText = read(env, 'APP_ID');
  if (appIdText !== undefined && !/^[1-9]\d{0,15}$/.test(appIdText)) {
    throw invalid('APP_ID', `'${appIdText}' is not a GitHub App id (a positive integer)`);
  }
  return Object.freeze({
    repository: Object.freeze({ owner, name }),
    autoMergeRevocations: flag(env, 'GATEHOUSE_AUTO_MERGE_REVOCATIONS', false),
    maxPerSweep,
    appId: appIdText === undefined ? undefined : Number(appIdText),
  });
}
