/**
 * `npm run demo` (`gatehouse demo`): the whole just-in-time lifecycle of issue 7, narrated,
 * with no GitHub, AWS or database server. Real Gatehouse (`startGatehouse`, the same wiring as
 * `gatehouse serve`, with its review gate, lifecycle, query gateway and audit log), real CLI
 * commands (`request --open-pr`, `grants`, `query`, `audit`), the embedded PostgreSQL with the
 * employee sample as `hr_demo`, and the simulated GitHub of the tests (test/fake-github), which
 * sends signed webhooks when people act. Time is moved, not waited for.
 *
 * Run with tsx (a dev dependency): `npm run demo`, or `node --import tsx demo/run.ts`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../src/cli/cli-io.js';
import { runAudit } from '../src/cli/commands/audit.js';
import { runGrants } from '../src/cli/commands/grants.js';
import { runQuery } from '../src/cli/commands/query.js';
import { request } from '../src/cli/commands/request.js';
import { loadConfig } from '../src/config/config.js';
import { demoDatabases } from '../src/demo/demo-databases.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/demo/embedded-database.js';
import { runExpiry } from '../src/grants/lifecycle/lifecycle-app.js';
import { loadDatabases } from '../src/policy/load-databases.js';
import { startGatehouse, type Gatehouse } from '../src/wiring.js';
import {
  FakeHttpError,
  generateAppPrivateKey,
  startFakeGitHub,
  type FakeGitHub,
} from '../test/fake-github/fake-github.js';
import {
  ACCESS_REPO,
  accessRepositoryFiles,
  botComments,
  gatehouseCheck,
  PEOPLE,
  REPO_ROOT,
  seedAccessRepository,
} from '../test/e2e/support/access-repo.js';

const color = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
const paint = (code: string) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');
const cyan = paint('36');

const started = Date.now();
let stepNumber = 0;

function step(title: string): void {
  stepNumber += 1;
  process.stdout.write(`\n${bold(cyan(`${String(stepNumber).padStart(2)}.`))} ${bold(title)}\n`);
}

function say(text: string): void {
  process.stdout.write(`    ${text}\n`);
}

/** Indented output of a command, as the person running it would see it. */
function shown(text: string, max = 40): void {
  // Hidden markers (<!-- gatehouse:… -->) are for the app, not for people.
  const lines = text
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .replace(/\n+$/, '')
    .split('\n');
  for (const line of lines.slice(0, max)) process.stdout.write(`    ${dim('│')} ${line}\n`);
  if (lines.length > max)
    process.stdout.write(`    ${dim(`│ … ${lines.length - max} more lines`)}\n`);
}

function command(text: string): void {
  process.stdout.write(`    ${yellow('$')} ${text}\n`);
}

/** Runs a CLI command in-process with its own environment, capturing what it prints. */
async function cli(
  run: (args: readonly string[], io: CliIo) => Promise<number>,
  args: readonly string[],
  env: Record<string, string>,
  cwd = process.cwd(),
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    env,
    cwd,
  });
  return { code, out, err };
}

function check(fake: FakeGitHub, number: number): string {
  const run = gatehouseCheck(fake, number);
  if (run === null) return red('no check yet');
  const mark = run.conclusion === 'success' ? green('✔ success') : red(`✘ ${run.conclusion}`);
  return `${mark}  "${run.title}"`;
}

function fail(message: string): never {
  throw new Error(`demo: ${message}`);
}

async function main(): Promise<void> {
  process.stdout.write(
    `${bold('Gatehouse demo')}: just-in-time, read-only, audited database access as code.\n` +
      dim(
        'A simulated GitHub, an embedded PostgreSQL and the real Gatehouse, all in this process.\n',
      ),
  );

  // Time is moved, not waited for: the server, the fake GitHub and the commands share it.
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  let fake: FakeGitHub | undefined;
  let embedded: EmbeddedDatabase | undefined;
  let gatehouse: Gatehouse | undefined;
  try {
    step('Setting up: a simulated GitHub, the embedded database, and Gatehouse');
    const privateKey = generateAppPrivateKey();
    fake = await startFakeGitHub({
      appId: 4242,
      privateKeyPem: privateKey,
      webhookSecret: 'demo-secret',
      now: clock,
    });
    const databasesYaml = readFileSync(join(REPO_ROOT, 'policies', 'databases.yaml'), 'utf8');
    await seedAccessRepository(fake, accessRepositoryFiles(databasesYaml));
    say(
      `GitHub: ${ACCESS_REPO} with this repository's policies/ and CODEOWNERS; main is protected`,
    );
    say(`        (the "Gatehouse / access policy" check must be green to merge)`);
    say(`people: alice (developer), carol (developer), dave (@acme/dba), sam (@acme/security)`);

    say(dim('starting the embedded PostgreSQL (PGlite; a few seconds)…'));
    embedded = await startEmbeddedDatabase({ port: 0 });
    const declared = loadDatabases('policies/databases.yaml', databasesYaml).databases;
    if (declared === undefined) fail('policies/databases.yaml does not load');
    const { databases } = demoDatabases(declared, embedded);
    say(
      `database: hr_demo = embedded PostgreSQL at ${embedded.host}:${embedded.port} (employee, title, salary, department)`,
    );

    const statePath = join(work, 'state', 'gatehouse.db');
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      GATEHOUSE_REPO_DIR: REPO_ROOT,
      GATEHOUSE_STATE: statePath,
      GATEHOUSE_REPOSITORY: ACCESS_REPO,
      GATEHOUSE_GITHUB_API_URL: fake.apiUrl,
      APP_ID: String(fake.appId),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'demo-secret',
      // The simulated GitHub has no rate limits; Probot's 1-3 s spacing would only slow us.
      GATEHOUSE_GITHUB_THROTTLE: 'off',
      // Jobs run when the story needs them (below), not on timers.
      GATEHOUSE_RECONCILE_INTERVAL: '0',
      GATEHOUSE_EXPIRY_INTERVAL: '0',
      GATEHOUSE_LOG_LEVEL: process.env['GATEHOUSE_LOG_LEVEL'] ?? 'silent',
      GATEHOUSE_DEMO_PASSWORD: 'demo',
    };
    const config = loadConfig(env, work);
    // PGlite runs one session: one connection.
    gatehouse = await startGatehouse({ ...config, poolSize: 1 }, clock, { databases });
    fake.setWebhook({ url: `${gatehouse.url}/api/github/webhooks` });
    say(`Gatehouse: ${gatehouse.url} (webhooks at /api/github/webhooks), state in ${statePath}`);
    const lifecycle = gatehouse.lifecycle ?? fail('the GitHub App side did not start');
    const as = (person: { token: string }) => ({
      GATEHOUSE_TOKEN: person.token,
      GATEHOUSE_SERVER: gatehouse?.url ?? '',
    });

    // A working copy of the access repository, as alice has it on her laptop.
    const checkout = join(work, 'access');
    for (const [path, text] of Object.entries(accessRepositoryFiles(databasesYaml))) {
      mkdirSync(join(checkout, path, '..'), { recursive: true });
      writeFileSync(join(checkout, path), text);
    }

    step('alice is on call and needs to read `employee` on hr_demo for 2 hours');
    const requestArgs = [
      'hr_demo',
      '--tables',
      'employee',
      '--for',
      '2h',
      '--reason',
      'INC-4711: payroll export misses new hires',
      '--ticket',
      'INC-4711',
      '--requester',
      'alice',
      '--open-pr',
    ];
    command(`gatehouse request ${requestArgs.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`);
    const opened = await cli(
      request,
      requestArgs,
      {
        ...as(PEOPLE.alice),
        GATEHOUSE_REPOSITORY: ACCESS_REPO,
        GATEHOUSE_GITHUB_API_URL: fake.apiUrl,
      },
      checkout,
    );
    shown(opened.out + opened.err, 16);
    if (opened.code !== 0) fail('gatehouse request failed');
    await fake.idle();
    const pr = (fake.pullRequests(ACCESS_REPO, 'open') as { number: number }[])[0]?.number;
    if (pr === undefined) fail('no pull request was opened');

    step(`GitHub sends the webhook; Gatehouse checks PR #${pr}`);
    say(`check: ${check(fake, pr)}`);
    say(`label: ${fake.labels(ACCESS_REPO, pr).join(', ')}`);
    const firstComment = botComments(fake, pr)[0];
    if (firstComment !== undefined) {
      say('comment for alice:');
      shown(firstComment, 10);
    }

    step('alice tries to merge anyway');
    try {
      await fake.merge({ repo: ACCESS_REPO, number: pr, by: 'alice' });
      fail('the merge went through a red check');
    } catch (error) {
      if (!(error instanceof FakeHttpError)) throw error;
      say(`GitHub refuses (branch protection): ${red(error.message)}`);
    }

    step('carol, a colleague who is not a DBA, approves');
    await fake.review({ repo: ACCESS_REPO, number: pr, reviewer: 'carol', state: 'APPROVED' });
    await fake.idle();
    say(`check: ${check(fake, pr)}`);
    say(dim('(her approval does not count: the medium level needs one approval from @acme/dba)'));

    step('dave (@acme/dba) approves');
    await fake.review({ repo: ACCESS_REPO, number: pr, reviewer: 'dave', state: 'APPROVED' });
    await fake.idle();
    say(`check: ${check(fake, pr)}`);

    step('dave merges: the grant becomes active');
    await fake.merge({ repo: ACCESS_REPO, number: pr, by: 'dave' });
    await fake.idle();
    const activation = botComments(fake, pr).at(-1);
    if (activation !== undefined) {
      say('Gatehouse comments on the merged PR:');
      shown(activation, 14);
    }
    command('gatehouse grants');
    const grants = await cli(runGrants, [], as(PEOPLE.alice));
    shown(grants.out + grants.err, 8);
    if (grants.code !== 0) fail('gatehouse grants failed');

    step('alice queries `employee` through Gatehouse');
    const employeeSql =
      'SELECT emp_no, first_name, last_name, hire_date FROM employee ORDER BY emp_no LIMIT 5';
    command(`gatehouse query hr_demo "${employeeSql}"`);
    const rows = await cli(runQuery, ['hr_demo', employeeSql], as(PEOPLE.alice));
    shown(rows.out + rows.err, 12);
    if (rows.code !== 0) fail('the granted query was refused');

    step('alice tries `salary`, which her grant does not cover');
    const salarySql = 'SELECT e.last_name, s.amount FROM employee e JOIN salary s USING (emp_no)';
    command(`gatehouse query hr_demo "${salarySql}"`);
    const refused = await cli(runQuery, ['hr_demo', salarySql], as(PEOPLE.alice));
    shown(refused.out + refused.err, 10);
    if (refused.code === 0) fail('salary was not refused');
    say(dim('(the hint is the exact request that would cover it; nothing reached the database)'));

    step('2 hours and 1 minute later: the grant has expired');
    offsetMs += 2 * 3_600_000 + 60_000;
    say(`clock: ${clock().toISOString()}`);
    command(`gatehouse query hr_demo "${employeeSql}"`);
    const expired = await cli(runQuery, ['hr_demo', employeeSql], as(PEOPLE.alice));
    shown(expired.out + expired.err, 8);
    if (expired.code === 0) fail('the expired grant still worked');
    say(dim('(access ends on time whatever happens to pull requests: checked on every query)'));

    step('The expiry sweep opens a revocation PR (`gatehouse expire`, or every minute in `serve`)');
    const sweep = await runExpiry(lifecycle);
    await fake.idle();
    const revocations = (
      fake.pullRequests(ACCESS_REPO, 'open') as {
        number: number;
        title: string;
        head: { ref: string };
      }[]
    ).filter((p) => p.head.ref.startsWith('gatehouse/revoke/'));
    const revocation = revocations[0];
    if (revocations.length !== 1 || revocation === undefined) {
      fail(`expected one revocation PR, found ${revocations.length}`);
    }
    say(`opened PR #${revocation.number} "${revocation.title}" from ${revocation.head.ref}`);
    say(
      `sweep: ${sweep.sweep.items.length} grant(s) handled; check: ${check(fake, revocation.number)}`,
    );
    const again = await runExpiry(lifecycle);
    await fake.idle();
    const stillOne = (fake.pullRequests(ACCESS_REPO, 'all') as { head: { ref: string } }[]).filter(
      (p) => p.head.ref.startsWith('gatehouse/revoke/'),
    ).length;
    say(
      `a second sweep changes nothing: ${stillOne} revocation PR (${again.sweep.items.length} item(s) re-checked)`,
    );

    step('dave merges the revocation, no approval needed: the request file is gone from main');
    say(`check: ${check(fake, revocation.number)}`);
    say(
      dim('(the grant has expired: deleting its file removes no access, so nobody has to approve)'),
    );
    await fake.merge({ repo: ACCESS_REPO, number: revocation.number, by: 'dave' });
    await fake.idle();
    const files = fake.listFiles(ACCESS_REPO).filter((f) => f.startsWith('access/'));
    say(`access/ on main: ${files.length === 0 ? 'empty' : files.join(', ')}`);

    step('An auditor verifies the hash-chained audit log');
    command('gatehouse audit verify');
    const verify = await cli(runAudit, ['verify', '--state', statePath], {});
    shown(verify.out + verify.err, 6);
    if (verify.code !== 0) fail('the audit chain does not verify');

    step(`…and reads the whole story of the grant`);
    command(`gatehouse audit grant ${pr}`);
    const story = await cli(runAudit, ['grant', String(pr), '--state', statePath], {});
    shown(story.out + story.err, 80);
    if (story.code !== 0) fail('gatehouse audit grant failed');

    if (fake.unhandled.length > 0) {
      fail(
        `the app called GitHub routes the fake does not serve: ${fake.unhandled.map((r) => `${r.method} ${r.path}`).join(', ')}`,
      );
    }
    process.stdout.write(
      `\n${green(bold('Done'))} in ${((Date.now() - started) / 1000).toFixed(1)} s. ` +
        `Next: README.md ("Production") to connect a real GitHub App and databases.\n`,
    );
  } finally {
    await gatehouse?.close();
    await embedded?.stop();
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `\n${red('The demo failed')}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
