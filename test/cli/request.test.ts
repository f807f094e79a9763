import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadRepoContext } from '../../src/policy/repo-context.js';
import { directoryReader } from '../../src/requests/local-repository.js';
import { validateRequestFile } from '../../src/requests/validate-request.js';
import { captureIo, tempRepository } from '../requests/cli-fixture.js';
import { startFakeGitHub } from '../fake-github/fake-github.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function repo(files: Record<string, string> = {}) {
  const r = await tempRepository(files);
  cleanups.push(r.cleanup);
  return r.root;
}

const TODAY = new Date().toISOString().slice(0, 10);

async function files(root: string, database: string): Promise<string[]> {
  return (await readdir(path.join(root, 'access', database)).catch(() => [])).sort();
}

describe('gatehouse request', () => {
  it('writes a valid file and prints the risk, the approvers and the git commands', async () => {
    const root = await repo();
    const io = captureIo(root);
    const code = await main(
      [
        'request',
        'hr_prod',
        '--tables',
        'employee, salary',
        '--for',
        '4h',
        '--reason',
        'INC-42: payroll export # is missing rows',
        '--requester',
        'alice',
        '--ticket',
        'INC-42',
      ],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const name = `alice-${TODAY}-employee-salary.yaml`;
    expect(await files(root, 'hr_prod')).toEqual([name]);
    const text = await readFile(path.join(root, 'access/hr_prod', name), 'utf8');
    expect(text).toBe(
      [
        '# yaml-language-server: $schema=../../schemas/access-request.schema.json',
        'requester: alice',
        'database: hr_prod',
        'tables:',
        '  - employee',
        '  - salary',
        'access: read',
        'duration: 4h',
        'reason: "INC-42: payroll export # is missing rows"',
        'ticket: INC-42',
        '',
      ].join('\n'),
    );
    // The written file passes THE validation, as the review gate will run it.
    const { context } = await loadRepoContext(directoryReader(root));
    const result = validateRequestFile({
      path: `access/hr_prod/${name}`,
      bytes: text,
      context: context!,
      now: new Date(),
      author: 'alice',
    });
    expect(result.diagnostics).toEqual([]);

    const out = io.out();
    expect(out).toContain(`Wrote access/hr_prod/${name}`);
    expect(out).toContain('risk       high (rule prod-sensitive), at most 8h');
    expect(out).toContain(
      'approvals  1 approval from @acme/dba and 1 approval from @acme/security',
    );
    expect(out).toContain(`git switch -c access/alice-${TODAY}-employee-salary`);
    expect(out).toContain(`git add access/hr_prod/${name}`);
    expect(out).toContain('git push -u origin');
  });

  it('takes the requester from git config github.user', async () => {
    const root = await repo();
    await promisify(execFile)('git', ['init', '-q'], { cwd: root });
    await promisify(execFile)('git', ['config', 'github.user', 'carol'], { cwd: root });
    const io = captureIo(root);
    const code = await main(
      ['request', 'hr_test', '--tables', '*', '--until', '2099-01-01T00:00:00Z', '--reason', 'x'],
      io,
    );
    // 2099 is far beyond the test level's 7d maximum: refused, nothing written.
    expect(code).toBe(1);
    expect(io.err()).toContain('REQ_DURATION_TOO_LONG');
    expect(await files(root, 'hr_test')).toEqual([]);

    const ok = captureIo(root);
    expect(
      await main(['request', 'hr_test', '--tables', '*', '--for', '2d', '--reason', 'x'], ok),
    ).toBe(0);
    expect(await files(root, 'hr_test')).toEqual([`carol-${TODAY}-all.yaml`]);
    expect(ok.out()).toContain('approvals  1 approval from @acme/dba');
  });

  it('never overwrites: --name that exists is REQ_FILE_EXISTS, a default name gets a suffix', async () => {
    const existing = 'requester: bob\n';
    const root = await repo({ 'access/hr_prod/mine.yaml': existing });
    const args = ['request', 'hr_prod', '--tables', 'employee', '--for', '1h', '--reason', 'x'];
    const io = captureIo(root);
    expect(await main([...args, '--requester', 'alice', '--name', 'mine'], io)).toBe(1);
    expect(io.err()).toContain('REQ_FILE_EXISTS');
    expect(await readFile(path.join(root, 'access/hr_prod/mine.yaml'), 'utf8')).toBe(existing);

    expect(await main([...args, '--requester', 'alice'], captureIo(root))).toBe(0);
    expect(await main([...args, '--requester', 'alice'], captureIo(root))).toBe(0);
    expect(await files(root, 'hr_prod')).toEqual([
      `alice-${TODAY}-employee-2.yaml`,
      `alice-${TODAY}-employee.yaml`,
      'mine.yaml',
    ]);
  });

  it('refuses an invalid request with its codes and writes nothing', async () => {
    const root = await repo();
    const cases: [string[], string][] = [
      [['hr_prod', '--tables', 'salaries', '--for', '1h'], 'REQ_UNKNOWN_TABLE'],
      [['hr_staging', '--tables', 'employee', '--for', '1h'], 'REQ_UNKNOWN_DATABASE'],
      [['hr_prod', '--tables', 'employee', '--for', '0h'], 'REQ_DURATION_ZERO'],
      [['hr_prod', '--tables', 'employee', '--for', '4 hours'], 'REQ_DURATION_FORMAT'],
      [['hr_prod', '--tables', 'employee', '--until', '2030-01-01T00:00'], 'REQ_EXPIRES_FORMAT'],
      [['hr_prod', '--tables', 'employee', '--until', '2001-01-01T00:00:00Z'], 'REQ_EXPIRES_PAST'],
      [['analytics_prod', '--tables', 'payments', '--for', '1h'], 'POLICY_DENIED'],
      [['../../etc', '--tables', 'employee', '--for', '1h'], 'REQ_PATH'],
    ];
    for (const [args, code] of cases) {
      const io = captureIo(root);
      expect(await main(['request', ...args, '--reason', 'x', '--requester', 'alice'], io)).toBe(1);
      expect(io.err()).toContain('nothing was written');
      expect(io.err()).toContain(code);
    }
    expect(await readdir(root)).toEqual(expect.not.arrayContaining(['access']));
  });

  it('exits 2 on usage errors', async () => {
    const root = await repo();
    const base = ['--tables', 'employee', '--for', '1h', '--reason', 'x', '--requester', 'alice'];
    const cases: [string[], string][] = [
      [base, 'name the database'],
      [['hr_prod', '--for', '1h', '--reason', 'x', '--requester', 'a'], '--tables is required'],
      [['hr_prod', ...base, '--until', '2030-01-01T00:00:00Z'], 'exactly one of --for'],
      [
        ['hr_prod', '--tables', 'employee', '--for', '1h', '--requester', 'a'],
        '--reason is required',
      ],
      [['hr_prod', ...base.slice(0, 6)], 'pass --requester'],
      [['hr_prod', ...base, '--name', '../x'], '--name ../x'],
      [['hr_prod', ...base, '--bogus'], "Unknown option '--bogus'"],
      [['hr_prod', 'extra', ...base], 'unexpected argument extra'],
    ];
    for (const [args, message] of cases) {
      const io = captureIo(root);
      expect(await main(['request', ...args], io), message).toBe(2);
      expect(io.err()).toContain(message);
    }
  });

  it('--open-pr pushes a branch and opens the pull request (against the fake GitHub)', async () => {
    const root = await repo();
    const github = await startFakeGitHub();
    cleanups.push(() => github.close());
    github.addUser('alice', { token: 'alice-token' });
    await github.createRepo('acme', 'access', { files: { 'README.md': 'access\n' } });
    const io = captureIo(root, {
      GATEHOUSE_TOKEN: 'alice-token',
      GATEHOUSE_REPOSITORY: 'acme/access',
      GATEHOUSE_GITHUB_API_URL: github.apiUrl,
    });
    const args = ['hr_prod', '--tables', 'employee', '--for', '1h', '--reason', 'INC-7'];
    expect(await main(['request', ...args, '--requester', 'alice', '--open-pr'], io)).toBe(0);
    const [pr] = github.pullRequests('acme/access');
    expect(pr).toBeDefined();
    expect(io.out()).toContain(`Opened ${pr?.html_url}`);
    const [name] = await files(root, 'hr_prod');
    expect(
      github.readFile(
        'acme/access',
        `access/hr_prod/${name}`,
        String((pr?.head as { ref: string }).ref),
      ),
    ).toContain('requester: alice');
  });

  it('--open-pr without a token keeps the file and says how to finish (exit 1)', async () => {
    const root = await repo();
    const io = captureIo(root, {
      GATEHOUSE_REPOSITORY: 'acme/access',
      GATEHOUSE_GITHUB_API_URL: 'http://127.0.0.1:9/api/v3',
      PATH: '/nonexistent', // no `gh` to ask
    });
    const args = ['hr_prod', '--tables', 'employee', '--for', '1h', '--reason', 'x'];
    expect(await main(['request', ...args, '--requester', 'alice', '--open-pr'], io)).toBe(1);
    expect(io.err()).toContain('PR_TOKEN_MISSING');
    expect(await files(root, 'hr_prod')).toHaveLength(1);
  });

  it('exits 2 when the policies are broken', async () => {
    const root = await repo({ 'policies/databases.yaml': 'databases: []\n' });
    const io = captureIo(root);
    const args = ['hr_prod', '--tables', 'employee', '--for', '1h', '--reason', 'x'];
    expect(await main(['request', ...args, '--requester', 'alice'], io)).toBe(2);
    expect(io.err()).toContain('policies/databases.yaml:1:12 SCHEMA_WRONG_TYPE');
  });
});
