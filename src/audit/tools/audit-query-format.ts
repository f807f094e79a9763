import type { AuditRecord } from '../audit-record.js';
import { auditRecordJson } from './audit-record-json.js';

/** How `gatehouse audit` prints records. jsonl is lossless (every field, re-hashable); table
 * is for reading in a terminal; csv is for spreadsheets. */
export type AuditFormat = 'table' | 'jsonl' | 'csv';

export const AUDIT_FORMATS: readonly AuditFormat[] = ['table', 'jsonl', 'csv'];

/**
 * A streaming formatter: `header()` once, `record()` per record as pages arrive, `footer()`
 * at the end. Nothing is buffered, so an auditor can page through millions of records; the
 * table therefore uses fixed column widths (long values are cut with `…`).
 */
export interface AuditFormatter {
  header(): string;
  record(record: AuditRecord): string;
  footer(count: number): string;
}

export function auditFormatter(format: AuditFormat): AuditFormatter {
  switch (format) {
    case 'jsonl':
      return {
        header: () => '',
        record: (record) => `${JSON.stringify(auditRecordJson(record))}\n`,
        footer: () => '',
      };
    case 'csv':
      return {
        header: () => csvLine(CSV_COLUMNS.map(([name]) => name)),
        record: (record) => csvLine(CSV_COLUMNS.map(([, value]) => value(record))),
        footer: () => '',
      };
    case 'table':
      return {
        header: () => tableLine(TABLE_COLUMNS.map(([name]) => name)) + tableRule(),
        record: (record) => tableLine(TABLE_COLUMNS.map(([, , value]) => value(record))),
        footer: (count) => `(${count} record${count === 1 ? '' : 's'})\n`,
      };
  }
}

const list = (values: readonly (string | number)[] | undefined) => (values ?? []).join(' ');

/** CSV columns: every field of the record; lists space-separated, details as JSON. */
const CSV_COLUMNS: readonly (readonly [string, (r: AuditRecord) => string | number | null])[] = [
  ['seq', (r) => r.seq],
  ['at', (r) => r.at.toISOString()],
  ['type', (r) => r.type],
  ['actor', (r) => r.actor],
  ['database', (r) => r.database ?? null],
  ['decision', (r) => r.decision ?? null],
  ['code', (r) => r.code ?? null],
  ['grant_ids', (r) => list(r.grantIds)],
  ['pr_numbers', (r) => list(r.prNumbers)],
  ['pr_url', (r) => r.prUrl ?? null],
  ['merge_sha', (r) => r.mergeSha ?? null],
  ['approvers', (r) => list(r.approvers)],
  ['request_id', (r) => r.requestId ?? null],
  ['client_address', (r) => r.clientAddress ?? null],
  ['tables', (r) => list(r.tables)],
  ['sql', (r) => r.sql ?? null],
  ['sql_sha256', (r) => r.sqlSha256 ?? null],
  ['parent_seq', (r) => r.parentSeq ?? null],
  ['details', (r) => JSON.stringify(r.details ?? {})],
  ['prev_hash', (r) => r.prevHash],
  ['hash', (r) => r.hash],
];

/**
 * RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180): a field with a comma, quote or line
 * break is quoted with quotes doubled; records end with CRLF; null is an empty field.
 *
 * The log holds text that anyone with a token can type (refused SQL is recorded too), and a
 * spreadsheet runs a cell starting with = + - @ (or tab/CR) as a formula: CSV injection
 * (https://owasp.org/www-community/attacks/CSV_Injection). Such cells get a leading `'`, as
 * OWASP recommends; the jsonl format keeps the exact text.
 */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: readonly (string | number | null)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Control characters would break the grid and could drive the terminal (ANSI escapes in
 * typed SQL): shown escaped. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\t'
        ? '\\t'
        : c === '\r'
          ? '\\r'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** What a reader needs at a glance: the SQL (whitespace collapsed) for queries, the grant
 * and PR for grant events, otherwise the details. */
function summary(record: AuditRecord): string {
  const parts: string[] = [];
  if (record.code) parts.push(record.code);
  if (record.sql) parts.push(record.sql.replace(/\s+/g, ' ').trim());
  else {
    if (record.grantIds && record.grantIds.length > 0) parts.push(record.grantIds.join(','));
    if (record.prUrl) parts.push(record.prUrl);
    else if (record.prNumbers && record.prNumbers.length > 0) {
      parts.push(record.prNumbers.map((n) => `#${n}`).join(','));
    }
    const details = record.details ?? {};
    if (record.type === 'query.outcome') {
      const rows = details['rows'];
      const ms = details['durationMs'];
      if (rows !== undefined) parts.push(`${String(rows)} rows`);
      if (ms !== undefined) parts.push(`${String(ms)} ms`);
      if (record.parentSeq !== null && record.parentSeq !== undefined) {
        parts.push(`(attempt ${record.parentSeq})`);
      }
    } else if (Object.keys(details).length > 0) {
      parts.push(JSON.stringify(details));
    }
  }
  return parts.join(' ');
}

/** [header, width (0 = last column, unpadded), value]. Widths fit the longest event type and
 * second-precision UTC times. */
const TABLE_COLUMNS: readonly (readonly [string, number, (r: AuditRecord) => string])[] = [
  ['SEQ', 7, (r) => String(r.seq)],
  ['TIME (UTC)', 20, (r) => `${r.at.toISOString().slice(0, 19)}Z`],
  ['TYPE', 26, (r) => r.type],
  ['ACTOR', 16, (r) => r.actor ?? '-'],
  ['DATABASE', 16, (r) => r.database ?? '-'],
  ['DECISION', 10, (r) => r.decision ?? '-'],
  ['SUMMARY', 0, (r) => summary(r)],
];

const SUMMARY_WIDTH = 120;

function tableLine(values: readonly string[]): string {
  const cells = values.map((value, i) => {
    const width = TABLE_COLUMNS[i]?.[1] ?? 0;
    const text = printable(value);
    if (width === 0) return cut(text, SUMMARY_WIDTH);
    const fitted = cut(text, width);
    return i === 0 ? fitted.padStart(width) : fitted.padEnd(width);
  });
  return `${cells.join('  ').trimEnd()}\n`;
}

function tableRule(): string {
  return `${TABLE_COLUMNS.map(([, width]) => '-'.repeat(width === 0 ? 7 : width)).join('  ')}\n`;
}
