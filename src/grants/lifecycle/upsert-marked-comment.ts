import type { GithubGateway, RepoRef } from '../../github/github-gateway.js';

/** One comment per marker, found by the marker and edited in place; untouched when the text
 * is the same, so a replay costs one list call and writes nothing (anchors.md §4). Only this
 * app's comments are matched (see `GithubGateway.findComment`), so nobody can plant a marker. */
export async function upsertMarkedComment(
  github: GithubGateway,
  repo: RepoRef,
  pullNumber: number,
  marker: string,
  body: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const existing = await github.findComment(repo, pullNumber, marker);
  if (existing === null) {
    await github.createComment(repo, pullNumber, body);
    return 'created';
  }
  if (existing.body === body) return 'unchanged';
  await github.updateComment(repo, existing.id, body);
  return 'updated';
}
