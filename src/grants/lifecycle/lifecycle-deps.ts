import type { ProbotOctokit } from 'probot';
import type { AuditLog } from '../../audit/audit-log.js';
import type { RepoRef } from '../../github/github-gateway.js';
import type { LeaderLock } from '../../state/leader-lock.js';
import type { Clock } from '../../util/clock.js';
import type { GrantStore } from '../grant-store.js';
import type { LifecycleConfig } from './lifecycle-config.js';
import type { LifecycleGithub } from './lifecycle-github.js';

/** The slice of pino the lifecycle logs through (Probot's `context.log` and the service
 * logger both fit). */
export interface LifecycleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything the grant lifecycle needs, passed in by src/wiring.ts (or a test). */
export interface LifecycleDeps {
  readonly config: LifecycleConfig;
  /** The grant index, the audit log and the leader lock (`State` from src/state/open-state.ts). */
  readonly state: {
    readonly grants: GrantStore;
    readonly audit: AuditLog;
    readonly leader: LeaderLock;
  };
  readonly clock: Clock;
  readonly log: LifecycleLogger;
  /** GitHub for scheduled work and the CLI, authenticated as the App's installation on the
   * access repository (see `installationGithub`). Called once per job run. */
  readonly github: () => Promise<LifecycleGithub>;
  /** GitHub for one webhook, from the event's installation Octokit. Default: the Octokit
   * adapter (`createOctokitLifecycleGithub`). */
  readonly githubFor?: (octokit: ProbotOctokit) => LifecycleGithub;
}

export function repoRef(config: LifecycleConfig): RepoRef {
  return { owner: config.repository.owner, repo: config.repository.name };
}

export function repoName(config: LifecycleConfig): string {
  return `${config.repository.owner}/${config.repository.name}`;
}
