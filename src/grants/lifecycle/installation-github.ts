import type { Probot } from 'probot';
import type { LifecycleConfig } from './lifecycle-config.js';
import type { LifecycleGithub } from './lifecycle-github.js';
import { createOctokitLifecycleGithub } from './octokit/octokit-lifecycle-github.js';

/**
 * GitHub for scheduled work (no webhook brings an installation client): authenticate as the
 * App, find its installation on the access repository
 * (https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app)
 * and use that installation's client, whose token @octokit/auth-app renews by itself. The
 * installation is looked up once; a failed look-up is retried on the next call.
 */
export function installationGithub(
  probot: Probot,
  config: LifecycleConfig,
): () => Promise<LifecycleGithub> {
  let cached: Promise<LifecycleGithub> | null = null;
  const options = config.appId === undefined ? {} : { appId: config.appId };
  return () => {
    cached ??= (async () => {
      const app = await probot.auth();
      const { data } = await app.request('GET /repos/{owner}/{repo}/installation', {
        owner: config.repository.owner,
        repo: config.repository.name,
      });
      return createOctokitLifecycleGithub(await probot.auth(data.id), options);
    })().catch((error: unknown) => {
      cached = null;
      throw error;
    });
    return cached;
  };
}
