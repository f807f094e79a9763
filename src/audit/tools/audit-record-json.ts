import type { AuditEventType, AuditRecord } from '../audit-record.js';
import { AUDIT_EVENT_TYPES } from './audit-filter-input.js';
import { auditContent } from '../hash-chain.js';

/**
 * An audit record as JSON: every field, `at` as ISO 8601 UTC with milliseconds (the form the
 * hash covers). The one wire shape of GET /v1/audit, `gatehouse audit --format jsonl`, the
 * SIEM stream and export files, so a line from any of them can be re-hashed the same way.
 */
export interface AuditRecordJson {
  readonly seq: number;
  readonly at: string;
  readonly type: AuditEventType;
  readonly actor: string | null;
  readonly database: string | null;
  readonly grantIds: readonly string[];
  readonly prNumbers: readonly number[];
  readonly prUrl: string | null;
  readonly mergeSha: string | null;
  readonly approvers: readonly string[];
  readonly requestId: string | null;
  readonly clientAddress: string | null;
  readonly sql: string | null;
  readonly sqlSha256: string | null;
  readonly tables: readonly string[];
  readonly decision: string | null;
  readonly code: string | null;
  readonly parentSeq: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export function auditRecordJson(record: AuditRecord): AuditRecordJson {
  // The hashed content plus the two hashes: the JSON form is exactly what the chain covers.
  return {
    ...(auditContent(record) as Omit<AuditRecordJson, 'prevHash' | 'hash'>),
    prevHash: record.prevHash,
    hash: record.hash,
  };
}

/**
 * Reads a record back from its JSON form (an export file, a SIEM copy). Returns a reason when
 * the value is not a record: the verifier reports it as an unreadable line, it never crashes.
 */
export function recordFromJson(
  value: unknown,
):
  | { readonly ok: true; readonly record: AuditRecord }
  | { readonly ok: false; readonly reason: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const str = (key: string): string => {
    const x = v[key];
    if (typeof x !== 'string') problems.push(`${key} must be a string`);
    return typeof x === 'string' ? x : '';
  };
  const nstr = (key: string): string | null => {
    const x = v[key];
    if (x !== null && typeof x !== 'string') problems.push(`${key} must be a string or null`);
    return typeof x === 'string' ? x : null;
  };
  const int = (key: string, nullable: boolean): number | null => {
    const x = v[key];
    if (nullable && x === null) return null;
    if (!Number.isSafeInteger(x)) problems.push(`${key} must be an integer`);
    return Number.isSafeInteger(x) ? (x as number) : null;
  };
  const list = <T>(key: string, check: (item: unknown) => item is T): T[] => {
    const x = v[key];
    if (!Array.isArray(x) || !x.every(check)) {
      problems.push(`${key} must be a list`);
      return [];
    }
    return x as T[];
  };
  const isString = (item: unknown): item is string => typeof item === 'string';
  const isInt = (item: unknown): item is number => Number.isSafeInteger(item);

  const seq = int('seq', false) ?? 0;
  const atText = str('at');
  const at = new Date(atText);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== atText) {
    problems.push('at must be an ISO 8601 UTC time with milliseconds');
  }
  const type = str('type');
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) {
    problems.push(`type '${type}' is not an audit event type`);
  }
  const details = v['details'];
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    problems.push('details must be an object');
  }
  const record: AuditRecord = {
    seq,
    at,
    type: type as AuditEventType,
    actor: nstr('actor'),
    database: nstr('database'),
    grantIds: list('grantIds', isString),
    prNumbers: list('prNumbers', isInt),
    prUrl: nstr('prUrl'),
    mergeSha: nstr('mergeSha'),
    approvers: list('approvers', isString),
    requestId: nstr('requestId'),
    clientAddress: nstr('clientAddress'),
    sql: nstr('sql'),
    sqlSha256: nstr('sqlSha256'),
    tables: list('tables', isString),
    decision: nstr('decision'),
    code: nstr('code'),
    parentSeq: int('parentSeq', true),
    details: (details ?? {}) as Record<string, unknown>,
    prevHash: str('prevHash'),
    hash: str('hash'),
  };
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, record };
}
