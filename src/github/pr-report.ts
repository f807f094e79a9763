import type { ResolvedRequirement } from '../policy/risk-decision.js';
import type { Diagnostic } from '../util/diagnostic.js';
import type { ReviewReason, ReviewVerdict } from './approval/count-approvals.js';
import type {
  CheckAnnotation,
  CheckConclusion,
  FileEvaluation,
  PrIdentity,
} from './pr-evaluation.js';

/**
 * Renders a PR evaluation for humans: the check-run title, summary and annotations, and the
 * comment for the requester. Pure text; limits are GitHub's
 * (https://docs.github.com/en/rest/checks/runs#update-a-check-run): output.summary and
 * output.text at most 65535 characters, at most 50 annotations per request.
 */

/** Hidden marker that identifies the one Gatehouse comment on a PR (updated in place). */
export const COMMENT_MARKER = '<!-- gatehouse:comment -->';
export const MAX_SUMMARY_CHARS = 65_535;
export const MAX_ANNOTATIONS = 50;
const MAX_TITLE_CHARS = 200;

const REASON_TEXT: Record<ReviewReason, string> = {
  counted: 'counted',
  not_needed: 'not needed (requirement already met)',
  not_latest: 'superseded by a later review',
  stale_commit: 'made before the latest push',
  author: 'by the pull request author',
  committer: 'by an author or committer of a commit in the pull request',
  not_qualified: 'reviewer does not qualify',
  dismissed: 'dismissed',
  changes_requested: 'changes requested',
  commented: 'comment only',
  pending: 'not submitted',
  no_user: 'account deleted',
};

function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

function at(name: string): string {
  return name.includes('@') && !name.startsWith('@') ? name : `@${name.replace(/^@/, '')}`;
}

/** Who may approve a requirement, e.g. `@acme/security` or `CODEOWNERS of the file (@dora)`. */
export function whoCanApprove(req: ResolvedRequirement): string {
  const parts = [...req.from.users.map(at), ...req.from.teams.map(at)];
  if (req.from.codeowners) {
    parts.push(
      req.codeowners.length === 0
        ? 'CODEOWNERS of the file (none)'
        : `CODEOWNERS of the file (${req.codeowners.map(at).join(', ')})`,
    );
  }
  return parts.length === 0 ? 'nobody' : parts.join(' or ');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function levelTitle(level: string | null): string {
  return level === null ? 'No risk level' : `${capitalize(level)} risk`;
}

function countsOf(files: readonly FileEvaluation[]): { counted: number; required: number } {
  let counted = 0;
  let required = 0;
  for (const file of files) {
    for (const outcome of file.approvals.requirements) {
      required += outcome.requirement.count;
      counted += Math.min(outcome.requirement.count, outcome.approvedBy.length);
    }
  }
  return { counted, required };
}

function missingWho(files: readonly FileEvaluation[]): string[] {
  const who = new Set<string>();
  for (const file of files) {
    for (const outcome of file.approvals.requirements) {
      if (outcome.missing > 0) who.add(whoCanApprove(outcome.requirement));
    }
  }
  return [...who];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderTitle(input: {
  readonly conclusion: CheckConclusion;
  readonly level: string | null;
  readonly files: readonly FileEvaluation[];
  readonly diagnostics: readonly Diagnostic[];
}): string {
  const { files, diagnostics, level } = input;
  const first = diagnostics[0];
  if (first !== undefined) return truncate(`Refused: ${first.message}`, MAX_TITLE_CHARS);
  const denied = files.find((f) => f.status === 'denied');
  if (denied?.decision?.kind === 'deny') {
    return truncate(
      `Denied (${denied.decision.level}): ${denied.decision.message}`,
      MAX_TITLE_CHARS,
    );
  }
  const errored = files.find((f) => f.status === 'error');
  if (errored?.decision?.kind === 'error') {
    return truncate(`Error: ${errored.decision.message}`, MAX_TITLE_CHARS);
  }
  const invalid = files.filter((f) => f.status === 'invalid');
  if (invalid.length > 0) {
    const count = invalid.reduce((n, f) => n + f.diagnostics.length, 0);
    return truncate(
      `Invalid: ${count} problem${count === 1 ? '' : 's'} in ${invalid.map((f) => f.path).join(', ')}`,
      MAX_TITLE_CHARS,
    );
  }
  const freeRevocations = files.every(
    (f) => f.kind === 'revocation' && f.requirements.length === 0,
  );
  if (freeRevocations) {
    const ended = files.filter((f) => f.revocation?.grant.state === 'inactive');
    if (ended.length === 0) return 'Revocation by the requester: no approval needed';
    if (ended.length === files.length) {
      const why =
        ended.length === 1 && ended[0] !== undefined
          ? noApprovalReason(ended[0])
          : `${ended.length} files whose grants are over; deleting them removes no access`;
      return truncate(`Revocation of ended access: no approval needed (${why})`, MAX_TITLE_CHARS);
    }
    return 'Revocation: no approval needed';
  }
  const prefix = files.some((f) => f.kind === 'meta')
    ? `Policy change (${level ?? 'meta'} risk)`
    : levelTitle(level);
  const { counted, required } = countsOf(files);
  let title = `${prefix}: ${counted} of ${required} approval${required === 1 ? '' : 's'}`;
  const blockers = files.flatMap((f) => f.approvals.blockedBy.map((b) => at(b.login)));
  if (blockers.length > 0) title += `; changes requested by ${[...new Set(blockers)].join(', ')}`;
  const who = missingWho(files);
  if (who.length > 0) title += `; needs ${who.join(', ')}`;
  return truncate(title, MAX_TITLE_CHARS);
}

/** Why a revocation needs no approval, e.g. "the grant for this file expired at …; deleting it
 * removes no access". */
export function noApprovalReason(file: FileEvaluation): string {
  const grant = file.revocation?.grant;
  if (grant?.state === 'inactive') {
    const why =
      grant.last === null
        ? 'this file backs no grant (it was never activated)'
        : `the grant for this file ${grant.last.ended === 'expired' ? 'expired' : 'was revoked'} at ${grant.last.at.toISOString()}`;
    return `${why}; deleting it removes no access`;
  }
  return 'the requester revokes their own access';
}

function grantStateRow(file: FileEvaluation): [string, string] | null {
  const grant = file.revocation?.grant;
  if (grant === undefined) return null;
  switch (grant.state) {
    case 'active':
      return [
        'Grant',
        `active (${grant.requesters.map(at).join(', ')}); deleting the file ends it${file.revocation?.byRequester === true ? '' : ', so one CODEOWNER approves'}`,
      ];
    case 'unknown':
      return [
        'Grant',
        `unknown: the grant store could not be read (${grant.cause}); treated as active${file.revocation?.byRequester === true ? '' : ', so one CODEOWNER approves'}`,
      ];
    case 'inactive':
      return [
        'Grant',
        grant.last === null
          ? 'never activated'
          : `${grant.last.ended} at ${grant.last.at.toISOString()} (${at(grant.last.requester)})`,
      ];
    case 'unchecked':
      return null;
  }
}

function reviewLine(verdict: ReviewVerdict): string {
  const who = verdict.login === null ? 'ghost' : at(verdict.login);
  const why = verdict.reasons.map((r) => REASON_TEXT[r]).join(', ');
  return `${who} (${verdict.state.toLowerCase()}, review ${verdict.reviewId}): ${why}`;
}

function requestRows(file: FileEvaluation): [string, string][] {
  const rows: [string, string][] = [];
  if (file.request !== undefined) {
    rows.push(['Database', `\`${file.request.database}\``]);
    rows.push(['Tables', file.request.tables.map((t) => `\`${t}\``).join(', ')]);
    rows.push([
      'Duration',
      file.request.lifetime.kind === 'duration'
        ? `${file.request.lifetime.text} from merge`
        : `until ${file.request.lifetime.text}`,
    ]);
    rows.push(['Requester', at(file.request.requester)]);
  }
  if (file.kind === 'revocation') {
    rows.push([
      'Revokes',
      file.revokedRequester === null || file.revokedRequester === undefined
        ? 'a request file whose requester could not be read'
        : `the request of ${at(file.revokedRequester)}`,
    ]);
    const state = grantStateRow(file);
    if (state !== null) rows.push(state);
  }
  return rows;
}

export function renderFileSection(file: FileEvaluation): string {
  const rows: [string, string][] = [['Status', file.status.replace(/_/g, ' ')]];
  rows.push(...requestRows(file));
  const decision = file.decision;
  if (decision?.kind === 'approve' || decision?.kind === 'deny') {
    rows.push(['Level', `${decision.level}${decision.kind === 'deny' ? ' (denied)' : ''}`]);
    rows.push(['Matched rule', `\`${decision.rule}\``]);
  }
  if (decision?.kind === 'deny') rows.push(['Denial', decision.message]);
  if (decision?.kind === 'error') rows.push(['Error', `${decision.code}: ${decision.message}`]);
  if (file.kind === 'revocation' && file.requirements.length === 0) {
    rows.push(['Approvals', `none needed (${noApprovalReason(file)})`]);
  }
  file.approvals.requirements.forEach((outcome) => {
    const approved = outcome.approvedBy.map((a) => at(a.login)).join(', ') || 'none yet';
    rows.push([
      `Approvals from ${whoCanApprove(outcome.requirement)}`,
      `${outcome.approvedBy.length} of ${outcome.requirement.count} (${approved})`,
    ]);
  });
  const notCounted = file.approvals.reviews.filter((r) => !r.counted);
  if (notCounted.length > 0) {
    rows.push(['Not counted', notCounted.map(reviewLine).join('<br>')]);
  }
  for (const blocker of file.approvals.blockedBy) {
    rows.push(['Blocked', `${at(blocker.login)} requested changes (review ${blocker.reviewId})`]);
  }
  for (const d of file.diagnostics) {
    const where = d.line > 0 ? `line ${d.line}, column ${d.column}` : 'file';
    rows.push([`\`${d.code}\``, `${where}${d.field === '' ? '' : ` (${d.field})`}: ${d.message}`]);
  }
  const table = rows.map(([k, v]) => `| ${escapeCell(k)} | ${escapeCell(v)} |`).join('\n');
  return `### \`${file.path}\` (${file.kind})\n\n| | |\n| --- | --- |\n${table}\n`;
}

export function renderSummary(input: {
  readonly files: readonly FileEvaluation[];
  readonly diagnostics: readonly Diagnostic[];
  readonly level: string | null;
  readonly headSha: string;
}): string {
  const parts: string[] = [];
  if (input.diagnostics.length > 0) {
    parts.push(
      '**The pull request is refused:**\n\n' +
        input.diagnostics.map((d) => `- \`${d.code}\`: ${d.message}`).join('\n') +
        '\n',
    );
  }
  if (input.files.length > 1 && input.level !== null) {
    parts.push(`The strictest level, **${input.level}**, governs this pull request.\n`);
  }
  for (const file of input.files) parts.push(renderFileSection(file));
  parts.push(
    `Approvals count only when made on the head commit \`${input.headSha.slice(0, 12)}\`, by someone who qualifies and did not author or commit any commit of this pull request. Policy and CODEOWNERS are read from the base branch.`,
  );
  const summary = parts.join('\n');
  return summary.length <= MAX_SUMMARY_CHARS
    ? summary
    : `${summary.slice(0, MAX_SUMMARY_CHARS - 40)}\n\n… (summary truncated)`;
}

export function toAnnotations(diagnostics: readonly Diagnostic[]): CheckAnnotation[] {
  return diagnostics
    .filter((d) => d.file !== '' && !d.file.endsWith('/'))
    .map((d) => {
      // GitHub requires start_line >= 1; column ranges are allowed only on a single line.
      const line = Math.max(1, d.line);
      return {
        path: d.file,
        startLine: line,
        endLine: line,
        ...(d.line > 0 && d.column > 0 ? { startColumn: d.column, endColumn: d.column } : {}),
        level: 'failure' as const,
        title: d.code,
        message: d.field === '' ? d.message : `${d.field}: ${d.message}`,
      };
    });
}

export function renderComment(input: {
  readonly pr: PrIdentity;
  readonly conclusion: CheckConclusion;
  readonly title: string;
  readonly files: readonly FileEvaluation[];
}): string {
  const lines: string[] = [COMMENT_MARKER, `**Gatehouse**: ${input.title}`, ''];
  if (input.conclusion === 'failure') {
    lines.push(
      'This pull request cannot be merged as it is. The check **Gatehouse / access policy** lists each problem, with annotations on the lines to fix. Push a fix and the check runs again.',
    );
  } else if (input.conclusion === 'action_required') {
    const who = missingWho(input.files);
    lines.push(
      `Waiting for approvals${who.length > 0 ? ` from ${who.join(', ')}` : ''}. Reviews count only on the latest commit: pushing again means approving again.`,
    );
  } else {
    lines.push('Every approval is in. The pull request can be merged.');
  }
  const requests = input.files.filter((f) => f.request !== undefined);
  if (requests.length > 0) {
    lines.push('', '**After merge**:');
    for (const file of requests) {
      const req = file.request!;
      const until =
        req.lifetime.kind === 'duration'
          ? `for ${req.lifetime.text} from the merge`
          : `until ${req.lifetime.text}`;
      lines.push(
        `- ${at(req.requester)} can read ${req.tables.map((t) => `\`${t}\``).join(', ')} on \`${req.database}\` ${until}, e.g. \`gatehouse query ${req.database} "SELECT …"\`. Access ends by itself; delete \`${file.path}\` in a pull request to end it early.`,
      );
    }
  }
  const revocations = input.files.filter((f) => f.kind === 'revocation');
  const ended = revocations.filter((f) => f.revocation?.grant.state === 'inactive');
  if (ended.length > 0) {
    lines.push('', '**No approval needed** for:');
    for (const file of ended) lines.push(`- \`${file.path}\`: ${noApprovalReason(file)}.`);
  }
  if (ended.length < revocations.length) {
    lines.push('', 'After merge, the revoked grants stop working immediately.');
  }
  return lines.join('\n');
}
