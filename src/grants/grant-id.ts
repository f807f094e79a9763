import { createHash } from 'node:crypto';

/**
 * The id of the grant a merged request file yields: `g_` + the first 20 hex digits of
 * sha256(`${repo}\n${filePath}\n${mergeSha}`). Deterministic, so a replayed webhook, reconcile
 * and a second replica all derive the same id and the store's idempotent insert keeps one row.
 * 80 bits: a collision needs about 2^40 grants (birthday bound), far beyond any deployment.
 */
export function grantId(repo: string, filePath: string, mergeSha: string): string {
  const digest = createHash('sha256').update(`${repo}\n${filePath}\n${mergeSha}`).digest('hex');
  return `g_${digest.slice(0, 20)}`;
}
