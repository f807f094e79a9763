/** `gatehouse audit grant`: the pure story rendering, and the command that gathers a grant's
 * records (by grant id, its PR and its revocation PR) from both stores. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import { buildGrantStory, renderGrantStory } from '../../src/audit/tools/grant-story.js';
import { MemoryAuditLog } from './support/memory-audit-log.js';
import { runAudit } from '../../src/cli/commands/audit.js';
import type { Grant } from '../../src/grants/grant.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from '../state/support/adapters.js';
import { captureIo } from './support/capture-io.js';
import { GRANT, PR, REVOCATION_PR, TRICKY_SQL, at, seedLog } from './support/seed.js';

const grant: Grant = {
  id: GRANT,
  repo: 'acme/access',
  requester: 'alice',
  database: 'hr_prod',
  tables: ['employee'],
  access: 'read',
  level: 'medium',
  reason: 'Incident INC-42: payroll export failing',
  ticket: 'INC-42',
  filePath: 'access/hr_prod/alice-incident.yaml',
  prNumber: PR,
  prUrl: `https://github.com/acme/access/pull/${PR}`,
  headSha: 'b'.repeat(40),
  mergeSha: 'c'.repeat(40),
  approvers: [{ login: 'dba-dora', reviewId: 9001 }],
  activatedAt: at(1),
  expiresAt: at(241),
  revokedAt: null,
  revokedBy: null,
  revokeReason: null,
  reminderSentAt: at(200),
  revocationPrNumber: REVOCATION_PR,
};

async function seededRecords(): Promise<AuditRecord[]> {
  const log = new MemoryAuditLog(() => at(0));
  return seedLog(log);
}

describe('renderGrantStory', () => {
  it('tells the request, PR, approvals, activation, queries, reminders, revocation PR and expiry', async () => {
    const records = await seededRecords();
    // Records that mention the grant or its PRs, as the command gathers them.
    const mine = records.filter(
      (r) =>
        r.grantIds?.includes(GRANT) ||
        r.prNumbers?.includes(PR) ||
        r.prNumbers?.includes(REVOCATION_PR),
    );
    const text = renderGrantStory(grant, [...mine].reverse(), 'text');
    const expected = [
      `Grant ${GRANT}`,
      '',
      'Request',
      '  file       access/hr_prod/alice-incident.yaml in acme/access',
      '  requester  alice',
      '  database   hr_prod',
      '  tables     employee',
      '  access     read, risk level medium',
      '  reason     Incident INC-42: payroll export failing',
      '  ticket     INC-42',
      '',
      'Pull request',
      `  #${PR}  https://github.com/acme/access/pull/${PR}`,
      '',
      'Approvals',
      `  dba-dora  review 9001  (gate green ${at(0).toISOString()})`,
      '',
      'Activation',
      `  merged     ${'c'.repeat(40)} (head ${'b'.repeat(40)})`,
      `  active     ${at(1).toISOString()}`,
      `  expires    ${at(241).toISOString()}`,
      '',
      'Queries (1)',
      `  [3] ${at(2).toISOString()}  alice on hr_prod: succeeded, 5 rows, 12 ms`,
      `        SELECT * FROM employee WHERE name = 'Zoë, "the" boss' AND note = '\\x1b[31mred'`,
      '',
      'Reminders',
      `  sent ${at(200).toISOString()}`,
      '',
      'Revocation',
      `  revocation PR #${REVOCATION_PR} https://github.com/acme/access/pull/${REVOCATION_PR}`,
      `  opened     ${at(241).toISOString()}`,
      `  expired    ${at(241).toISOString()}`,
      '',
      'Audit records (7)',
    ];
    expect(text.split('\n').slice(0, expected.length)).toEqual(expected);
    expect(text).toMatch(/^\s+4  \S+  query\.outcome\s+alice\s+succeeded$/m);
    expect(text).not.toContain('\u001b');
  });

  it('json: the same story as data, queries joined with their outcomes', async () => {
    const records = await seededRecords();
    const story = JSON.parse(renderGrantStory(grant, records, 'json')) as ReturnType<
      typeof buildGrantStory
    >;
    expect(story.grantId).toBe(GRANT);
    expect(story.approvals).toEqual([
      { login: 'dba-dora', reviewId: 9001, at: at(0).toISOString() },
    ]);
    // Only queries made under this grant: not bob's refused one, nor his under another grant.
    expect(story.queries.map((q) => q.seq)).toEqual([3]);
    expect(story.queries[0]).toMatchObject({
      seq: 3,
      user: 'alice',
      sql: TRICKY_SQL,
      decision: 'succeeded',
      rows: 5,
      durationMs: 12,
      outcomeSeq: 4,
      requestId: 'req-1',
      clientAddress: '10.0.0.7',
    });
    expect(story.end).toEqual({
      kind: 'expired',
      at: at(241).toISOString(),
      by: null,
      reason: null,
    });
    expect(story.revocationPr).toMatchObject({ number: REVOCATION_PR, mergedAt: null });
  });

  it("approvals come from the grant's own PR, not from its revocation PR", async () => {
    const records = await seededRecords();
    const log = new MemoryAuditLog(() => at(300));
    const revocationApproval = await log.append({
      type: 'grant.approved',
      actor: 'gatehouse',
      grantIds: [GRANT],
      prNumbers: [REVOCATION_PR],
      approvers: ['dba-dave'],
    });
    const story = buildGrantStory(grant, [...records, { ...revocationApproval, seq: 10_000 }]);
    expect(story.approvals.map((a) => a.login)).toEqual(['dba-dora']);
    expect(story.approvals[0]?.at).toBe(at(0).toISOString());
  });

  it('a revoked grant ends with who revoked it and why', () => {
    const revoked = {
      ...grant,
      revokedAt: at(30),
      revokedBy: 'dba-dora',
      revokeReason: 'incident closed',
    };
    const text = renderGrantStory(revoked, [], 'text');
    expect(text).toContain(`  revoked    ${at(30).toISOString()} by dba-dora: incident closed`);
    expect(text).toContain('Queries (0)\n  none');
  });

  it('without a grant (activation refused), tells what the records know', async () => {
    const log = new MemoryAuditLog(() => at(0));
    const records = [
      await log.append({
        type: 'grant.activation_refused',
        actor: 'gatehouse',
        database: 'hr_prod',
        prNumbers: [77],
        prUrl: 'https://github.com/acme/access/pull/77',
        mergeSha: 'f'.repeat(40),
        code: 'GRANT_ACTIVATION_REFUSED',
        details: { reason: 'approvals were dismissed before the merge' },
      }),
    ];
    const text = renderGrantStory(null, records, 'text');
    expect(text).toContain('Grant (no grant id: never activated)');
    expect(text).toContain('  #77  https://github.com/acme/access/pull/77');
    expect(text).toContain(
      `  REFUSED at ${at(0).toISOString()}: approvals were dismissed before the merge`,
    );
    expect(text).toContain('Approvals\n  none recorded');
  });
});

for (const adapter of ADAPTERS) {
  describe(`gatehouse audit grant (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, () => at(0));
      await seedLog(state.audit);
      const {
        revokedAt,
        revokedBy,
        revokeReason,
        reminderSentAt,
        revocationPrNumber,
        ...newGrant
      } = grant;
      void [revokedAt, revokedBy, revokeReason, reminderSentAt, revocationPrNumber];
      await state.grants.insert(newGrant);
      await state.grants.setRevocationPr(GRANT, REVOCATION_PR);
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
    });

    async function run(args: string[]) {
      const io = captureIo();
      const s = fixture.config.kind === 'sqlite' ? fixture.config.path : fixture.config.url;
      const code = await runAudit([...args, '--state', s], io);
      return { code, out: io.out(), err: io.err() };
    }

    it('by grant id and by PR number: the same story, with records from the grant, its PR and its revocation PR', async () => {
      const byId = await run(['grant', GRANT, '--format', 'json']);
      expect(byId.err).toBe('');
      expect(byId.code).toBe(0);
      const story = JSON.parse(byId.out) as ReturnType<typeof buildGrantStory>;
      expect(story.timeline.map((t) => t.seq)).toEqual([1, 2, 3, 4, 8, 9, 10]);
      expect(story.queries.map((q) => q.seq)).toEqual([3]);
      expect(story.revocationPr?.number).toBe(REVOCATION_PR);
      const byPr = await run(['grant', String(PR), '--format', 'json']);
      expect(byPr.out).toBe(byId.out);
      const text = await run(['grant', `#${PR}`]);
      expect(text.code).toBe(0);
      expect(text.out).toContain('  dba-dora  review 9001');
    });

    it('an unknown grant or PR is GRANT_NOT_FOUND; a malformed one a usage error', async () => {
      const unknown = await run(['grant', 'g_00000000000000000000']);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toContain('GRANT_NOT_FOUND');
      expect((await run(['grant', '999'])).err).toContain('GRANT_NOT_FOUND');
      expect((await run(['grant', 'alice'])).code).toBe(2);
      expect((await run(['grant'])).code).toBe(2);
    });
  });
}
