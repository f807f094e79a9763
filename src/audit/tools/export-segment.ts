import type { AuditLog, ChainProblem } from '../audit-log.js';
import type { AuditRecord } from '../audit-record.js';
import { chainHash, GENESIS_HASH, type ChainHead } from '../hash-chain.js';
import { auditRecordJson, recordFromJson } from './audit-record-json.js';
import { pageThrough } from './page-through.js';

/**
 * Retention export (issue 6, "Retention: export --until … | prune keeps the chain verifiable
 * from the retained checkpoint"). An export is a JSON-lines file an auditor can verify with
 * nothing but the file:
 *
 *   {"kind":"export.header","version":1,"anchor":{"seq":0,"hash":"000…"},"until":…,"exportedAt":…}
 *   {"seq":1,"at":…,"type":…,…,"prevHash":"000…","hash":"…"}        one line per record
 *   …
 *   {"kind":"export.checkpoint","anchor":{…},"head":{"seq":N,"hash":"…"},"records":N,"until":…}
 *
 * `anchor` is the chain position the first record extends (genesis, or the checkpoint a
 * previous prune kept); `head` is the last exported record. Record lines are exactly the
 * records' JSON form (the SIEM stream's lines), so each can be re-hashed. Verification checks
 * every link and hash from the anchor to the head, that the trailer names that head, and, given
 * the previous export, that this one continues it.
 */
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  readonly kind: 'export.header';
  readonly version: number;
  readonly anchor: ChainHead;
  readonly until: string;
  readonly exportedAt: string;
}

export interface ExportTrailer {
  readonly kind: 'export.checkpoint';
  readonly anchor: ChainHead;
  readonly head: ChainHead;
  readonly records: number;
  readonly until: string;
}

/** The chain position the log's first stored record extends: genesis for a log never pruned,
 * the retained checkpoint after a prune. */
export async function logAnchor(audit: AuditLog): Promise<ChainHead> {
  const [first] = await audit.query({ limit: 1 });
  if (first === undefined) return { seq: 0, hash: GENESIS_HASH };
  return { seq: first.seq - 1, hash: first.prevHash };
}

/** The export's lines (each ends with a newline): records with `at` at or before `until`. */
export async function* exportLines(
  audit: AuditLog,
  until: Date,
  exportedAt: Date,
): AsyncGenerator<string> {
  const anchor = await logAnchor(audit);
  const header: ExportHeader = {
    kind: 'export.header',
    version: EXPORT_VERSION,
    anchor,
    until: until.toISOString(),
    exportedAt: exportedAt.toISOString(),
  };
  yield `${JSON.stringify(header)}\n`;
  let head = anchor;
  let records = 0;
  // AuditFilter.until is exclusive; the export (and prune) include records at `until` itself.
  for await (const record of pageThrough(audit, { until: new Date(until.getTime() + 1) })) {
    yield `${JSON.stringify(auditRecordJson(record))}\n`;
    head = { seq: record.seq, hash: record.hash };
    records++;
  }
  const trailer: ExportTrailer = {
    kind: 'export.checkpoint',
    anchor,
    head,
    records,
    until: until.toISOString(),
  };
  yield `${JSON.stringify(trailer)}\n`;
}

export type ExportVerification =
  | {
      readonly ok: true;
      readonly records: number;
      readonly anchor: ChainHead;
      readonly head: ChainHead;
      readonly until: string;
      /** Set when the previous export was given and this one continues it. */
      readonly continues: boolean;
    }
  | {
      readonly ok: false;
      /** 1-based line of the file where verification stopped. */
      readonly line: number;
      readonly firstBrokenSeq: number | null;
      readonly problem: ChainProblem | 'malformed' | 'discontinuous';
      readonly reason: string;
    };

/** What a previous export tells about the chain: every record position it holds. */
export interface ExportIndex {
  readonly anchor: ChainHead;
  readonly head: ChainHead;
  /** seq → hash for every record in the file. */
  readonly hashes: ReadonlyMap<number, string>;
}

/**
 * Verifies an export file line by line: the header, every record's link and hash (the same
 * chain rule as AuditLog.verify(), see hash-chain.ts), checkpoints naming the head they extend,
 * and the trailer naming the last record. With `previous` (a verified earlier export), the
 * anchor must be a record of it: no records were dropped between the two files.
 */
export async function verifyExportLines(
  lines: AsyncIterable<string> | Iterable<string>,
  previous?: ExportIndex,
): Promise<ExportVerification> {
  const result = await scanExport(lines, false);
  if (!result.ok) return result.verification;
  const { anchor, head, records, until } = result;
  if (previous !== undefined) {
    const known =
      anchor.seq === previous.anchor.seq ? previous.anchor.hash : previous.hashes.get(anchor.seq);
    if (known !== anchor.hash) {
      return {
        ok: false,
        line: 1,
        firstBrokenSeq: anchor.seq + 1,
        problem: 'discontinuous',
        reason:
          known === undefined
            ? `the export starts after record ${anchor.seq}, which the previous export (records ${previous.anchor.seq + 1}..${previous.head.seq}) does not hold: records in between are not in either file`
            : `the export starts after record ${anchor.seq} with hash ${anchor.hash}, but the previous export holds that record with hash ${known}: the log was rewritten`,
      };
    }
  }
  return { ok: true, records, anchor, head, until, continues: previous !== undefined };
}

/** Reads a previous export (verifying it as well) into an index of its record hashes. */
export async function indexExport(
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<
  | { readonly ok: true; readonly index: ExportIndex }
  | { readonly ok: false; readonly verification: ExportVerification }
> {
  const result = await scanExport(lines, true);
  if (!result.ok) return result;
  return { ok: true, index: { anchor: result.anchor, head: result.head, hashes: result.hashes } };
}

type Scan =
  | {
      readonly ok: true;
      readonly anchor: ChainHead;
      readonly head: ChainHead;
      readonly records: number;
      readonly until: string;
      readonly hashes: Map<number, string>;
    }
  | { readonly ok: false; readonly verification: Extract<ExportVerification, { ok: false }> };

async function scanExport(
  lines: AsyncIterable<string> | Iterable<string>,
  keepHashes: boolean,
): Promise<Scan> {
  let lineNo = 0;
  let header: ExportHeader | null = null;
  let trailer: ExportTrailer | null = null;
  let head: ChainHead | null = null;
  let previous: AuditRecord | null = null;
  let records = 0;
  const hashes = new Map<number, string>();
  const broken = (
    problem: ChainProblem | 'malformed',
    reason: string,
    firstBrokenSeq: number | null = head === null ? null : head.seq + 1,
  ): Scan => ({
    ok: false,
    verification: { ok: false, line: lineNo, firstBrokenSeq, problem, reason },
  });

  for await (const raw of lines) {
    lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text === '') continue;
    if (trailer !== null) {
      return broken('inserted', `line ${lineNo} follows the export's final checkpoint`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return broken('unreadable', `line ${lineNo} is not JSON`);
    }
    const kind =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)['kind']
        : undefined;

    if (header === null) {
      const parsed = parseHeader(value);
      if (parsed === null) {
        return broken(
          'malformed',
          'line 1 is not an export header (kind "export.header", version, anchor, until)',
          null,
        );
      }
      header = parsed;
      head = parsed.anchor;
      continue;
    }
    const current: ChainHead = head ?? header.anchor;

    if (kind === 'export.checkpoint') {
      const parsed = parseTrailer(value);
      if (parsed === null)
        return broken('malformed', `line ${lineNo}: the final checkpoint is malformed`);
      if (!sameHead(parsed.anchor, header.anchor)) {
        return broken(
          'head_mismatch',
          `the final checkpoint names anchor ${parsed.anchor.seq}, the header ${header.anchor.seq}`,
        );
      }
      if (!sameHead(parsed.head, current) || parsed.records !== records) {
        return broken(
          'head_mismatch',
          `the final checkpoint names head ${parsed.head.seq} (${parsed.records} records) but the file ends at record ${current.seq} (${records} records) with hash ${current.hash}`,
          current.seq,
        );
      }
      trailer = parsed;
      continue;
    }
    if (kind !== undefined) return broken('malformed', `line ${lineNo} has an unknown kind`);

    const parsed = recordFromJson(value);
    if (!parsed.ok) {
      const seq = (value as Record<string, unknown>)['seq'];
      return broken(
        'unreadable',
        `line ${lineNo} is not an audit record: ${parsed.reason}`,
        Number.isSafeInteger(seq) ? (seq as number) : current.seq + 1,
      );
    }
    const record = parsed.record;
    const expected = current.seq + 1;
    if (record.seq !== expected) {
      if (record.seq > expected) {
        return broken(
          'missing',
          `record ${expected} is missing (deleted or moved): record ${current.seq} is followed by ${record.seq}`,
          expected,
        );
      }
      return broken(
        'reordered',
        `record ${record.seq} appears after record ${current.seq}`,
        record.seq,
      );
    }
    if (record.prevHash !== current.hash) {
      if (previous !== null && record.prevHash === previous.prevHash) {
        return broken(
          'inserted',
          `record ${previous.seq} was inserted: record ${record.seq} links to ${previous.seq - 1}`,
          previous.seq,
        );
      }
      return broken(
        'unlinked',
        current.seq === header.anchor.seq
          ? `record ${record.seq} does not extend the export's anchor (record ${current.seq}, hash ${current.hash})`
          : `record ${record.seq} does not link to record ${current.seq} (prevHash differs)`,
        record.seq,
      );
    }
    if (chainHash(current.hash, record) !== record.hash) {
      return broken(
        'edited',
        `record ${record.seq} was edited: its content does not match its hash`,
        record.seq,
      );
    }
    if (
      record.type === 'audit.checkpoint' &&
      (record.details?.['headSeq'] !== record.seq - 1 ||
        record.details?.['headHash'] !== record.prevHash)
    ) {
      return broken(
        'checkpoint_mismatch',
        `checkpoint ${record.seq} does not name the head it extends`,
        record.seq,
      );
    }
    previous = record;
    head = { seq: record.seq, hash: record.hash };
    if (keepHashes) hashes.set(record.seq, record.hash);
    records++;
  }
  if (header === null) return broken('malformed', 'the file is empty: no export header', null);
  if (trailer === null) {
    return broken(
      'missing',
      `the file ends without its final checkpoint after record ${(head ?? header.anchor).seq}: it was cut short`,
    );
  }
  return {
    ok: true,
    anchor: header.anchor,
    head: head ?? header.anchor,
    records,
    until: header.until,
    hashes,
  };
}

function isHead(value: unknown): value is ChainHead {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(v['seq']) &&
    (v['seq'] as number) >= 0 &&
    typeof v['hash'] === 'string' &&
    /^[0-9a-f]{64}$/.test(v['hash'])
  );
}

function sameHead(a: ChainHead, b: ChainHead): boolean {
  return a.seq === b.seq && a.hash === b.hash;
}

function parseHeader(value: unknown): ExportHeader | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (v['kind'] !== 'export.header' || v['version'] !== EXPORT_VERSION) return null;
  if (
    !isHead(v['anchor']) ||
    typeof v['until'] !== 'string' ||
    typeof v['exportedAt'] !== 'string'
  ) {
    return null;
  }
  const anchor = { seq: v['anchor'].seq, hash: v['anchor'].hash };
  // Genesis is the only anchor at 0; a pruned log's anchor is a real record's hash.
  if (anchor.seq === 0 && anchor.hash !== GENESIS_HASH) return null;
  return {
    kind: 'export.header',
    version: EXPORT_VERSION,
    anchor,
    until: v['until'],
    exportedAt: v['exportedAt'],
  };
}

function parseTrailer(value: unknown): ExportTrailer | null {
  const v = value as Record<string, unknown>;
  if (!isHead(v['anchor']) || !isHead(v['head']) || !Number.isSafeInteger(v['records']))
    return null;
  if (typeof v['until'] !== 'string') return null;
  return {
    kind: 'export.checkpoint',
    anchor: { seq: v['anchor'].seq, hash: v['anchor'].hash },
    head: { seq: v['head'].seq, hash: v['head'].hash },
    records: v['records'] as number,
    until: v['until'],
  };
}
