import { GatehouseError } from '../errors/catalogue.js';

/**
 * The review gate's own configuration, read once from the environment, validated, frozen.
 * Probot reads its standard keys itself (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH,
 * WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL; https://probot.github.io/docs/configuration/).
 * Documented in docs/github-app.md.
 */
export interface ReviewGateConfig {
  /** The one access repository served; events from any other repository are ignored. */
  readonly repository: { readonly owner: string; readonly name: string };
  /** Ask the required teams and users for a review while approvals are missing. */
  readonly requestReviews: boolean;
  /** The GitHub App's id (APP_ID): lets the gate recognise its own check runs and comment.
   * Without it (token-based tests) any bot's marked comment and any same-named check match. */
  readonly appId: number | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The check's name: branch protection requires it by name and app, so it is not configurable. */
export const CHECK_NAME = 'Gatehouse / access policy';

// https://docs.github.com/en/repositories/creating-and-managing-repositories/about-repositories
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

function invalid(key: string, message: string): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', `${key} ${message}`);
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

export function loadReviewGateConfig(env: Env): ReviewGateConfig {
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
  const appIdText = read(env, 'APP_ID');
  if (appIdText !== undefined && !/^[1-9]\d{0,15}$/.test(appIdText)) {
    throw invalid('APP_ID', `'${appIdText}' is not a GitHub App id (a positive integer)`);
  }
  return Object.freeze({
    repository: Object.freeze({ owner, name }),
    requestReviews: flag(env, 'GATEHOUSE_REQUEST_REVIEWS', false),
    appId: appIdText === undefined ? undefined : Number(appIdText),
  });
}
