import type { Grant } from '../../grants/grant.js';
import type { AuditRecord } from '../audit-record.js';

/**
 * The whole story of one grant, for `gatehouse audit grant` (issue 6): what was asked, who
 * approved it in which review, when it became active and until when, every query made under
 * it, the reminders, the revocation PR and how it ended. It joins the two things an auditor
 * reads (the grant derived from git, and the audit records) into one account. Pure: the
 * command does the reading.
 *
 * `records` are the audit records that mention the grant (its id in grantIds, or its PR or
 * revocation PR in prNumbers), in any order; duplicates are ignored.
 */
export interface GrantStory {
  readonly grantId: string | null;
  readonly request: {
    readonly filePath: string | null;
    readonly repo: string | null;
    readonly requester: string | null;
    readonly database: string | null;
    readonly tables: readonly string[];
    readonly access: string | null;
    readonly level: string | null;
    readonly reason: string | null;
    readonly ticket: string | null;
    readonly requestedAt: string | null;
  };
  readonly pullRequest: { readonly number: number | null; readonly url: string | null };
  readonly approvals: readonly {
    readonly login: string;
    readonly reviewId: number | null;
    readonly at: string | null;
  }[];
  readonly activation: {
    readonly at: string | null;
    readonly mergeSha: string | null;
    readonly headSha: string | null;
    readonly expiresAt: string | null;
    readonly refused: { readonly at: string; readonly reason: string } | null;
  };
  readonly queries: readonly StoryQuery[];
  readonly reminders: readonly { readonly at: string; readonly seq: number }[];
  readonly revocationPr: {
    readonly number: number | null;
    readonly url: string | null;
    readonly openedAt: string | null;
    readonly mergedAt: string | null;
  } | null;
  readonly end: {
    readonly kind: 'revoked' | 'expired';
    readonly at: string;
    readonly by: string | null;
    readonly reason: string | null;
  } | null;
  /** Every record, in seq order: the raw timeline behind the summary. */
  readonly timeline: readonly {
    readonly seq: number;
    readonly at: string;
    readonly type: string;
    readonly actor: string | null;
    readonly decision: string | null;
  }[];
}

export interface StoryQuery {
  readonly seq: number;
  readonly at: string;
  readonly user: string | null;
  readonly database: string | null;
  readonly sql: string | null;
  readonly tables: readonly string[];
  /** allowed at the attempt; the outcome's succeeded/failed once it is recorded. */
  readonly decision: string | null;
  readonly code: string | null;
  readonly rows: number | null;
  readonly durationMs: number | null;
  readonly outcomeSeq: number | null;
  readonly requestId: string | null;
  readonly clientAddress: string | null;
}

export function buildGrantStory(grant: Grant | null, records: readonly AuditRecord[]): GrantStory {
  const bySeq = new Map<number, AuditRecord>();
  for (const record of records) bySeq.set(record.seq, record);
  const ordered = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const first = (type: AuditRecord['type']) => ordered.find((r) => r.type === type);
  const last = (type: AuditRecord['type']) => ordered.findLast((r) => r.type === type);
  const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);

  const requested = first('grant.requested');
  const activated = last('grant.activated');
  const refusedActivation = last('grant.activation_refused');
  const allApproved = ordered.filter((r) => r.type === 'grant.approved');
  const grantId = grant?.id ?? activated?.grantIds?.[0] ?? null;
  const prNumber =
    grant?.prNumber ??
    [activated, requested, refusedActivation, allApproved[0]]
      .map((r) => r?.prNumbers?.[0])
      .find((n) => n !== undefined) ??
    null;
  // Only the approvals of the grant's own PR: the records also hold the revocation PR's
  // approval (it names this grant too), which approved the end of access, not the access.
  const approvedRecords = allApproved.filter(
    (r) => prNumber === null || (r.prNumbers ?? []).includes(prNumber),
  );

  // Approvals: the grant holds the reviews that counted (login + review id); approval records
  // say when the gate turned green. Logins from records that the grant lacks are kept too.
  const approvedAt = iso(approvedRecords.at(-1)?.at);
  const approvals = new Map<
    string,
    { login: string; reviewId: number | null; at: string | null }
  >();
  for (const approver of grant?.approvers ?? []) {
    approvals.set(approver.login.toLowerCase(), {
      login: approver.login,
      reviewId: approver.reviewId,
      at: approvedAt,
    });
  }
  for (const record of [...approvedRecords, ...(activated ? [activated] : [])]) {
    for (const login of record.approvers ?? []) {
      if (!approvals.has(login.toLowerCase())) {
        approvals.set(login.toLowerCase(), { login, reviewId: null, at: iso(record.at) });
      }
    }
  }

  // Queries: attempts that used this grant, completed by the outcome that names them.
  const outcomes = new Map<number, AuditRecord>();
  for (const record of ordered) {
    if (record.type === 'query.outcome' && record.parentSeq != null) {
      outcomes.set(record.parentSeq, record);
    }
  }
  const queries: StoryQuery[] = ordered
    .filter(
      (r) =>
        r.type === 'query.attempt' && (grantId === null || (r.grantIds ?? []).includes(grantId)),
    )
    .map((attempt) => {
      const outcome = outcomes.get(attempt.seq);
      const details = outcome?.details ?? {};
      return {
        seq: attempt.seq,
        at: attempt.at.toISOString(),
        user: attempt.actor,
        database: attempt.database ?? null,
        sql: attempt.sql ?? null,
        tables: attempt.tables ?? [],
        decision: outcome?.decision ?? attempt.decision ?? null,
        code: outcome?.code ?? attempt.code ?? null,
        rows: numberOr(details['rows']),
        durationMs: numberOr(details['durationMs']),
        outcomeSeq: outcome?.seq ?? null,
        requestId: attempt.requestId ?? null,
        clientAddress: attempt.clientAddress ?? null,
      };
    });

  const opened = last('grant.revocation_pr_opened');
  const merged = last('grant.revocation_pr_merged');
  const revocationNumber =
    grant?.revocationPrNumber ??
    revocationPrNumberOf(opened, prNumber) ??
    revocationPrNumberOf(merged, prNumber);
  const revocationPr =
    revocationNumber === null && opened === undefined && merged === undefined
      ? null
      : {
          number: revocationNumber,
          url: opened?.prUrl ?? merged?.prUrl ?? null,
          openedAt: iso(opened?.at),
          mergedAt: iso(merged?.at),
        };

  const revoked = last('grant.revoked');
  const expired = last('grant.expired');
  let end: GrantStory['end'] = null;
  if (grant?.revokedAt) {
    end = {
      kind: 'revoked',
      at: grant.revokedAt.toISOString(),
      by: grant.revokedBy,
      reason: grant.revokeReason,
    };
  } else if (revoked) {
    end = {
      kind: 'revoked',
      at: revoked.at.toISOString(),
      by: revoked.actor,
      reason: textOr(revoked.details?.['reason']),
    };
  } else if (expired) {
    end = { kind: 'expired', at: expired.at.toISOString(), by: null, reason: null };
  }

  const requestDetails = requested?.details ?? {};
  return {
    grantId,
    request: {
      filePath: grant?.filePath ?? textOr(requestDetails['filePath']),
      repo: grant?.repo ?? textOr(requestDetails['repo']),
      requester: grant?.requester ?? requested?.actor ?? activated?.actor ?? null,
      database: grant?.database ?? requested?.database ?? activated?.database ?? null,
      tables: grant?.tables ?? requested?.tables ?? activated?.tables ?? [],
      access: grant?.access ?? textOr(requestDetails['access']),
      level: grant?.level ?? textOr(requestDetails['level']),
      reason: grant?.reason ?? textOr(requestDetails['reason']),
      ticket: grant?.ticket ?? textOr(requestDetails['ticket']),
      requestedAt: iso(requested?.at),
    },
    pullRequest: {
      number: prNumber,
      url:
        grant?.prUrl ??
        [activated, requested, refusedActivation, approvedRecords[0]]
          .map((r) => r?.prUrl)
          .find((url) => url !== undefined && url !== null) ??
        null,
    },
    approvals: [...approvals.values()],
    activation: {
      at: iso(grant?.activatedAt ?? activated?.at),
      mergeSha: grant?.mergeSha ?? activated?.mergeSha ?? null,
      headSha: grant?.headSha ?? textOr(activated?.details?.['headSha']),
      expiresAt: iso(grant?.expiresAt) ?? textOr(activated?.details?.['expiresAt']),
      refused: refusedActivation
        ? {
            at: refusedActivation.at.toISOString(),
            reason:
              textOr(refusedActivation.details?.['reason']) ??
              textOr(refusedActivation.details?.['message']) ??
              refusedActivation.code ??
              'refused',
          }
        : null,
    },
    queries,
    reminders: ordered
      .filter((r) => r.type === 'grant.reminder_sent')
      .map((r) => ({ at: r.at.toISOString(), seq: r.seq })),
    revocationPr,
    end,
    timeline: ordered.map((r) => ({
      seq: r.seq,
      at: r.at.toISOString(),
      type: r.type,
      actor: r.actor,
      decision: r.decision ?? null,
    })),
  };
}

/** The story as text (for a terminal) or as pretty JSON (for tools). */
export function renderGrantStory(
  grant: Grant | null,
  records: readonly AuditRecord[],
  format: 'text' | 'json',
): string {
  const story = buildGrantStory(grant, records);
  if (format === 'json') return `${JSON.stringify(story, null, 2)}\n`;
  return renderText(story);
}

function renderText(story: GrantStory): string {
  const out: string[] = [];
  const line = (text = '') => out.push(printable(text));
  const or = (value: string | number | null | undefined, fallback = 'unknown') =>
    value === null || value === undefined || value === '' ? fallback : String(value);

  const r = story.request;
  line(`Grant ${or(story.grantId, '(no grant id: never activated)')}`);
  line();
  line('Request');
  line(`  file       ${or(r.filePath)}${r.repo ? ` in ${r.repo}` : ''}`);
  line(`  requester  ${or(r.requester)}`);
  line(`  database   ${or(r.database)}`);
  line(`  tables     ${r.tables.length > 0 ? r.tables.join(', ') : 'unknown'}`);
  line(`  access     ${or(r.access)}${r.level ? `, risk level ${r.level}` : ''}`);
  line(`  reason     ${or(r.reason)}`);
  line(`  ticket     ${or(r.ticket, 'none')}`);
  if (r.requestedAt) line(`  requested  ${r.requestedAt}`);
  line();
  line('Pull request');
  line(
    `  ${story.pullRequest.number === null ? 'unknown' : `#${story.pullRequest.number}`}${story.pullRequest.url ? `  ${story.pullRequest.url}` : ''}`,
  );
  line();
  line('Approvals');
  if (story.approvals.length === 0) line('  none recorded');
  for (const a of story.approvals) {
    line(
      `  ${a.login}${a.reviewId === null ? '' : `  review ${a.reviewId}`}${a.at ? `  (gate green ${a.at})` : ''}`,
    );
  }
  line();
  line('Activation');
  const act = story.activation;
  if (act.refused) line(`  REFUSED at ${act.refused.at}: ${act.refused.reason}`);
  if (act.at || act.mergeSha) {
    line(`  merged     ${or(act.mergeSha)}${act.headSha ? ` (head ${act.headSha})` : ''}`);
    line(`  active     ${or(act.at)}`);
    line(`  expires    ${or(act.expiresAt)}`);
  } else if (!act.refused) {
    line('  not activated');
  }
  line();
  line(`Queries (${story.queries.length})`);
  if (story.queries.length === 0) line('  none');
  for (const q of story.queries) {
    const result = [
      or(q.decision, 'no outcome recorded'),
      q.code,
      q.rows === null ? null : `${q.rows} row${q.rows === 1 ? '' : 's'}`,
      q.durationMs === null ? null : `${q.durationMs} ms`,
    ]
      .filter((x): x is string => x !== null && x !== undefined)
      .join(', ');
    line(`  [${q.seq}] ${q.at}  ${or(q.user)} on ${or(q.database)}: ${result}`);
    line(`        ${or(q.sql, '(no SQL recorded)').replace(/\s+/g, ' ').trim()}`);
  }
  line();
  line('Reminders');
  if (story.reminders.length === 0) line('  none');
  for (const reminder of story.reminders) line(`  sent ${reminder.at}`);
  line();
  line('Revocation');
  const rev = story.revocationPr;
  if (rev !== null) {
    line(
      `  revocation PR ${rev.number === null ? '' : `#${rev.number}`}${rev.url ? ` ${rev.url}` : ''}`.trimEnd(),
    );
    if (rev.openedAt) line(`  opened     ${rev.openedAt}`);
    if (rev.mergedAt) line(`  merged     ${rev.mergedAt}`);
  }
  if (story.end?.kind === 'revoked') {
    line(
      `  revoked    ${story.end.at}${story.end.by ? ` by ${story.end.by}` : ''}${story.end.reason ? `: ${story.end.reason}` : ''}`,
    );
  } else if (story.end?.kind === 'expired') {
    line(`  expired    ${story.end.at}`);
  } else if (rev === null) {
    line(`  not revoked${act.expiresAt ? `; access ends by itself at ${act.expiresAt}` : ''}`);
  }
  line();
  line(`Audit records (${story.timeline.length})`);
  for (const t of story.timeline) {
    line(
      `  ${String(t.seq).padStart(7)}  ${t.at}  ${t.type.padEnd(26)}  ${or(t.actor, '-').padEnd(16)}  ${t.decision ?? ''}`.trimEnd(),
    );
  }
  return `${out.join('\n')}\n`;
}

function revocationPrNumberOf(
  record: AuditRecord | undefined,
  grantPr: number | null,
): number | null {
  if (record === undefined) return null;
  const fromDetails = numberOr(
    record.details?.['revocationPrNumber'] ?? record.details?.['prNumber'],
  );
  if (fromDetails !== null) return fromDetails;
  return (record.prNumbers ?? []).find((n) => n !== grantPr) ?? null;
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function textOr(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** SQL and reasons are typed by users: control characters are shown escaped so they cannot
 * drive the auditor's terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\t' ? '\\t' : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
