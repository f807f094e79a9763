/**
 * Issue 7: the whole just-in-time lifecycle the way users meet it. `gatehouse serve` runs as a
 * child process pointed at the simulated GitHub (GHE_HOST, signed webhooks), with REAL MariaDB
 * (hr_prod) and PostgreSQL (analytics_prod) read by one SELECT-only user, SQLite state, and its
 * clock moved through GATEHOUSE_CLOCK_FILE. Every other command (`request --open-pr`, `query`,
 * `reconcile`, `audit`) is the CLI as a child process too.
 *
 * Per database: a developer opens a PR for `employee` for 2h → the check is red and names the
 * DBA team → a non-owner approves → still red → a DBA approves → green → merge → grant active,
 * comment posted → `employee` returns rows → `salary` is refused with the request hint → a
 * second request for `salary` (high risk) needs two approvals → the clock passes the first
 * expiry → `employee` refused → exactly one revocation PR (opened by the server's expiry
 * sweep) → merged → grant revoked → `audit verify` passes and `audit grant` tells the story.
 * On analytics_prod the merge webhook is lost (healed by `gatehouse reconcile`) and the
 * server restarts in the middle.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateAppPrivateKey,
  startFakeGitHub,
  type FakeGitHub,
} from '../fake-github/fake-github.js';
import {
  ACCESS_REPO,
  accessRepositoryFiles,
  botComments,
  gatehouseCheck,
  PEOPLE,
  seedAccessRepository,
  type Person,
} from './support/access-repo.js';
import {
  createE2eDatabases,
  EMPLOYEES,
  MARKER,
  PASSWORD_ENV,
  type E2eDatabases,
} from './support/e2e-databases.js';
import {
  ensureBuilt,
  eventually,
  gatehouse,
  startServer,
  type CliResult,
  type ServerProcess,
} from './support/gatehouse-process.js';

const HOUR = 3_600_000;
const WEBHOOK_SECRET = 'e2e-webhook-secret';

let fake: FakeGitHub;
let dbs: E2eDatabases;
let dir: string;
let clockFile: string;
let statePath: string;
let serverEnv: Record<string, string>;
let server: ServerProcess;
/** What the server's clock (and the fake GitHub's) is ahead of real time. */
let offsetMs = 0;

function moveClockTo(at: Date): void {
  offsetMs = at.getTime() - Date.now();
  writeFileSync(clockFile, String(offsetMs));
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

async function start(): Promise<void> {
  server = await startServer(serverEnv);
  fake.setWebhook({ url: `${server.url}/api/github/webhooks` });
}

const cliEnv = (person: Person): Record<string, string> => ({
  GATEHOUSE_TOKEN: person.token,
  GATEHOUSE_SERVER: server.url,
});

/** `gatehouse request … --open-pr` from alice's checkout; returns the PR number. */
async function requestAccess(database: string, tables: string, duration: string): Promise<number> {
  const result = await gatehouse(
    [
      'request',
      database,
      '--tables',
      tables,
      '--for',
      duration,
      '--reason',
      `INC-7: on call, checking ${tables}`,
      '--ticket',
      'INC-7',
      '--requester',
      PEOPLE.alice.login,
      '--open-pr',
    ],
    {
      cwd: join(dir, 'alice'),
      env: {
        GATEHOUSE_TOKEN: PEOPLE.alice.token,
        GATEHOUSE_REPOSITORY: ACCESS_REPO,
        GHE_HOST: fake.host,
        GHE_PROTOCOL: 'http',
      },
    },
  );
  expect(result.code, result.stderr).toBe(0);
  const number = /\/pull\/(\d+)/.exec(result.stdout)?.[1];
  expect(number, result.stdout).toBeDefined();
  return Number(number);
}

async function query(database: string, sql: string): Promise<CliResult> {
  return gatehouse(['query', database, sql, '--format', 'json'], { env: cliEnv(PEOPLE.alice) });
}

interface GrantJson {
  readonly id: string;
  readonly database: string;
  readonly tables: readonly string[];
  readonly activatedAt: string;
  readonly expiresAt: string;
  readonly prNumber: number;
  readonly approvers: readonly string[];
}

async function grantsOf(person: Person): Promise<readonly GrantJson[]> {
  const response = await fetch(`${server.url}/v1/grants`, {
    headers: { authorization: `Bearer ${person.token}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { grants: GrantJson[] }).grants;
}

async function grantFor(prNumber: number): Promise<GrantJson | undefined> {
  return (await grantsOf(PEOPLE.alice)).find((g) => g.prNumber === prNumber);
}

/** The check after every webhook so far has been handled. */
async function settledCheck(number: number) {
  await fake.idle();
  return eventually(
    `the Gatehouse check on PR #${number}`,
    () => gatehouseCheck(fake, number) ?? undefined,
  );
}

async function approve(number: number, reviewer: Person): Promise<void> {
  await fake.review({ repo: ACCESS_REPO, number, reviewer: reviewer.login, state: 'APPROVED' });
  await fake.idle();
  const delivery = fake.deliveriesOf('pull_request_review', 'submitted').at(-1);
  expect(delivery?.state, delivery?.error ?? '').toBe('delivered');
}

function revocationPulls(
  grantId: string,
): { number: number; state: string; merged_at: string | null }[] {
  return (
    fake.pullRequests(ACCESS_REPO, 'all') as {
      number: number;
      state: string;
      merged_at: string | null;
      head: { ref: string };
    }[]
  ).filter((pull) => pull.head.ref === `gatehouse/revoke/${grantId}`);
}

/** Completed runs of the server's expiry job so far (one log line each). */
function expiryRuns(): number {
  return server.logs.filter((line) => line.includes('"lifecycle: expiry finished"')).length;
}

beforeAll(async () => {
  ensureBuilt();
  dbs = await createE2eDatabases();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  const privateKey = generateAppPrivateKey();
  fake = await startFakeGitHub({
    appId: 4242,
    privateKeyPem: privateKey,
    webhookSecret: WEBHOOK_SECRET,
    now: () => new Date(Date.now() + offsetMs),
  });
  const files = accessRepositoryFiles(dbs.databasesYaml);
  await seedAccessRepository(fake, files);
  // The service's checkout (GATEHOUSE_REPO_DIR: databases to connect to, auditors) and the
  // developer's (what `gatehouse request` validates against).
  writeTree(join(dir, 'service'), files);
  writeTree(join(dir, 'alice'), files);
  clockFile = join(dir, 'clock');
  writeFileSync(clockFile, '0');
  statePath = join(dir, 'state', 'gatehouse.db');
  serverEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    GATEHOUSE_REPO_DIR: join(dir, 'service'),
    GATEHOUSE_STATE: statePath,
    GATEHOUSE_REPOSITORY: ACCESS_REPO,
    APP_ID: String(fake.appId),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    GHE_HOST: fake.host,
    GHE_PROTOCOL: 'http',
    GATEHOUSE_CLOCK_FILE: clockFile,
    // The simulated GitHub has no rate limits; Probot's 1-3 s spacing would only slow us.
    GATEHOUSE_GITHUB_THROTTLE: 'off',
    // The expiry sweep runs on the server's own timer; reconcile runs at start only (the
    // lost webhook below must be healed by `gatehouse reconcile`, not by a timer).
    GATEHOUSE_EXPIRY_INTERVAL: '500ms',
    GATEHOUSE_RECONCILE_INTERVAL: '24h',
    GATEHOUSE_LOG_LEVEL: 'info',
    [PASSWORD_ENV]: dbs.password,
  };
  await start();
}, 240_000);

afterAll(async () => {
  const code = await server?.stop();
  await fake?.close();
  await dbs?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
});

interface Scenario {
  readonly database: string;
  readonly engine: string;
  /** Lose the merge's webhook, then heal it with `gatehouse reconcile`. */
  readonly loseMergeWebhook: boolean;
  /** Restart the server once the grant is active. */
  readonly restartWhileActive: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { database: 'hr_prod', engine: 'MariaDB', loseMergeWebhook: false, restartWhileActive: false },
  {
    database: 'analytics_prod',
    engine: 'PostgreSQL',
    loseMergeWebhook: true,
    restartWhileActive: true,
  },
];

for (const scenario of SCENARIOS) {
  const { database } = scenario;
  describe.sequential(`${database} (${scenario.engine})`, () => {
    let employeePr = 0;
    let salaryPr = 0;
    let employeeGrant: GrantJson;

    it('a request for employee gets a red check naming the DBA team', async () => {
      employeePr = await requestAccess(database, 'employee', '2h');
      const check = await settledCheck(employeePr);
      expect(check.conclusion).toBe('action_required');
      expect(check.title).toContain('@acme/dba');
      expect(fake.labels(ACCESS_REPO, employeePr)).toEqual(['gatehouse:risk-medium']);
    }, 60_000);

    it('a non-owner approval leaves it red; a DBA approval turns it green', async () => {
      await approve(employeePr, PEOPLE.carol);
      const afterCarol = await settledCheck(employeePr);
      expect(afterCarol.conclusion).toBe('action_required');
      expect(afterCarol.title).toContain('0 of 1');

      await approve(employeePr, PEOPLE.dave);
      expect((await settledCheck(employeePr)).conclusion).toBe('success');
    }, 60_000);

    if (scenario.loseMergeWebhook) {
      it('a lost merge webhook leaves no grant; gatehouse reconcile heals it', async () => {
        fake.dropNextDelivery('pull_request.closed');
        await fake.merge({ repo: ACCESS_REPO, number: employeePr, by: PEOPLE.dave.login });
        await fake.idle();
        expect(fake.deliveriesOf('pull_request', 'closed').at(-1)?.state).toBe('dropped');
        expect(await grantFor(employeePr)).toBeUndefined();
        const refused = await query(database, 'SELECT emp_no FROM employee');
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('SQL_NO_GRANT');

        const healed = await gatehouse(['reconcile'], { env: serverEnv });
        expect(healed.code, healed.stderr + healed.stdout).toBe(0);
        employeeGrant = await eventually('the reconciled grant', () => grantFor(employeePr));
        expect(employeeGrant.tables).toEqual(['employee']);
      }, 60_000);
    } else {
      it('merging activates the grant for 2 hours and comments on the PR', async () => {
        await fake.merge({ repo: ACCESS_REPO, number: employeePr, by: PEOPLE.dave.login });
        await fake.idle();
        employeeGrant = await eventually('the activated grant', () => grantFor(employeePr));
        expect(employeeGrant.database).toBe(database);
        expect(employeeGrant.tables).toEqual(['employee']);
        expect(employeeGrant.approvers).toEqual([PEOPLE.dave.login]);
        expect(Date.parse(employeeGrant.expiresAt) - Date.parse(employeeGrant.activatedAt)).toBe(
          2 * HOUR,
        );
        const comment = await eventually('the activation comment', () =>
          botComments(fake, employeePr).find((body) => body.includes(employeeGrant.id)),
        );
        expect(comment).toContain(`gatehouse query ${database}`);
      }, 60_000);
    }

    if (scenario.restartWhileActive) {
      it('survives a restart: state kept, the grant still listed', async () => {
        expect(await server.stop()).toBe(0);
        await start();
        expect((await grantFor(employeePr))?.id).toBe(employeeGrant.id);
      }, 90_000);
    }

    it('gatehouse query returns rows of employee and refuses salary with the request hint', async () => {
      const rows = await query(
        database,
        'SELECT emp_no, first_name, last_name FROM employee ORDER BY emp_no',
      );
      expect(rows.code, rows.stderr).toBe(0);
      const body = JSON.parse(rows.stdout) as { rowCount: number; rows: unknown[][] };
      expect(body.rowCount).toBe(EMPLOYEES);
      expect(body.rows[0]?.[0]).toBe(10001);

      const refused = await query(
        database,
        'SELECT e.last_name, s.amount, s.note FROM employee e JOIN salary s ON s.emp_no = e.emp_no',
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('SQL_TABLE_NOT_GRANTED');
      expect(refused.stderr).toContain(`gatehouse request ${database} --tables salary`);
      expect(refused.stdout + refused.stderr).not.toContain(MARKER);
    }, 60_000);

    it('a request for salary is high risk: it needs a DBA and security', async () => {
      salaryPr = await requestAccess(database, 'salary', '6h');
      const opened = await settledCheck(salaryPr);
      expect(opened.conclusion).toBe('action_required');
      expect(opened.title).toContain('@acme/dba');
      expect(opened.title).toContain('@acme/security');
      expect(fake.labels(ACCESS_REPO, salaryPr)).toEqual(['gatehouse:risk-high']);

      await approve(salaryPr, PEOPLE.dave);
      const one = await settledCheck(salaryPr);
      expect(one.conclusion).toBe('action_required');
      expect(one.title).toContain('1 of 2');
      expect(one.title).toContain('@acme/security');

      await approve(salaryPr, PEOPLE.sam);
      expect((await settledCheck(salaryPr)).conclusion).toBe('success');
      await fake.merge({ repo: ACCESS_REPO, number: salaryPr, by: PEOPLE.sam.login });
      await fake.idle();
      await eventually('the salary grant', () => grantFor(salaryPr));
      const salary = await query(database, 'SELECT emp_no, amount FROM salary ORDER BY emp_no');
      expect(salary.code, salary.stderr).toBe(0);
    }, 90_000);

    it('past the first expiry: employee refused, exactly one revocation PR, merged, revoked', async () => {
      const runsBefore = expiryRuns();
      moveClockTo(new Date(Date.parse(employeeGrant.expiresAt) + 60_000));
      const refused = await query(database, 'SELECT emp_no FROM employee');
      expect(refused.code).toBe(1);
      // The salary grant (6 h) is still active, so the database is granted but not the table.
      expect(refused.stderr).toContain('SQL_TABLE_NOT_GRANTED');
      expect((await query(database, 'SELECT count(*) AS n FROM salary')).code).toBe(0);

      const pr = await eventually('the revocation PR', () => revocationPulls(employeeGrant.id)[0]);
      // Further sweeps, the server's and `gatehouse expire` beside it, find the PR and open
      // no other.
      await eventually('two more expiry sweeps', () =>
        expiryRuns() >= runsBefore + 3 ? true : undefined,
      );
      const rerun = await gatehouse(['expire'], { env: serverEnv });
      expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
      await fake.idle();
      expect(revocationPulls(employeeGrant.id)).toHaveLength(1);
      expect(fake.labels(ACCESS_REPO, pr.number)).toContain('gatehouse:revocation');
      const body = (fake.pullRequest(ACCESS_REPO, pr.number) as { body: string }).body;
      expect(body).toContain('@alice');
      expect(body).toContain('@dave');

      // The App opened it, but the grant has expired: deleting its file removes no access, so
      // the required check is green with no review at all (docs/github-app.md).
      const revocationCheck = await settledCheck(pr.number);
      expect(revocationCheck.conclusion).toBe('success');
      expect(revocationCheck.summary).toContain(
        `the grant for this file expired at ${new Date(employeeGrant.expiresAt).toISOString()}; deleting it removes no access`,
      );
      await fake.merge({ repo: ACCESS_REPO, number: pr.number, by: PEOPLE.dave.login });
      await fake.idle();
      await eventually('the grant to be revoked', async () =>
        (await grantFor(employeePr)) === undefined ? true : undefined,
      );
      const runsAfterMerge = expiryRuns();
      await eventually('two more expiry sweeps', () =>
        expiryRuns() >= runsAfterMerge + 2 ? true : undefined,
      );
      expect(revocationPulls(employeeGrant.id)).toEqual([
        expect.objectContaining({ number: pr.number, state: 'closed' }),
      ]);
      expect(
        fake.listFiles(ACCESS_REPO).filter((f) => f.startsWith(`access/${database}/`)),
      ).toEqual([expect.stringContaining('salary')]);
    }, 90_000);

    it('gatehouse audit verify passes and gatehouse audit grant tells the whole story', async () => {
      const verify = await gatehouse(['audit', 'verify', '--state', statePath], { env: {} });
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);

      const text = await gatehouse(['audit', 'grant', String(employeePr), '--state', statePath], {
        env: {},
      });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(employeeGrant.id);
      expect(text.stdout).toContain(`access/${database}/`);

      const json = await gatehouse(
        ['audit', 'grant', employeeGrant.id, '--format', 'json', '--state', statePath],
        { env: {} },
      );
      expect(json.code, json.stderr).toBe(0);
      const story = JSON.parse(json.stdout) as {
        grantId: string;
        request: { requester: string; database: string; tables: string[]; level: string };
        pullRequest: { number: number };
        approvals: { login: string }[];
        activation: { at: string | null; mergeSha: string | null; expiresAt: string | null };
        queries: { decision: string | null; rows: number | null; sql: string | null }[];
        revocationPr: { number: number | null; mergedAt: string | null } | null;
        end: { kind: string; by: string | null } | null;
      };
      expect(story.grantId).toBe(employeeGrant.id);
      expect(story.request).toMatchObject({
        requester: 'alice',
        database,
        tables: ['employee'],
        level: 'medium',
      });
      expect(story.pullRequest.number).toBe(employeePr);
      expect(story.approvals.map((a) => a.login)).toContain('dave');
      expect(story.activation.at).not.toBeNull();
      expect(story.activation.mergeSha).toMatch(/^[0-9a-f]{40}$/);
      expect(story.activation.expiresAt).toBe(employeeGrant.expiresAt);
      expect(story.queries).toContainEqual(
        expect.objectContaining({ decision: 'succeeded', rows: EMPLOYEES }),
      );
      expect(story.revocationPr?.number).toBe(revocationPulls(employeeGrant.id)[0]?.number);
      expect(story.revocationPr?.mergedAt).not.toBeNull();
      expect(story.end?.kind).toBe('revoked');

      // Over HTTP, only auditors read it: sam through his @acme/security membership, which
      // the server asks GitHub as the App's installation; alice is refused.
      const asAuditor = await fetch(`${server.url}/v1/audit?grant=${employeeGrant.id}`, {
        headers: { authorization: `Bearer ${PEOPLE.sam.token}` },
      });
      expect(asAuditor.status).toBe(200);
      const page = (await asAuditor.json()) as { records: { type: string }[] };
      expect(page.records.map((r) => r.type)).toEqual(
        expect.arrayContaining(['grant.activated', 'query.attempt', 'grant.revoked']),
      );
      const asRequester = await fetch(`${server.url}/v1/audit`, {
        headers: { authorization: `Bearer ${PEOPLE.alice.token}` },
      });
      expect(asRequester.status).toBe(403);
      expect(((await asRequester.json()) as { error: { code: string } }).error.code).toBe(
        'AUTH_FORBIDDEN',
      );
    }, 60_000);
  });
}

describe('the whole run', () => {
  it('called only GitHub routes that exist', () => {
    expect(fake.unhandled).toEqual([]);
  });
});
