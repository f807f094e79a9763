import { createReadStream, existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AuditRecord } from '../../audit/audit-record.js';
import { parseAuditFilter } from '../../audit/tools/audit-filter-input.js';
import {
  AUDIT_FORMATS,
  auditFormatter,
  type AuditFormat,
} from '../../audit/tools/audit-query-format.js';
import {
  exportLines,
  indexExport,
  logAnchor,
  verifyExportLines,
  type ExportIndex,
  type ExportVerification,
} from '../../audit/tools/export-segment.js';
import { renderGrantStory } from '../../audit/tools/grant-story.js';
import { pageThrough } from '../../audit/tools/page-through.js';
import { lastCheckpointAtOrBefore, pruneAuditLog, supportsPrune } from '../../audit/tools/prune.js';
import { streamAuditRecords } from '../../audit/tools/siem-stream.js';
import { parseTimeBound, TIME_BOUND_HELP } from '../../audit/tools/time-bound.js';
import { GatehouseError, type ErrorCode } from '../../errors/catalogue.js';
import type { Grant } from '../../grants/grant.js';
import {
  DEFAULT_SQLITE_PATH,
  openState,
  type State,
  type StateConfig,
} from '../../state/open-state.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { EXIT, type CliIo } from '../cli-io.js';

const STATE_HELP = `  --state     the state store: a SQLite file or a postgres:// URL
              (default: GATEHOUSE_STATE, else ${DEFAULT_SQLITE_PATH})`;

const USAGE = `Usage: gatehouse audit [filters] [--format table|jsonl|csv] [--limit N] [--state S]
       gatehouse audit verify [--state S | --file export.jsonl [--previous older.jsonl]]
       gatehouse audit grant <grant-id | PR number> [--format text|json] [--state S]
       gatehouse audit export --until <time> [--out file] [--state S]
       gatehouse audit prune --until <time> --confirm [--actor login] [--state S]
       gatehouse audit stream [--follow] [--interval 2s] [--from-seq N] [--out file] [--state S]

Reads the audit log straight from the state store (for auditors with database access; the
HTTP API has GET /v1/audit). Records come in seq order, all matching pages.
Filters:
  --user      actor login          --database  database id      --decision  allowed, refused, …
  --since     records at or after  --until     records before   (${TIME_BOUND_HELP})
  --grant     a grant id (g_…) or PR number
  --type      event types, comma-separated (grant.* for all grant events)
${STATE_HELP}
Exit codes: 0 done (verify: the chain is intact), 1 failed (verify: broken, naming the first
broken record), 2 usage.
`;

export interface AuditCommandDeps {
  readonly clock?: Clock;
  /** Opens the store; tests may pass a store of their own. */
  readonly openState?: (config: StateConfig, clock: Clock) => Promise<State>;
  /** Stops `stream --follow`; default: the first SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
  /** Waits between polls of `stream --follow`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

class UsageError extends Error {}

const SUBCOMMANDS = ['verify', 'grant', 'export', 'prune', 'stream'] as const;

export async function runAudit(
  args: readonly string[],
  io: CliIo,
  deps: AuditCommandDeps = {},
): Promise<number> {
  const [first, ...rest] = args;
  const sub = SUBCOMMANDS.find((s) => s === first);
  const name = sub === undefined ? 'audit' : `audit ${sub}`;
  try {
    switch (sub) {
      case undefined:
        return await listRecords(args, io, deps);
      case 'verify':
        return await verify(rest, io, deps);
      case 'grant':
        return await grantStory(rest, io, deps);
      case 'export':
        return await exportCommand(rest, io, deps);
      case 'prune':
        return await prune(rest, io, deps);
      case 'stream':
        return await stream(rest, io, deps);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`gatehouse ${name}: ${error.message}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    if (error instanceof GatehouseError) {
      io.stderr(`gatehouse ${name}: ${error.code}: ${error.message}\n`);
      return EXIT.FAILED;
    }
    throw error;
  }
}

export async function audit(args: readonly string[], io: CliIo): Promise<number> {
  return runAudit(args, io);
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: readonly string[], options: O, positionals = false) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positionals,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--state`, else GATEHOUSE_STATE, else ./data/gatehouse.db (as `gatehouse serve` reads it). */
export function stateConfigFrom(text: string | undefined, io: CliIo): StateConfig {
  const value = text ?? io.env['GATEHOUSE_STATE'] ?? DEFAULT_SQLITE_PATH;
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UsageError('--state must be a SQLite file path or a postgres:// URL');
  }
  return { kind: 'sqlite', path: isAbsolute(value) ? value : resolve(io.cwd, value) };
}

async function withState<T>(
  stateText: string | undefined,
  io: CliIo,
  deps: AuditCommandDeps,
  use: (state: State) => Promise<T>,
): Promise<T> {
  const config = stateConfigFrom(stateText, io);
  // Opening a SQLite path creates the file: an auditor's typo must not read as an empty log.
  if (config.kind === 'sqlite' && !existsSync(config.path)) {
    throw new GatehouseError('STATE_UNAVAILABLE', `no state store at ${config.path}`);
  }
  const state = await (deps.openState ?? openState)(config, deps.clock ?? systemClock);
  try {
    return await use(state);
  } finally {
    await state.close();
  }
}

function now(deps: AuditCommandDeps): Date {
  return (deps.clock ?? systemClock)();
}

function timeFlag(flag: string, value: string | undefined, deps: AuditCommandDeps): Date {
  if (value === undefined) throw new UsageError(`--${flag} is required`);
  const at = parseTimeBound(value, now(deps));
  if (at === null) throw new UsageError(`--${flag} '${value}' is not ${TIME_BOUND_HELP}`);
  return at;
}

function wholeNumber(flag: string, value: string, min: number): number {
  if (!/^[0-9]{1,15}$/.test(value) || Number(value) < min) {
    throw new UsageError(`--${flag} must be a whole number of at least ${min}`);
  }
  return Number(value);
}

// --- gatehouse audit [filters] ---

async function listRecords(
  args: readonly string[],
  io: CliIo,
  deps: AuditCommandDeps,
): Promise<number> {
  const { values } = parse(args, {
    state: { type: 'string' },
    user: { type: 'string' },
    database: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    decision: { type: 'string' },
    grant: { type: 'string' },
    type: { type: 'string' },
    format: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const format = (values.format ?? 'table') as AuditFormat;
  if (!AUDIT_FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${AUDIT_FORMATS.join(', ')}`);
  }
  const limit = values.limit === undefined ? undefined : wholeNumber('limit', values.limit, 1);
  const parsed = parseAuditFilter(
    {
      user: values.user,
      database: values.database,
      since: values.since,
      until: values.until,
      decision: values.decision,
      grant: values.grant,
      type: values.type,
    },
    now(deps),
  );
  if (!parsed.ok) throw new UsageError(`--${parsed.field}: ${parsed.message}`);

  return withState(values.state, io, deps, async (state) => {
    const formatter = auditFormatter(format);
    io.stdout(formatter.header());
    let count = 0;
    let chunk = '';
    for await (const record of pageThrough(state.audit, parsed.filter, limit)) {
      chunk += formatter.record(record);
      count++;
      // Written in batches: one write per record is slow on a pipe, one per run holds
      // the whole log in memory.
      if (chunk.length > 64 * 1024) {
        io.stdout(chunk);
        chunk = '';
      }
    }
    io.stdout(chunk + formatter.footer(count));
    return EXIT.OK;
  });
}

// --- gatehouse audit verify ---

async function verify(args: readonly string[], io: CliIo, deps: AuditCommandDeps): Promise<number> {
  const { values } = parse(args, {
    state: { type: 'string' },
    file: { type: 'string' },
    previous: { type: 'string' },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  if (values.file !== undefined) {
    if (values.state !== undefined) throw new UsageError('--file and --state exclude each other');
    return verifyFile(resolve(io.cwd, values.file), values.previous, io);
  }
  if (values.previous !== undefined) throw new UsageError('--previous goes with --file');

  return withState(values.state, io, deps, async (state) => {
    const result = await state.audit.verify();
    if (!result.ok) {
      io.stderr(
        `gatehouse audit verify: AUDIT_CHAIN_BROKEN: first broken record ${result.firstBrokenSeq} (${result.problem}): ${result.reason}\n` +
          `${result.records} record${result.records === 1 ? '' : 's'} verified before it.\n`,
      );
      return EXIT.FAILED;
    }
    const anchor = await logAnchor(state.audit);
    const from =
      anchor.seq === 0
        ? 'genesis'
        : `the retained checkpoint after record ${anchor.seq} (${anchor.hash})`;
    io.stdout(
      `audit log intact: ${result.records} record${result.records === 1 ? '' : 's'} verified from ${from}\nhead ${result.head}\n`,
    );
    return EXIT.OK;
  });
}

function fileLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
}

function verificationFailure(io: CliIo, file: string, result: ExportVerification): number {
  if (result.ok) return EXIT.OK;
  const code: ErrorCode =
    result.problem === 'malformed'
      ? 'AUDIT_EXPORT_MALFORMED'
      : result.problem === 'discontinuous'
        ? 'AUDIT_EXPORT_DISCONTINUOUS'
        : 'AUDIT_CHAIN_BROKEN';
  const where =
    result.firstBrokenSeq === null ? '' : `first broken record ${result.firstBrokenSeq}, `;
  io.stderr(
    `gatehouse audit verify: ${code}: ${file}:${result.line}: ${where}${result.problem}: ${result.reason}\n`,
  );
  return EXIT.FAILED;
}

async function verifyFile(
  file: string,
  previousFile: string | undefined,
  io: CliIo,
): Promise<number> {
  for (const path of [file, previousFile]) {
    if (path !== undefined && !existsSync(resolve(io.cwd, path))) {
      throw new UsageError(`no such file: ${path}`);
    }
  }
  let previous: ExportIndex | undefined;
  if (previousFile !== undefined) {
    const path = resolve(io.cwd, previousFile);
    const indexed = await indexExport(fileLines(path));
    if (!indexed.ok) return verificationFailure(io, path, indexed.verification);
    previous = indexed.index;
  }
  const result = await verifyExportLines(fileLines(file), previous);
  if (!result.ok) return verificationFailure(io, file, result);
  const from =
    result.anchor.seq === 0
      ? 'genesis'
      : `record ${result.anchor.seq} (${result.anchor.hash})${result.continues ? ', which the previous export holds' : '; pass --previous <older export> to check the link to it'}`;
  io.stdout(
    `export intact: ${result.records} record${result.records === 1 ? '' : 's'} up to ${result.until}, chained from ${from}\n` +
      `head ${result.head.seq} ${result.head.hash}\n` +
      'Compare the head with a checkpoint kept elsewhere (SIEM) to rule out a wholesale rewrite.\n',
  );
  return EXIT.OK;
}

// --- gatehouse audit grant ---

const GRANT_ID = /^g_[0-9a-f]{20}$/;

async function grantStory(
  args: readonly string[],
  io: CliIo,
  deps: AuditCommandDeps,
): Promise<number> {
  const { values, positionals } = parse(
    args,
    { state: { type: 'string' }, format: { type: 'string' } },
    true,
  );
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0) {
    throw new UsageError('give exactly one grant id (g_…) or PR number');
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--format must be text or json');
  const pr = /^#?([1-9][0-9]{0,9})$/.exec(target);
  if (pr === null && !GRANT_ID.test(target)) {
    throw new UsageError(`'${target}' is neither a grant id (g_ + 20 hex) nor a PR number`);
  }

  return withState(values.state, io, deps, async (state) => {
    const collect = async (filter: { grantId?: string; prNumber?: number }) => {
      const records: AuditRecord[] = [];
      for await (const record of pageThrough(state.audit, filter)) records.push(record);
      return records;
    };
    const storyRecords = async (grant: Grant | null, prNumber: number | null) => {
      const found = [
        ...(grant === null ? [] : await collect({ grantId: grant.id })),
        ...(prNumber === null ? [] : await collect({ prNumber })),
        ...(grant?.revocationPrNumber == null
          ? []
          : await collect({ prNumber: grant.revocationPrNumber })),
      ];
      return found;
    };

    let stories: { grant: Grant | null; records: AuditRecord[] }[];
    if (pr === null) {
      const grant = await state.grants.get(target);
      const records = await storyRecords(grant, grant?.prNumber ?? null);
      stories = grant === null && records.length === 0 ? [] : [{ grant, records }];
    } else {
      const prNumber = Number(pr[1]);
      const grants = await state.grants.list({ prNumber });
      if (grants.length === 0) {
        const records = await storyRecords(null, prNumber);
        stories = records.length === 0 ? [] : [{ grant: null, records }];
      } else {
        // One PR may add several request files: one grant, and one story, per file.
        stories = [];
        for (const grant of grants) {
          stories.push({ grant, records: await storyRecords(grant, prNumber) });
        }
      }
    }
    if (stories.length === 0) {
      io.stderr(
        `gatehouse audit grant: GRANT_NOT_FOUND: no grant and no audit record for ${pr === null ? `grant ${target}` : `PR #${pr[1]}`}\n`,
      );
      return EXIT.FAILED;
    }
    if (format === 'json') {
      const rendered = stories.map(
        (s) => JSON.parse(renderGrantStory(s.grant, s.records, 'json')) as unknown,
      );
      io.stdout(`${JSON.stringify(rendered.length === 1 ? rendered[0] : rendered, null, 2)}\n`);
    } else {
      io.stdout(stories.map((s) => renderGrantStory(s.grant, s.records, 'text')).join('\n'));
    }
    return EXIT.OK;
  });
}

// --- gatehouse audit export ---

async function exportCommand(
  args: readonly string[],
  io: CliIo,
  deps: AuditCommandDeps,
): Promise<number> {
  const { values } = parse(args, {
    state: { type: 'string' },
    until: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const until = timeFlag('until', values.until, deps);
  return withState(values.state, io, deps, async (state) => {
    const lines = exportLines(state.audit, until, now(deps));
    if (values.out === undefined) {
      let chunk = '';
      for await (const line of lines) {
        chunk += line;
        if (chunk.length > 64 * 1024) {
          io.stdout(chunk);
          chunk = '';
        }
      }
      io.stdout(chunk);
      return EXIT.OK;
    }
    const out = resolve(io.cwd, values.out);
    if (existsSync(out)) {
      throw new UsageError(`${values.out} exists; an export never overwrites an archive`);
    }
    // Written aside and renamed when complete, so a crash never leaves a file that looks like
    // a whole export (verify would also notice: it lacks the final checkpoint).
    const partial = `${out}.partial`;
    const handle = await open(partial, 'w');
    let last = '';
    try {
      for await (const line of lines) {
        await handle.write(line);
        last = line;
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(partial, { force: true });
      throw error;
    }
    await handle.close();
    await rename(partial, out);
    const trailer = JSON.parse(last) as { head: { seq: number; hash: string }; records: number };
    io.stdout(
      `exported ${trailer.records} record${trailer.records === 1 ? '' : 's'} up to ${until.toISOString()} to ${values.out}\n` +
        `head ${trailer.head.seq} ${trailer.head.hash}\n` +
        `Check it with: gatehouse audit verify --file ${values.out}\n`,
    );
    return EXIT.OK;
  });
}

// --- gatehouse audit prune ---

async function prune(args: readonly string[], io: CliIo, deps: AuditCommandDeps): Promise<number> {
  const { values } = parse(args, {
    state: { type: 'string' },
    until: { type: 'string' },
    confirm: { type: 'boolean' },
    actor: { type: 'string' },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const until = timeFlag('until', values.until, deps);
  const actor = values.actor ?? io.env['USER'] ?? safeUsername() ?? 'gatehouse-cli';
  return withState(values.state, io, deps, async (state) => {
    const audit = state.audit;
    if (!supportsPrune(audit)) {
      throw new GatehouseError(
        'AUDIT_PRUNE_UNSUPPORTED',
        'this state store offers no controlled retention delete; nothing was deleted',
      );
    }
    if (values.confirm !== true) {
      const checkpoint = await lastCheckpointAtOrBefore(audit, until);
      const anchor = await logAnchor(audit);
      io.stderr(
        checkpoint === null || checkpoint.seq <= anchor.seq + 1
          ? `gatehouse audit prune: nothing would be pruned up to ${until.toISOString()}\n`
          : `gatehouse audit prune: would delete records ${anchor.seq + 1}..${checkpoint.seq - 1}, keeping checkpoint ${checkpoint.seq} (${checkpoint.at.toISOString()}) as the first record.\n` +
              `Export them first (gatehouse audit export --until ${until.toISOString()} --out <file>), then add --confirm.\n`,
      );
      return EXIT.USAGE;
    }
    const outcome = await pruneAuditLog(audit, until, actor);
    if (!outcome.pruned) {
      if (outcome.reason === 'no_checkpoint') {
        throw new GatehouseError('AUDIT_PRUNE_NO_CHECKPOINT', outcome.message);
      }
      io.stdout(`${outcome.message}\n`);
      return EXIT.OK;
    }
    io.stdout(
      `pruned ${outcome.deleted} record${outcome.deleted === 1 ? '' : 's'}; the log now starts at checkpoint ${outcome.checkpoint.seq}, anchored at record ${outcome.anchor.seq} (${outcome.anchor.hash})\n` +
        `recorded as audit record ${outcome.audit.seq}\n`,
    );
    return EXIT.OK;
  });
}

function safeUsername(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}

// --- gatehouse audit stream ---

const INTERVAL = /^([0-9]{1,7})(ms|s|m)$/;

async function stream(args: readonly string[], io: CliIo, deps: AuditCommandDeps): Promise<number> {
  const { values } = parse(args, {
    state: { type: 'string' },
    follow: { type: 'boolean' },
    interval: { type: 'string' },
    'from-seq': { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  const interval = INTERVAL.exec(values.interval ?? '2s');
  if (interval === null) throw new UsageError('--interval is like 500ms, 2s or 1m');
  const intervalMs =
    Number(interval[1]) * { ms: 1, s: 1000, m: 60_000 }[interval[2] as 'ms' | 's' | 'm'];
  if (intervalMs < 100) throw new UsageError('--interval must be at least 100ms');
  let afterSeq =
    values['from-seq'] === undefined
      ? undefined
      : wholeNumber('from-seq', values['from-seq'], 1) - 1;

  const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
  if (out !== undefined && afterSeq === undefined) afterSeq = await lastSeqIn(out);

  let stop: (() => void) | undefined;
  let signal = deps.signal;
  if (signal === undefined && values.follow === true) {
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stop = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    signal = controller.signal;
  }
  const sleep =
    deps.sleep ??
    (async (ms: number, s?: AbortSignal) => {
      await sleepFor(ms, undefined, s === undefined ? {} : { signal: s });
    });

  const handle = out === undefined ? undefined : await open(out, 'a');
  try {
    return await withState(values.state, io, deps, async (state) => {
      const result = await streamAuditRecords(state.audit, {
        afterSeq: afterSeq ?? 0,
        follow: values.follow === true,
        pollIntervalMs: intervalMs,
        ...(signal === undefined ? {} : { signal }),
        sleep,
        write:
          handle === undefined
            ? async (line) => io.stdout(line)
            : async (line) => {
                await handle.write(line);
              },
      });
      io.stderr(
        `gatehouse audit stream: ${result.written} record${result.written === 1 ? '' : 's'} written; resume with --from-seq ${result.lastSeq + 1}\n`,
      );
      return EXIT.OK;
    });
  } finally {
    stop?.();
    await handle?.close();
  }
}

/**
 * Where an existing stream file left off: the seq of its last complete line (0 for a new or
 * empty file). A line cut short by a crash is removed first, so appending continues cleanly.
 * Reads backwards from the end: a SIEM file can be large.
 */
async function lastSeqIn(path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    let tail = Buffer.alloc(0);
    let position = size;
    let complete = -1;
    // Grow the tail until it holds the last two newlines (or the start of the file).
    for (;;) {
      const lastNewline = tail.lastIndexOf(0x0a);
      if (lastNewline !== -1 && (newlineBefore(tail, lastNewline) !== -1 || position === 0)) {
        complete = lastNewline;
        break;
      }
      if (position === 0) break;
      const length = Math.min(64 * 1024, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      tail = Buffer.concat([chunk, tail]);
    }
    const completeEnd = complete === -1 ? position : position + complete + 1;
    if (completeEnd < size) await handle.truncate(completeEnd);
    if (complete === -1) return 0;
    const lineStart = newlineBefore(tail, complete) + 1;
    const last = tail.subarray(lineStart, complete).toString('utf8').trim();
    let seq: unknown;
    try {
      seq = (JSON.parse(last) as { seq?: unknown }).seq;
    } catch {
      seq = undefined;
    }
    if (!Number.isSafeInteger(seq)) {
      throw new UsageError(`${path} does not end with an audit record line; pass --from-seq`);
    }
    return seq as number;
  } finally {
    await handle.close();
  }
}

/** The last newline strictly before `index` (Buffer.lastIndexOf reads a negative offset from
 * the end, hence the guard). */
function newlineBefore(buffer: Buffer, index: number): number {
  return index <= 0 ? -1 : buffer.lastIndexOf(0x0a, index - 1);
}
