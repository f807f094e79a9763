import type { PrEvaluation } from '../../github/pr-evaluation.js';
import { formatDuration } from '../../requests/duration.js';
import type { Grant } from '../grant.js';

/**
 * What the lifecycle writes on GitHub: comments and revocation PRs. Every text carries a hidden
 * marker so that a rerun finds and updates it instead of adding another (anchors.md §4), and
 * every text is a pure function of its inputs so that a rerun with nothing new writes nothing.
 */

export const grantMarker = (id: string): string => `<!-- gatehouse:grant=${id} -->`;
export const revokeMarker = (id: string): string => `<!-- gatehouse:revoke=${id} -->`;
export const reminderMarker = (id: string): string => `<!-- gatehouse:reminder=${id} -->`;
export const reopenMarker = (id: string, pr: number): string =>
  `<!-- gatehouse:reopened=${id}:${pr} -->`;
export const REFUSAL_MARKER = '<!-- gatehouse:activation-refused -->';

const iso = (at: Date): string => at.toISOString();
const mention = (login: string): string => `@${login}`;

/** POSIX-shell double quotes: the text stays readable and `"`, `\`, `$` and backquotes are
 * escaped, so the printed command runs as shown. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_.,:/@+-]+$/.test(text)) return text;
  return `"${text.replace(/(["\\$`])/g, '\\$1').replace(/\s+/g, ' ')}"`;
}

/** The exact command that asks for the same access again (an extension is a new PR, approved
 * again; issue 4 and anchors.md §2 "bounded extensions"). */
export function extendCommand(grant: Grant): string {
  const lifetime = formatDuration(grant.expiresAt.getTime() - grant.activatedAt.getTime());
  const ticket = grant.ticket === null ? '' : ` --ticket ${shellQuote(grant.ticket)}`;
  return `gatehouse request ${shellQuote(grant.database)} --tables ${shellQuote(grant.tables.join(','))} --for ${lifetime} --reason ${shellQuote(grant.reason)}${ticket}`;
}

function queryExample(grant: Grant): string {
  const table = grant.tables[0];
  const sql = table === undefined || table === '*' ? 'SELECT 1' : `SELECT * FROM ${table} LIMIT 10`;
  return `gatehouse query ${shellQuote(grant.database)} "${sql}"`;
}

export interface ActivationNote {
  readonly clamped: boolean;
  /** What the file asked for, when it was cut to the level's maximum. */
  readonly requestedUntil: Date;
  readonly maxDurationMs: number;
}

export function activationComment(grant: Grant, note: ActivationNote): string {
  const approvers =
    grant.approvers.length === 0
      ? 'nobody (no approval was required)'
      : grant.approvers.map((a) => `${mention(a.login)} (review ${a.reviewId})`).join(', ');
  const lines = [
    grantMarker(grant.id),
    `**Gatehouse**: access granted for \`${grant.filePath}\`.`,
    '',
    `- Grant \`${grant.id}\`: ${mention(grant.requester)} may read \`${grant.tables.join('`, `')}\` on \`${grant.database}\` (level \`${grant.level}\`).`,
    `- Active from ${iso(grant.activatedAt)} (the merge) until ${iso(grant.expiresAt)}.`,
  ];
  if (note.clamped) {
    lines.push(
      `- The request asked for access until ${iso(note.requestedUntil)}, beyond the level's maximum of ${formatDuration(note.maxDurationMs)}; the grant ends at the maximum (\`GRANT_DURATION_CLAMPED\`).`,
    );
  }
  lines.push(
    `- Approved by ${approvers}.`,
    '',
    'Query through Gatehouse (access ends by itself at the time above):',
    '```sh',
    queryExample(grant),
    '```',
    `To revoke it early, open a pull request that deletes \`${grant.filePath}\` (by ${mention(grant.requester)}, no approval is needed). To extend it, request again: a new pull request, approved again.`,
  );
  return lines.join('\n');
}

export function refusalComment(evaluation: PrEvaluation): string {
  const reasons = [
    ...evaluation.diagnostics.map((d) => `\`${d.code}\` ${d.message}`),
    ...evaluation.files.flatMap((file) => [
      ...file.diagnostics.map((d) => `\`${file.path}\`: \`${d.code}\` ${d.message}`),
      ...(file.status === 'awaiting_approval'
        ? [`\`${file.path}\`: approvals were missing when it was merged.`]
        : []),
    ]),
  ];
  return [
    REFUSAL_MARKER,
    '**Gatehouse**: this pull request was merged, but **no access was granted** (`GRANT_ACTIVATION_REFUSED`).',
    '',
    `Re-evaluated as of its merge (policy from the base, reviews on the merged head): ${evaluation.title}.`,
    '',
    ...(reasons.length === 0 ? [] : reasons.map((reason) => `- ${reason}`)),
    '',
    'Merging without the required approvals (for example by bypassing branch protection) never activates a grant. The refusal is in the audit log. To get access, open a new request and have it approved before merging.',
  ].join('\n');
}

export function reminderComment(grant: Grant, now: Date): string {
  const minutes = Math.max(0, Math.round((grant.expiresAt.getTime() - now.getTime()) / 60_000));
  return [
    reminderMarker(grant.id),
    `**Gatehouse**: ${mention(grant.requester)}, grant \`${grant.id}\` on \`${grant.database}\` expires at ${iso(grant.expiresAt)} (in about ${minutes} min).`,
    '',
    'To keep access, request it again (a new pull request, approved again):',
    '```sh',
    extendCommand(grant),
    '```',
  ].join('\n');
}

export function revocationTitle(grant: Grant): string {
  return `Revoke expired access: ${grant.filePath}`;
}

export function revocationBody(grant: Grant): string {
  const approvers =
    grant.approvers.length === 0
      ? 'nobody'
      : grant.approvers.map((a) => mention(a.login)).join(', ');
  return [
    revokeMarker(grant.id),
    `**Gatehouse**: grant \`${grant.id}\` expired at ${iso(grant.expiresAt)}. This pull request deletes its request file \`${grant.filePath}\`.`,
    '',
    `Access already ended at that time: the gateway checks expiry on every query. This pull request only tidies the repository, so it needs no approval: merge it once the check is green. Closing it without merging does not restore access; Gatehouse reopens it on its next sweep.`,
    '',
    `- Requester: ${mention(grant.requester)}`,
    `- Approved by: ${approvers}`,
    `- Database \`${grant.database}\`, tables \`${grant.tables.join('`, `')}\``,
    `- Granted by #${grant.prNumber} (merge ${grant.mergeSha.slice(0, 12)}), active ${iso(grant.activatedAt)} to ${iso(grant.expiresAt)}`,
    '',
    `To keep access, request it again: \`${extendCommand(grant)}\``,
  ].join('\n');
}

export function reopenedComment(
  grant: Grant,
  how: 'reopened' | 'recreated',
  previous: number,
): string {
  const what =
    how === 'reopened'
      ? `Gatehouse reopened this pull request: it was closed without merging`
      : `Gatehouse opened this pull request again: #${previous} was closed without merging`;
  return [
    reopenMarker(grant.id, previous),
    `**Gatehouse**: ${what}, but grant \`${grant.id}\` has expired and its request file must leave the default branch. Access ended at ${iso(grant.expiresAt)} either way.`,
  ].join('\n');
}
