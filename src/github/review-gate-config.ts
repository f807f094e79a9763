import {
  envAppId,
  envFlag,
  envRepository,
  invalidConfig,
  readEnv,
  type Env,
} from '../config/env-values.js';

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

export type { Env };

/** The check's name: branch protection requires it by name and app, so it is not configurable. */
export const CHECK_NAME = 'Gatehouse / access policy';

export function loadReviewGateConfig(env: Env): ReviewGateConfig {
  const repository = envRepository(env);
  if (repository === null) {
    throw invalidConfig('GATEHOUSE_REPOSITORY', 'is required: the access repository as owner/name');
  }
  return Object.freeze({
    repository,
    requestReviews: envFlag(env, 'GATEHOUSE_REQUEST_REVIEWS', false),
    appId: envAppId(env),
  });
}
