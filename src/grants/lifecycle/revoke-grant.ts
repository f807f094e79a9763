import type { Grant } from '../grant.js';
import { appendOnce } from './append-once.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { repoName } from './lifecycle-deps.js';

/** Why a grant ends before (or at) its expiry; kept in the grant and its audit record. */
export interface Revocation {
  readonly at: Date;
  readonly by: string;
  readonly reason: string;
  /** The merged PR (or pushed commit) that removed or replaced the file, when known. */
  readonly pr?: { readonly number: number; readonly url: string };
  readonly sha?: string;
  /** True when the PR that ended it is the grant's revocation PR (audited as merged). */
  readonly byRevocationPr?: boolean;
}

/**
 * Revokes one grant and writes `grant.revoked` only when this call revoked it (the store's
 * revoke is once-only across replicas), plus `grant.revocation_pr_merged` when its revocation
 * PR did it. Returns whether this call revoked it.
 */
export async function revokeGrant(
  deps: LifecycleDeps,
  grant: Grant,
  revocation: Revocation,
): Promise<boolean> {
  const { grants, audit } = deps.state;
  const revoked = await grants.revoke(grant.id, revocation.at, revocation.by, revocation.reason);
  if (!revoked) return false;
  const prNumbers = [
    grant.prNumber,
    ...(revocation.pr === undefined ? [] : [revocation.pr.number]),
  ];
  await audit.append({
    type: 'grant.revoked',
    actor: revocation.by,
    database: grant.database,
    tables: grant.tables,
    grantIds: [grant.id],
    prNumbers: [...new Set(prNumbers)],
    prUrl: revocation.pr?.url ?? grant.prUrl,
    mergeSha: revocation.sha ?? null,
    decision: 'revoked',
    details: {
      reason: revocation.reason,
      filePath: grant.filePath,
      revokedAt: revocation.at.toISOString(),
      expiresAt: grant.expiresAt.toISOString(),
    },
  });
  if (revocation.byRevocationPr === true && revocation.pr !== undefined) {
    await appendOnce(
      audit,
      {
        type: 'grant.revocation_pr_merged',
        actor: revocation.by,
        database: grant.database,
        grantIds: [grant.id],
        prNumbers: [grant.prNumber, revocation.pr.number],
        prUrl: revocation.pr.url,
        mergeSha: revocation.sha ?? null,
        decision: 'merged',
        details: { revocationPrNumber: revocation.pr.number, filePath: grant.filePath },
      },
      { grantId: grant.id },
    );
  }
  deps.log.info(
    { grant: grant.id, path: grant.filePath, reason: revocation.reason },
    'lifecycle: grant revoked',
  );
  return true;
}

/**
 * The unrevoked grants of this repository for `path` that an event at `before` ends: those
 * activated at or before it, except the ones created by the event itself (`exceptMergeShas`).
 * A later merge of the same path is never ended by a replay of an earlier event.
 */
export async function grantsEndedBy(
  deps: LifecycleDeps,
  path: string,
  before: Date,
  exceptMergeShas: ReadonlySet<string>,
): Promise<readonly Grant[]> {
  const repo = repoName(deps.config);
  const candidates = await deps.state.grants.list({ filePath: path, unrevoked: true });
  return candidates.filter(
    (grant) =>
      grant.repo === repo &&
      grant.activatedAt.getTime() <= before.getTime() &&
      !exceptMergeShas.has(grant.mergeSha),
  );
}
