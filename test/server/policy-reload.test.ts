/**
 * Hot reload of policies/databases.yaml and policies/risk.yaml (issue 6: the audit log records
 * every configuration reload). `gatehouse serve` is started the way users start it (runServe
 * with an environment) over a temporary policies directory; real MariaDB and PostgreSQL
 * databases, real SQLite state, GitHub's /user served by a loopback stand-in.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runServe } from '../../src/cli/commands/serve.js';
import {
  openPolicyHolder,
  readPolicyFiles,
  type PolicyLog,
} from '../../src/config/policy-holder.js';
import type { Engine, QueryResult } from '../../src/engines/engine.js';
import { createQueryService } from '../../src/gateway/query-service.js';
import { grantId } from '../../src/grants/grant-id.js';
import type { DatabaseConfig } from '../../src/policy/databases.js';
import { initSqlAnalysis } from '../../src/sql/analyze-sql.js';
import type { State } from '../../src/state/open-state.js';
import type { Gatehouse } from '../../src/wiring.js';
import { startFakeGithubUsers, type FakeGithubUsers } from './support/fake-github-users.js';
import {
  createGatewayFixture,
  ENGINE_ENV,
  MYSQL_DB,
  PASSWORD_ENV,
  PG_DB,
  switchableAudit,
  testClock,
  type GatewayFixture,
} from './support/gateway-fixture.js';

const T0 = '2030-06-01T09:00:00Z';
const HOUR = 3_600_000;
const DATABASES = 'policies/databases.yaml';
const RISK = 'policies/risk.yaml';

interface Captured extends CliIo {
  readonly out: string[];
  readonly err: string[];
}

function captureIo(env: Record<string, string | undefined>): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, cwd: dir };
}

interface Running {
  readonly gatehouse: Gatehouse;
  readonly stop: () => void;
  readonly exit: Promise<number>;
}

/** `gatehouse serve`; `onReloadSignal` absent means the real SIGHUP handler. */
async function startServe(
  env: Record<string, string | undefined>,
  onReloadSignal?: (reload: () => void) => () => void,
): Promise<Running> {
  let stop: (signal: string) => void = () => undefined;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  let listening: (g: Gatehouse) => void = () => undefined;
  const started = new Promise<Gatehouse>((resolve) => (listening = resolve));
  const io = captureIo(env);
  const exit = runServe([], io, {
    stopSignal,
    onListening: listening,
    ...(onReloadSignal === undefined ? {} : { onReloadSignal }),
  });
  const gatehouse = await Promise.race([
    started,
    exit.then((code) => {
      throw new Error(`serve exited ${code}: ${io.err.join('')}`);
    }),
  ]);
  return { gatehouse, stop: () => stop('SIGTERM'), exit };
}

let fx: GatewayFixture;
let github: FakeGithubUsers;
let dir: string;
let baseEnv: Record<string, string>;

function entry(id: string, engine: 'mysql' | 'postgres', passwordEnv = PASSWORD_ENV): string {
  return `  ${id}:
    engine: ${engine}
    environment: test
    host: 127.0.0.1
    port: ${engine === 'mysql' ? 3306 : 5432}
    name: ${engine === 'mysql' ? fx.mysqlName : fx.pgName}
    auth:
      password:
        user: ${fx.user}
        passwordEnv: ${passwordEnv}
`;
}

const ONLY_A = () => `databases:\n${entry(MYSQL_DB, 'mysql')}`;
const A_AND_B = () => `databases:\n${entry(MYSQL_DB, 'mysql')}${entry(PG_DB, 'postgres')}`;

function riskYaml(auditors: readonly string[]): string {
  return `levels:
  low:
    approvals:
      - count: 1
        from: [codeowners]
    maxDuration: 7d
  policy-change:
    approvals:
      - count: 2
        from: ['@acme/security']
rules:
  - name: test
    match:
      environment: test
    level: low
meta:
  level: policy-change
auditors: [${auditors.join(', ')}]
`;
}

/** A fresh checkout directory with the two policy files. */
function policiesDir(databases: string, risk: string): string {
  const repo = mkdtempSync(join(dir, 'repo-'));
  mkdirSync(join(repo, 'policies'));
  writeFileSync(join(repo, DATABASES), databases);
  writeFileSync(join(repo, RISK), risk);
  return repo;
}

async function grant(state: State, database: string, tables: readonly string[], n: number) {
  const t0 = new Date(T0).getTime();
  const filePath = `access/${database}/alice-${n}.yaml`;
  const mergeSha = String(n).padStart(40, 'a');
  await state.grants.insert({
    id: grantId('acme/access', filePath, mergeSha),
    repo: 'acme/access',
    requester: 'alice',
    database,
    tables,
    access: 'read',
    level: 'low',
    reason: 'incident 7',
    ticket: null,
    filePath,
    prNumber: n,
    prUrl: `https://github.com/acme/access/pull/${n}`,
    headSha: 'b'.repeat(40),
    mergeSha,
    approvers: [{ login: 'dba-dana', reviewId: n }],
    activatedAt: new Date(t0 - HOUR),
    expiresAt: new Date(t0 + 2 * HOUR),
  });
}

type Json = Record<string, unknown> & { error?: { code: string } };

async function query(url: string, database: string, sql: string) {
  const res = await fetch(`${url}/v1/query`, {
    method: 'POST',
    headers: { authorization: 'Bearer ghp_alice', 'content-type': 'application/json' },
    body: JSON.stringify({ database, sql }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function reloads(state: State): Promise<readonly AuditRecord[]> {
  return state.audit.query({ types: ['config.reloaded'] });
}

function gitBlob(path: string): string {
  return execFileSync('git', ['hash-object', path], { encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  fx = await createGatewayFixture(testClock().clock);
  github = await startFakeGithubUsers({ ghp_alice: 'alice', ghp_dana: 'dana' });
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-reload-'));
  const clockFile = join(dir, 'clock');
  writeFileSync(clockFile, T0);
  baseEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    GATEHOUSE_GITHUB_API_URL: github.url,
    GATEHOUSE_CLOCK_FILE: clockFile,
    GATEHOUSE_LOG_LEVEL: 'silent',
    ...ENGINE_ENV,
  };
});

afterAll(async () => {
  await github?.close();
  await fx?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('policy reload through gatehouse serve', () => {
  let repo: string;
  let running: Running;
  let signal: () => void = () => undefined;
  let url: string;
  let state: State;

  beforeAll(async () => {
    repo = policiesDir(ONLY_A(), riskYaml(['dana']));
    running = await startServe(
      { ...baseEnv, GATEHOUSE_REPO_DIR: repo, GATEHOUSE_STATE: join(repo, 'gatehouse.db') },
      (reload) => {
        signal = reload;
        return () => (signal = () => undefined);
      },
    );
    ({ url, state } = running.gatehouse);
    await grant(state, MYSQL_DB, ['employee'], 1);
  });

  afterAll(async () => {
    running?.stop();
    expect(await running?.exit).toBe(0);
  });

  it('records the policy in force at start, with the git blob ids of its files', async () => {
    const [initial, ...more] = await reloads(state);
    expect(more).toEqual([]);
    expect(initial).toMatchObject({
      type: 'config.reloaded',
      actor: 'gatehouse',
      decision: 'initial',
      code: null,
      details: {
        databases: [MYSQL_DB],
        files: { [DATABASES]: gitBlob(join(repo, DATABASES)), [RISK]: gitBlob(join(repo, RISK)) },
      },
    });
    expect(initial?.details?.['policyHash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves database A; B is not declared yet', async () => {
    const a = await query(url, MYSQL_DB, 'SELECT emp_no FROM employee WHERE emp_no = 1');
    expect(a).toMatchObject({ status: 200, body: { rows: [[1]] } });
    const b = await query(url, PG_DB, 'SELECT emp_no FROM employee WHERE emp_no = 1');
    expect(b.status).toBe(404);
    expect(b.body.error?.code).toBe('UNKNOWN_DATABASE');
  });

  it('adds database B on the reload signal, and records what changed', async () => {
    const [initial] = await reloads(state);
    writeFileSync(join(repo, DATABASES), A_AND_B());
    await grant(state, PG_DB, ['employee'], 2);
    signal();
    await vi.waitFor(async () => expect(await reloads(state)).toHaveLength(2), {
      timeout: 10_000,
    });
    const applied = (await reloads(state))[1];
    expect(applied).toMatchObject({
      actor: 'gatehouse',
      decision: 'applied',
      code: null,
      details: {
        trigger: 'signal',
        databasesAdded: [PG_DB],
        databasesRemoved: [],
        databasesChanged: [],
        policyHashBefore: initial?.details?.['policyHash'],
        files: { [DATABASES]: gitBlob(join(repo, DATABASES)) },
      },
    });
    expect(applied?.details?.['policyHashAfter']).not.toBe(initial?.details?.['policyHash']);

    const b = await query(url, PG_DB, 'SELECT emp_no FROM employee WHERE emp_no = 2');
    expect(b).toMatchObject({ status: 200, body: { rows: [[2]] } });
    const a = await query(url, MYSQL_DB, 'SELECT emp_no FROM employee WHERE emp_no = 3');
    expect(a).toMatchObject({ status: 200, body: { rows: [[3]] } });
    const ready = await fetch(`${url}/readyz?databases=1`);
    expect(((await ready.json()) as { databases: unknown }).databases).toEqual({
      [MYSQL_DB]: 'ok',
      [PG_DB]: 'ok',
    });
  });

  it('records nothing when the files hold the policy in force', async () => {
    const before = await reloads(state);
    const outcome = await running.gatehouse.reloadPolicy();
    expect(outcome.decision).toBe('unchanged');
    expect(await reloads(state)).toHaveLength(before.length);
  });

  it('refuses a broken databases.yaml, keeps the policy in force and records the code once', async () => {
    const before = await reloads(state);
    const inForce = before.at(-1)?.details?.['policyHashAfter'];
    writeFileSync(join(repo, DATABASES), `${A_AND_B()}${entry(MYSQL_DB, 'mysql')}`);
    const outcome = await running.gatehouse.reloadPolicy('manual');
    expect(outcome).toMatchObject({ decision: 'refused', recorded: true });
    if (outcome.decision !== 'refused') throw new Error('unreachable');
    expect(outcome.diagnostics[0]).toMatchObject({
      file: DATABASES,
      line: 22,
      code: 'YAML_DUPLICATE_KEY',
    });

    const records = await reloads(state);
    expect(records).toHaveLength(before.length + 1);
    expect(records.at(-1)).toMatchObject({
      decision: 'refused',
      code: 'YAML_DUPLICATE_KEY',
      details: {
        trigger: 'manual',
        codes: ['YAML_DUPLICATE_KEY'],
        policyHash: inForce,
        diagnostics: [{ file: DATABASES, line: 22, code: 'YAML_DUPLICATE_KEY' }],
      },
    });

    // The same broken content again (the poll would see it every tick): refused, not recorded.
    expect(await running.gatehouse.reloadPolicy()).toMatchObject({
      decision: 'refused',
      recorded: false,
    });
    expect(await reloads(state)).toHaveLength(before.length + 1);

    const a = await query(url, MYSQL_DB, 'SELECT emp_no FROM employee WHERE emp_no = 4');
    expect(a).toMatchObject({ status: 200, body: { rows: [[4]] } });
    const b = await query(url, PG_DB, 'SELECT emp_no FROM employee WHERE emp_no = 5');
    expect(b).toMatchObject({ status: 200, body: { rows: [[5]] } });
  });

  it('refuses a database whose engine cannot be built (a password variable not set at start)', async () => {
    writeFileSync(
      join(repo, DATABASES),
      `databases:\n${entry(MYSQL_DB, 'mysql')}${entry(PG_DB, 'postgres', 'GATEHOUSE_TEST_NOT_SET')}`,
    );
    const outcome = await running.gatehouse.reloadPolicy();
    expect(outcome).toMatchObject({ decision: 'refused', recorded: true });
    expect((await reloads(state)).at(-1)).toMatchObject({
      decision: 'refused',
      code: 'CONFIG_INVALID',
      details: { diagnostics: [{ file: DATABASES, field: `databases.${PG_DB}` }] },
    });
    const b = await query(url, PG_DB, 'SELECT emp_no FROM employee WHERE emp_no = 6');
    expect(b).toMatchObject({ status: 200, body: { rows: [[6]] } });
  });

  it('refuses a broken risk.yaml and keeps the auditors in force', async () => {
    writeFileSync(join(repo, DATABASES), A_AND_B());
    writeFileSync(join(repo, RISK), riskYaml(['dana', 'alice']).replace('level: low', 'level: lo'));
    const outcome = await running.gatehouse.reloadPolicy();
    expect(outcome).toMatchObject({ decision: 'refused', recorded: true });
    expect((await reloads(state)).at(-1)).toMatchObject({
      decision: 'refused',
      code: 'POLICY_INVALID',
      details: { diagnostics: [{ file: RISK, code: 'POLICY_INVALID' }] },
    });
    const audit = await fetch(`${url}/v1/audit`, {
      headers: { authorization: 'Bearer ghp_alice' },
    });
    expect(audit.status).toBe(403);
  });

  it('applies a new auditors list: alice may read GET /v1/audit at once', async () => {
    writeFileSync(join(repo, RISK), riskYaml(['dana', 'alice']));
    const outcome = await running.gatehouse.reloadPolicy();
    expect(outcome.decision).toBe('applied');
    expect((await reloads(state)).at(-1)).toMatchObject({
      decision: 'applied',
      details: { databasesAdded: [], databasesRemoved: [], databasesChanged: [] },
    });
    const audit = await fetch(`${url}/v1/audit?type=config.reloaded`, {
      headers: { authorization: 'Bearer ghp_alice' },
    });
    expect(audit.status).toBe(200);
  });

  it('removes database B: its queries are refused UNKNOWN_DATABASE (audited), A still works', async () => {
    writeFileSync(join(repo, DATABASES), ONLY_A());
    const outcome = await running.gatehouse.reloadPolicy();
    expect(outcome).toMatchObject({
      decision: 'applied',
      change: { added: [], removed: [PG_DB], changed: [] },
    });
    expect((await reloads(state)).at(-1)).toMatchObject({
      decision: 'applied',
      details: { databasesAdded: [], databasesRemoved: [PG_DB], databasesChanged: [] },
    });
    const b = await query(url, PG_DB, 'SELECT emp_no FROM employee WHERE emp_no = 7');
    expect(b.status).toBe(404);
    expect(b.body.error?.code).toBe('UNKNOWN_DATABASE');
    const refused = await state.audit.query({ types: ['query.attempt'], database: PG_DB });
    expect(refused.at(-1)).toMatchObject({ decision: 'refused', code: 'UNKNOWN_DATABASE' });
    const a = await query(url, MYSQL_DB, 'SELECT emp_no FROM employee WHERE emp_no = 8');
    expect(a).toMatchObject({ status: 200, body: { rows: [[8]] } });
  });

  it('keeps the audit chain valid through every reload', async () => {
    expect(await state.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('reload triggers', () => {
  it('reloads on a real SIGHUP to the process', async () => {
    const listeners = process.listenerCount('SIGHUP');
    const repo = policiesDir(ONLY_A(), riskYaml(['dana']));
    const running = await startServe({
      ...baseEnv,
      GATEHOUSE_REPO_DIR: repo,
      GATEHOUSE_STATE: join(repo, 'gatehouse.db'),
    });
    try {
      const { state } = running.gatehouse;
      writeFileSync(join(repo, DATABASES), A_AND_B());
      process.kill(process.pid, 'SIGHUP');
      await vi.waitFor(
        async () =>
          expect((await reloads(state)).at(-1)).toMatchObject({
            decision: 'applied',
            details: { trigger: 'signal', databasesAdded: [PG_DB] },
          }),
        { timeout: 10_000 },
      );
    } finally {
      running.stop();
      expect(await running.exit).toBe(0);
    }
    // Stopped: a closed server no longer listens for SIGHUP.
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });

  it('polls the files every GATEHOUSE_POLICY_RELOAD_INTERVAL', async () => {
    const repo = policiesDir(ONLY_A(), riskYaml(['dana']));
    const running = await startServe(
      {
        ...baseEnv,
        GATEHOUSE_REPO_DIR: repo,
        GATEHOUSE_STATE: join(repo, 'gatehouse.db'),
        GATEHOUSE_POLICY_RELOAD_INTERVAL: '50ms',
      },
      () => () => undefined,
    );
    try {
      const { state } = running.gatehouse;
      writeFileSync(join(repo, DATABASES), A_AND_B());
      await vi.waitFor(
        async () =>
          expect((await reloads(state)).at(-1)).toMatchObject({
            decision: 'applied',
            details: { trigger: 'interval', databasesAdded: [PG_DB] },
          }),
        { timeout: 10_000 },
      );
      // Unchanged files on later ticks add nothing.
      const count = (await reloads(state)).length;
      await running.gatehouse.reloadPolicy('interval');
      expect(await reloads(state)).toHaveLength(count);
    } finally {
      running.stop();
      expect(await running.exit).toBe(0);
    }
  });

  it('refuses to start on a broken policy file, naming file, line and code', async () => {
    const repo = policiesDir(`${ONLY_A()}${entry(MYSQL_DB, 'mysql')}`, riskYaml(['dana']));
    const io = captureIo({
      ...baseEnv,
      GATEHOUSE_REPO_DIR: repo,
      GATEHOUSE_STATE: join(repo, 'gatehouse.db'),
    });
    expect(await runServe([], io, { stopSignal: Promise.resolve('SIGTERM') })).toBe(2);
    expect(io.err.join('')).toMatch(
      /POLICY_INVALID: policies\/databases.yaml is invalid:\n.*:12:\d+ YAML_DUPLICATE_KEY/,
    );
  });
});

describe('the policy holder', () => {
  /** An engine of our own interface whose statements finish when the test says so. */
  function heldEngine(kind: 'mysql' | 'postgres') {
    const pending: (() => void)[] = [];
    let closed = 0;
    const engine: Engine = {
      kind,
      execute: () =>
        new Promise<QueryResult>((resolve) =>
          pending.push(() =>
            resolve({ columns: [], rows: [], rowCount: 0, truncated: false, durationMs: 0 }),
          ),
        ),
      ping: async () => undefined,
      close: async () => {
        closed += 1;
      },
    };
    return { engine, finish: () => pending.splice(0).forEach((f) => f()), closed: () => closed };
  }

  function captureLog(): PolicyLog & { readonly lines: string[] } {
    const lines: string[] = [];
    const push = (_details: object, message: string) => lines.push(message);
    return { lines, info: push, warn: push, error: push };
  }

  it('closes the engine of a removed database only after its running statement ends', async () => {
    const repo = policiesDir(A_AND_B(), riskYaml(['dana']));
    const engines = new Map<string, ReturnType<typeof heldEngine>>();
    const log = captureLog();
    const holder = await openPolicyHolder({
      read: () => readPolicyFiles(repo),
      repoDir: repo,
      createEngine: (db: DatabaseConfig) => {
        const held = heldEngine(db.engine);
        engines.set(db.id, held);
        return held.engine;
      },
      clock: () => new Date(T0),
      log,
    });
    await holder.start(fx.state.audit);
    const running = holder
      .engineFor(PG_DB)
      .execute('SELECT 1', { maxRows: 1, maxBytes: 1024, timeoutMs: 1000 });

    writeFileSync(join(repo, DATABASES), ONLY_A());
    expect(await holder.reload('manual')).toMatchObject({ decision: 'applied' });
    expect(() => holder.engineFor(PG_DB)).toThrow(`No database '${PG_DB}'.`);
    expect(engines.get(PG_DB)?.closed()).toBe(0);
    engines.get(PG_DB)?.finish();
    await running;
    await vi.waitFor(() => expect(engines.get(PG_DB)?.closed()).toBe(1));
    expect(engines.get(MYSQL_DB)?.closed()).toBe(0);

    writeFileSync(join(repo, DATABASES), `databases:\n\t${entry(MYSQL_DB, 'mysql')}`);
    expect(await holder.reload('manual')).toMatchObject({ decision: 'refused' });
    expect(log.lines.at(-1)).toMatch(
      /^Policy reload refused; the policy in force is kept:\npolicies\/databases.yaml:2:1 YAML_TAB_INDENT /,
    );
    await holder.close();
    expect(engines.get(MYSQL_DB)?.closed()).toBe(1);
  });

  it('changes nothing when the applied record cannot be written, and retries an unwritten refusal', async () => {
    const repo = policiesDir(ONLY_A(), riskYaml(['dana']));
    const audit = switchableAudit(fx.state.audit);
    const holder = await openPolicyHolder({
      read: () => readPolicyFiles(repo),
      repoDir: repo,
      createEngine: (db: DatabaseConfig) => heldEngine(db.engine).engine,
      clock: () => new Date(T0),
      log: captureLog(),
    });
    await holder.start(audit);
    const inForce = holder.current();

    writeFileSync(join(repo, DATABASES), A_AND_B());
    audit.failing = true;
    expect(await holder.reload('manual')).toMatchObject({
      decision: 'failed',
      code: 'AUDIT_UNAVAILABLE',
    });
    expect(holder.current()).toBe(inForce);
    expect(() => holder.engineFor(PG_DB)).toThrow(`No database '${PG_DB}'.`);

    writeFileSync(join(repo, RISK), 'levels: [');
    expect(await holder.reload('manual')).toMatchObject({ decision: 'refused', recorded: false });
    audit.failing = false;
    expect(await holder.reload('manual')).toMatchObject({ decision: 'refused', recorded: true });
    expect(await holder.reload('manual')).toMatchObject({ decision: 'refused', recorded: false });

    writeFileSync(join(repo, RISK), riskYaml(['dana']));
    expect(await holder.reload('manual')).toMatchObject({
      decision: 'applied',
      change: { added: [PG_DB] },
    });
    expect(holder.current().databases.get(MYSQL_DB)).toBe(inForce.databases.get(MYSQL_DB));
    await holder.close();
  });

  it('never runs a statement checked under a database entry a reload replaced', async () => {
    await initSqlAnalysis();
    const a = fx.databases.get(MYSQL_DB) as DatabaseConfig;
    const moved: DatabaseConfig = { ...a, name: 'another_schema' };
    let calls = 0;
    // The first read is the check, the next ones see the policy after a reload.
    const databases = () => new Map([[MYSQL_DB, (calls += 1) === 1 ? a : moved]]);
    await fx.grant('alice', MYSQL_DB, ['employee'], {
      from: new Date(new Date(T0).getTime() - HOUR),
      until: new Date(new Date(T0).getTime() + HOUR),
    });
    const engine = fx.engines.get(MYSQL_DB);
    const executed = engine?.executions.length;
    const service = createQueryService({
      databases,
      grants: fx.state.grants,
      audit: fx.state.audit,
      engines: () => engine as Engine,
      clock: () => new Date(T0),
      limits: {
        statementTimeoutMs: 5000,
        defaultMaxRows: 10,
        maxRowsCap: 10,
        maxResultBytes: 1 << 20,
        redactSqlLiterals: false,
      },
    });
    const outcome = await service.query({
      identity: { login: 'alice', via: 'github' },
      database: MYSQL_DB,
      sql: 'SELECT emp_no FROM employee',
      requestId: 'reload-race',
      clientAddress: null,
    });
    expect(outcome).toMatchObject({ ok: false, code: 'DATABASE_UNAVAILABLE' });
    expect(engine?.executions.length).toBe(executed);
  });
});
