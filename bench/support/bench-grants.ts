import { createHash } from 'node:crypto';
import { grantId } from '../../src/grants/grant-id.js';
import type { NewGrant } from '../../src/grants/grant.js';

export const BENCH_REPO = 'acme/access';

/** A grant as activation would write it (approvers, PR, SHAs), for seeding stores. */
export function benchGrant(input: {
  readonly requester: string;
  readonly database: string;
  readonly tables: readonly string[];
  readonly activatedAt: Date;
  readonly expiresAt: Date;
  /** Distinguishes several grants of one requester on one database. */
  readonly serial: number;
}): NewGrant {
  const filePath = `access/${input.database}/${input.requester}-${input.serial}.yaml`;
  const mergeSha = createHash('sha1')
    .update(`${input.requester}\n${input.database}\n${input.serial}`)
    .digest('hex');
  return {
    id: grantId(BENCH_REPO, filePath, mergeSha),
    repo: BENCH_REPO,
    requester: input.requester,
    database: input.database,
    tables: input.tables,
    access: 'read',
    level: 'medium',
    reason: 'Benchmark: investigating INC-4242',
    ticket: 'INC-4242',
    filePath,
    prNumber: 1000 + input.serial,
    prUrl: `https://github.com/${BENCH_REPO}/pull/${1000 + input.serial}`,
    headSha: 'a'.repeat(40),
    mergeSha,
    approvers: [{ login: 'dba-one', reviewId: 2_000_000 + input.serial }],
    activatedAt: input.activatedAt,
    expiresAt: input.expiresAt,
  };
}
