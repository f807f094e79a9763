/**
 * The policy the running service enforces (policies/databases.yaml and policies/risk.yaml of
 * GATEHOUSE_REPO_DIR) and its hot reload, on SIGHUP or by polling
 * (GATEHOUSE_POLICY_RELOAD_INTERVAL); docs/configuration.md, "Reloading policies".
 *
 * Fail closed: a reload is all or nothing. Both files are read and validated with the same
 * loaders as at start, and every database that is new or changed gets its engine built
 * (pools are lazy, so this connects nowhere) BEFORE anything is swapped; any diagnostic keeps
 * the policy in force, so a broken file never leaves the gateway without policy.
 *
 * Issue 6 asks the audit log to record every configuration reload: one `config.reloaded`
 * record with decision `initial` at start, `applied` for each change put in force (written
 * BEFORE the swap: if it cannot be written, nothing changes), `refused` for each distinct
 * content that failed validation (docs/audit.md). Content equal to the policy in force writes
 * nothing, so polling every minute does not flood the log.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../audit/audit-record.js';
import type { Engine, ExecuteOptions, QueryResult } from '../engines/engine.js';
import { GatehouseError, type ErrorCode } from '../errors/catalogue.js';
import type { DatabaseConfig, Databases } from '../policy/databases.js';
import { loadDatabases } from '../policy/load-databases.js';
import { loadRiskPolicy } from '../policy/load-risk-policy.js';
import { DATABASES_PATH, RISK_POLICY_PATH } from '../policy/repo-context.js';
import type { RiskPolicy } from '../policy/risk-policy.js';
import type { Clock } from '../util/clock.js';
import type { Diagnostic } from '../util/diagnostic.js';

export type Auditors = RiskPolicy['auditors'];

/** The policy files as read from the checkout; null when a file does not exist or could not
 * be read (then `unreadable` says why, as FILE_UNREADABLE diagnostics). */
export interface PolicyFiles {
  readonly databases: Uint8Array | null;
  readonly risk: Uint8Array | null;
  readonly unreadable?: readonly Diagnostic[];
}

/** What the service enforces, and which content it came from. */
export interface Policy {
  readonly databases: Databases;
  /** Who may read GET /v1/audit (risk.yaml `auditors`; nobody without risk.yaml). */
  readonly auditors: Auditors;
  /** sha256 hex identifying the content of both files (`policyHash` in audit records). */
  readonly hash: string;
  /** Git blob id of each file (`git hash-object <file>`), so an auditor finds the commit
   * that was in force with `git log --all --find-object=<id>`; null: absent, `pinned`: not
   * read (the demo's embedded database). */
  readonly files: Readonly<Record<string, string | null>>;
}

export interface DatabasesChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** What asked for the reload (kept in the audit record). */
export type ReloadTrigger = 'signal' | 'interval' | 'manual';

export type ReloadOutcome =
  | {
      readonly decision: 'applied';
      readonly before: Policy;
      readonly after: Policy;
      readonly change: DatabasesChange;
    }
  /** The files hold the content in force: nothing to do, nothing recorded. */
  | { readonly decision: 'unchanged'; readonly policy: Policy }
  | {
      readonly decision: 'refused';
      /** The policy that stays in force. */
      readonly policy: Policy;
      readonly diagnostics: readonly Diagnostic[];
      /** False when this same content was refused (and recorded) before, or the record
       * could not be written. */
      readonly recorded: boolean;
    }
  /** Valid, but the `applied` record could not be written: nothing changed. */
  | {
      readonly decision: 'failed';
      readonly policy: Policy;
      readonly code: ErrorCode;
      readonly message: string;
    };

/** The small slice of a pino logger the holder uses. */
export interface PolicyLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface PolicyHolderDeps {
  /** Reads the files: `() => readPolicyFiles(repoDir, …)` in the service. */
  readonly read: () => Promise<PolicyFiles>;
  /** For messages: where the files are read (GATEHOUSE_REPO_DIR). */
  readonly repoDir: string;
  /** Databases served instead of databases.yaml, which is then not read (the demo). */
  readonly pinnedDatabases?: Databases;
  /** Builds one database's engine; throws GatehouseError (CONFIG_INVALID) for settings that
   * cannot work. Must not connect (pools are lazy). */
  readonly createEngine: (db: DatabaseConfig) => Engine;
  readonly clock: Clock;
  readonly log: PolicyLog;
}

export interface PolicyHolder {
  /** The policy in force now. Read it once per request: a reload swaps it atomically. */
  current(): Policy;
  /** The engine of a database of the CURRENT policy; UNKNOWN_DATABASE otherwise. */
  engineFor(id: string): Engine;
  /** Appends the `initial` record and, from then on, audits reloads to `audit`. */
  start(audit: AuditLog): Promise<void>;
  /** Reads, validates and (when valid and different) swaps the policy. Never rejects;
   * concurrent calls run one after the other. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Waits for a running reload, then closes every engine. */
  close(): Promise<void>;
}

const ACTOR = 'gatehouse';

/**
 * Reads the policy files of a checkout. A file that does not exist is null; one that cannot
 * be read (permissions, a directory in its place) is null with a FILE_UNREADABLE diagnostic.
 */
export async function readPolicyFiles(
  repoDir: string,
  options: { readonly databases: boolean } = { databases: true },
): Promise<PolicyFiles> {
  const unreadable: Diagnostic[] = [];
  const one = async (path: string): Promise<Uint8Array | null> => {
    try {
      return await readFile(join(repoDir, path));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
        unreadable.push(wholeFile(path, 'FILE_UNREADABLE', (cause as Error).message));
      }
      return null;
    }
  };
  const [databases, risk] = await Promise.all([
    options.databases ? one(DATABASES_PATH) : Promise.resolve(null),
    one(RISK_POLICY_PATH),
  ]);
  return unreadable.length === 0 ? { databases, risk } : { databases, risk, unreadable };
}

/** `git hash-object`: sha1 over `blob <size>\0<content>` (https://git-scm.com/book/en/v2/Git-Internals-Git-Objects). */
function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

/** JSON with sorted keys, so equal configurations compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : inner,
  );
}

function wholeFile(file: string, code: ErrorCode, message: string): Diagnostic {
  return { file, line: 0, column: 0, field: '', code, message };
}

/** `file:line:column code message`, as `gatehouse validate` prints it. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`;
}

/** Validates the files with the loaders `gatehouse validate` uses. Pure. A policy comes back
 * only when there is no diagnostic at all. risk.yaml is checked on its own, as at start (its
 * databases may be served by another replica or be pinned). */
export function parsePolicy(
  files: PolicyFiles,
  pinned?: Databases,
): { readonly policy: Policy } | { readonly diagnostics: readonly Diagnostic[] } {
  const diagnostics: Diagnostic[] = [...(files.unreadable ?? [])];
  if (diagnostics.length > 0) return { diagnostics };
  let databases: Databases | undefined = pinned;
  if (pinned === undefined) {
    if (files.databases === null) {
      diagnostics.push(wholeFile(DATABASES_PATH, 'FILE_UNREADABLE', 'The file does not exist.'));
    } else {
      const loaded = loadDatabases(DATABASES_PATH, files.databases);
      diagnostics.push(...loaded.diagnostics);
      databases = loaded.databases;
    }
  }
  let auditors: Auditors = { users: [], teams: [] };
  if (files.risk !== null) {
    const loaded = loadRiskPolicy(RISK_POLICY_PATH, files.risk);
    diagnostics.push(...loaded.diagnostics);
    if (loaded.policy !== undefined) auditors = loaded.policy.auditors;
  }
  if (diagnostics.length > 0 || databases === undefined) return { diagnostics };

  const blobs: Record<string, string | null> = {
    [DATABASES_PATH]:
      pinned !== undefined
        ? 'pinned'
        : files.databases === null
          ? null
          : gitBlobId(files.databases),
    [RISK_POLICY_PATH]: files.risk === null ? null : gitBlobId(files.risk),
  };
  const identity =
    pinned === undefined ? blobs : { ...blobs, pinned: canonical([...pinned.values()]) };
  return {
    policy: {
      databases,
      auditors,
      hash: createHash('sha256').update(canonical(identity)).digest('hex'),
      files: blobs,
    },
  };
}

/** What changed between two database maps; `next` reuses the objects of unchanged entries,
 * so a request that read an entry before a reload can tell it is still the one in force. */
export function diffDatabases(
  before: Databases,
  after: Databases,
): { readonly change: DatabasesChange; readonly databases: Databases } {
  const added: string[] = [];
  const changed: string[] = [];
  const next = new Map<string, DatabaseConfig>();
  for (const [id, db] of after) {
    const old = before.get(id);
    const same = old !== undefined && canonical(old) === canonical(db);
    if (old === undefined) added.push(id);
    else if (!same) changed.push(id);
    next.set(id, same ? old : db);
  }
  const removed = [...before.keys()].filter((id) => !after.has(id));
  return { change: { added, removed, changed }, databases: next };
}

/** An engine that knows its running statements, so one retired by a reload is closed only
 * once they finish (a pool ended under a statement would fail it). */
interface ServedEngine {
  readonly engine: Engine;
  retire(): Promise<void>;
}

function served(inner: Engine): ServedEngine {
  let running = 0;
  let retired = false;
  let closing: Promise<void> | null = null;
  let closed: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const closeNow = () => {
    closing ??= inner
      .close()
      .catch(() => undefined)
      .then(closed);
    return done;
  };
  return {
    engine: {
      kind: inner.kind,
      // Counted synchronously at the call, before any await, so no reload can slip between
      // picking this engine and starting the statement.
      async execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
        running += 1;
        try {
          return await inner.execute(sql, options);
        } finally {
          running -= 1;
          if (retired && running === 0) void closeNow();
        }
      },
      ping: () => inner.ping(),
      close: () => closeNow(),
    },
    retire() {
      retired = true;
      return running === 0 ? closeNow() : done;
    },
  };
}

function buildEngines(
  databases: Iterable<DatabaseConfig>,
  createEngine: (db: DatabaseConfig) => Engine,
): { engines: Map<string, ServedEngine> } | { error: GatehouseError; database: string } {
  const engines = new Map<string, ServedEngine>();
  for (const db of databases) {
    try {
      engines.set(db.id, served(createEngine(db)));
    } catch (error) {
      for (const built of engines.values()) void built.retire();
      if (error instanceof GatehouseError) return { error, database: db.id };
      throw error;
    }
  }
  return { engines };
}

function startError(repoDir: string, diagnostics: readonly Diagnostic[]): GatehouseError {
  const missing = diagnostics.find(
    (d) => d.file === DATABASES_PATH && d.code === 'FILE_UNREADABLE',
  );
  if (missing !== undefined) {
    return new GatehouseError(
      'CONFIG_INVALID',
      `GATEHOUSE_REPO_DIR: cannot read ${DATABASES_PATH} in ${repoDir} (${missing.message})`,
    );
  }
  const files = [...new Set(diagnostics.map((d) => d.file))];
  return new GatehouseError(
    'POLICY_INVALID',
    files
      .map(
        (file) =>
          `${file} is invalid:\n${diagnostics
            .filter((d) => d.file === file)
            .map(formatDiagnostic)
            .join('\n')}`,
      )
      .join('\n'),
  );
}

/** The `config.reloaded` record of a policy put in force. */
function policyDetails(policy: Policy): Record<string, unknown> {
  return { policyHash: policy.hash, files: policy.files, databases: [...policy.databases.keys()] };
}

/**
 * Loads the policy in force at start, with the start's errors: CONFIG_INVALID naming
 * GATEHOUSE_REPO_DIR when databases.yaml cannot be read, POLICY_INVALID listing every
 * diagnostic, CONFIG_INVALID from an engine whose settings cannot work. Engines are built
 * now so such a setting stops the start naming the key; nothing connects yet.
 */
export async function openPolicyHolder(deps: PolicyHolderDeps): Promise<PolicyHolder> {
  const { log, pinnedDatabases: pinned } = deps;
  const files = await deps.read();
  const parsed = parsePolicy(files, pinned);
  if (!('policy' in parsed)) throw startError(deps.repoDir, parsed.diagnostics);
  const built = buildEngines(parsed.policy.databases.values(), deps.createEngine);
  if ('error' in built) throw built.error;
  if (files.risk === null) warnNoRiskPolicy(log, deps.repoDir);

  let policy = parsed.policy;
  let engines = built.engines;
  let audit: AuditLog | null = null;
  /** Content refused last, so polling a broken file records it once, not every tick. */
  let refusedHash: string | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  async function refuse(
    trigger: ReloadTrigger,
    diagnostics: readonly Diagnostic[],
    contentHash: string,
  ): Promise<ReloadOutcome> {
    const lines = diagnostics.map(formatDiagnostic);
    log.error(
      { trigger, diagnostics: lines, policyHash: policy.hash },
      `Policy reload refused; the policy in force is kept:\n${lines.join('\n')}`,
    );
    if (contentHash === refusedHash) {
      return { decision: 'refused', policy, diagnostics, recorded: false };
    }
    const recorded = await record(
      {
        decision: 'refused',
        code: diagnostics[0]?.code ?? 'POLICY_INVALID',
        details: {
          trigger,
          codes: [...new Set(diagnostics.map((d) => d.code))],
          diagnostics: diagnostics.map((d) => ({
            file: d.file,
            line: d.line,
            column: d.column,
            field: d.field,
            code: d.code,
            message: d.message,
          })),
          policyHash: policy.hash,
          refusedHash: contentHash,
        },
      },
      'the refusal',
    );
    // Not remembered when unrecorded, so the next attempt tries to write it again.
    if (recorded) refusedHash = contentHash;
    return { decision: 'refused', policy, diagnostics, recorded };
  }

  /** Appends a `config.reloaded` record; false (logged) when the log cannot write. */
  async function record(event: Omit<AuditEvent, 'type' | 'actor'>, what: string) {
    if (audit === null) throw new GatehouseError('INTERNAL', 'policy holder used before start');
    try {
      await audit.append({ type: 'config.reloaded', actor: ACTOR, ...event }, deps.clock());
      return true;
    } catch (error) {
      log.error({ err: error }, `Policy reload: the audit record of ${what} could not be written`);
      return false;
    }
  }

  async function reloadOnce(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = await deps.read();
    const parsed = parsePolicy(next, pinned);
    if (!('policy' in parsed)) {
      // Keyed by content and diagnostics, so a file that stays broken (or unreadable) is
      // recorded once, not on every poll.
      const contentHash = createHash('sha256')
        .update(
          canonical({
            files: [next.databases, next.risk].map((b) => (b === null ? null : gitBlobId(b))),
            diagnostics: parsed.diagnostics,
          }),
        )
        .digest('hex');
      return refuse(trigger, parsed.diagnostics, contentHash);
    }
    if (parsed.policy.hash === policy.hash) {
      refusedHash = null;
      // Said for a signal (someone is watching the log), not for every poll.
      if (trigger !== 'interval') {
        log.info({ trigger, policyHash: policy.hash }, 'Policy unchanged; nothing to reload');
      }
      return { decision: 'unchanged', policy };
    }

    const before = policy;
    const { change, databases } = diffDatabases(before.databases, parsed.policy.databases);
    const fresh = buildEngines(
      [...change.added, ...change.changed].map((id) => databases.get(id) as DatabaseConfig),
      deps.createEngine,
    );
    if ('error' in fresh) {
      return refuse(
        trigger,
        [
          {
            file: DATABASES_PATH,
            line: 0,
            column: 0,
            field: `databases.${fresh.database}`,
            code: fresh.error.code,
            message: fresh.error.message,
          },
        ],
        parsed.policy.hash,
      );
    }
    const after: Policy = { ...parsed.policy, databases };
    const written = await record(
      {
        decision: 'applied',
        code: null,
        details: {
          trigger,
          databasesAdded: change.added,
          databasesRemoved: change.removed,
          databasesChanged: change.changed,
          policyHashBefore: before.hash,
          policyHashAfter: after.hash,
          files: after.files,
        },
      },
      'the change',
    );
    if (!written) {
      for (const built of fresh.engines.values()) void built.retire();
      return {
        decision: 'failed',
        policy,
        code: 'AUDIT_UNAVAILABLE',
        message: 'The policy change could not be recorded in the audit log; it was not applied.',
      };
    }

    // The swap: one assignment each, no await in between, so a request sees either the old
    // policy with its engines or the new one with its engines.
    const retiring = [...change.removed, ...change.changed]
      .map((id) => engines.get(id))
      .filter((e): e is ServedEngine => e !== undefined);
    const nextEngines = new Map(engines);
    for (const id of change.removed) nextEngines.delete(id);
    for (const [id, built] of fresh.engines) nextEngines.set(id, built);
    policy = after;
    engines = nextEngines;
    refusedHash = null;
    for (const old of retiring) void old.retire();

    if (next.risk === null) warnNoRiskPolicy(log, deps.repoDir);
    log.info(
      {
        trigger,
        databasesAdded: change.added,
        databasesRemoved: change.removed,
        databasesChanged: change.changed,
        policyHashBefore: before.hash,
        policyHashAfter: after.hash,
      },
      'Policy reloaded',
    );
    return { decision: 'applied', before, after, change };
  }

  return {
    current: () => policy,
    engineFor(id) {
      const found = engines.get(id);
      if (found === undefined) {
        throw new GatehouseError('UNKNOWN_DATABASE', `No database '${id}'.`);
      }
      return found.engine;
    },
    async start(sink) {
      audit = sink;
      const ok = await record(
        { decision: 'initial', code: null, details: policyDetails(policy) },
        'the initial policy',
      );
      if (!ok) {
        throw new GatehouseError(
          'AUDIT_UNAVAILABLE',
          'The policy in force could not be recorded in the audit log.',
        );
      }
    },
    reload(trigger) {
      const run = queue.then(async () => {
        try {
          return await reloadOnce(trigger);
        } catch (error) {
          // A bug, not bad input: keep the policy in force and say so.
          log.error({ err: error, trigger }, 'Policy reload failed; the policy in force is kept');
          return {
            decision: 'failed',
            policy,
            code: 'INTERNAL',
            message: (error as Error).message,
          } as const;
        }
      });
      queue = run;
      return run;
    },
    async close() {
      await queue;
      const all = [...engines.values()];
      engines = new Map();
      await Promise.allSettled(all.map((e) => e.engine.close()));
    },
  };
}

function warnNoRiskPolicy(log: PolicyLog, repoDir: string): void {
  log.warn(
    { file: RISK_POLICY_PATH, repoDir },
    'No risk policy in GATEHOUSE_REPO_DIR: GET /v1/audit answers 403 to everyone (no auditors)',
  );
}
