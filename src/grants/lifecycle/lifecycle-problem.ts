import type { ErrorCode } from '../../errors/catalogue.js';
import { GatehouseError } from '../../errors/catalogue.js';
import { classifyGithubFailure, describeGithubFailure } from './github-failure.js';

/** A failure of one step of a scheduled job, as a value for its report. */
export interface LifecycleProblem {
  readonly code: ErrorCode;
  readonly message: string;
  /** When GitHub says the rate limit resets (rate limits only). */
  readonly retryAt?: string;
}

export function problemOf(error: unknown): LifecycleProblem {
  if (error instanceof GatehouseError) return { code: error.code, message: error.message };
  const failure = classifyGithubFailure(error);
  const message = describeGithubFailure(error);
  switch (failure.kind) {
    case 'rate_limited':
      return {
        code: 'LIFECYCLE_GITHUB_RATE_LIMITED',
        message,
        ...(failure.resetAt === null ? {} : { retryAt: failure.resetAt.toISOString() }),
      };
    case 'unavailable':
      return { code: 'LIFECYCLE_GITHUB_UNAVAILABLE', message };
    case 'refused':
      return { code: 'LIFECYCLE_GITHUB_REFUSED', message };
  }
}

/** Rate limits stop a job at once (every further call would fail too and eat the budget);
 * so does a state store that cannot be written (nothing could be recorded). */
export function stopsAtOnce(problem: LifecycleProblem): boolean {
  return (
    problem.code === 'LIFECYCLE_GITHUB_RATE_LIMITED' ||
    problem.code === 'STATE_UNAVAILABLE' ||
    problem.code === 'AUDIT_UNAVAILABLE'
  );
}

/** GitHub 5xx in a row after which a job stops until its next run. */
export const MAX_CONSECUTIVE_OUTAGES = 3;
