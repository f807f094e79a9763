import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo, tempRepository, VALID_REQUEST } from '../requests/cli-fixture.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
async function repo(files: Record<string, string> = {}) {
  const r = await tempRepository(files);
  cleanups.push(r.cleanup);
  return r.root;
}

const INVALID_REQUEST = VALID_REQUEST.replace('access: read', 'access: write').concat(
  'colour: blue\n',
);

describe('gatehouse validate', () => {
  it('exits 0 and lists each valid file with its risk', async () => {
    const root = await repo({
      'access/hr_prod/alice.yaml': VALID_REQUEST,
      'access/hr_test/bob.yaml': VALID_REQUEST.replace('hr_prod', 'hr_test').replace(
        'alice',
        'bob',
      ),
    });
    const io = captureIo(root);
    expect(await main(['validate'], io)).toBe(0);
    expect(io.out()).toBe(
      'ok  access/hr_prod/alice.yaml  risk medium (rule prod): 1 approval from @acme/dba; at most 1d\n' +
        'ok  access/hr_test/bob.yaml  risk low (rule test): 1 approval from @acme/dba; at most 7d\n' +
        '2 files checked, 0 invalid.\n',
    );
    expect(io.err()).toBe('');
  });

  it('exits 1 and prints file:line:column code message for each problem', async () => {
    const root = await repo({
      'access/hr_prod/alice.yaml': VALID_REQUEST,
      'access/hr_prod/bad.yaml': INVALID_REQUEST,
    });
    const io = captureIo(root);
    expect(await main(['validate', 'access/'], io)).toBe(1);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toEqual([
      'ok  access/hr_prod/alice.yaml  risk medium (rule prod): 1 approval from @acme/dba; at most 1d',
      'access/hr_prod/bad.yaml:5:9 REQ_ACCESS_KIND access must be read: Gatehouse grants read-only access only.',
      expect.stringMatching(
        /^access\/hr_prod\/bad\.yaml:8:1 SCHEMA_UNKNOWN_KEY Unknown key 'colour'\./,
      ),
      '2 files checked, 1 invalid.',
    ]);
  });

  it('--json prints [{file, ok, risk, errors:[{line, column, field, code, message}]}]', async () => {
    const root = await repo({
      'access/hr_prod/alice.yaml': VALID_REQUEST,
      'access/hr_prod/bad.yaml': INVALID_REQUEST,
      'access/hr_prod/too-long.yaml': VALID_REQUEST.replace('4h', '3d'),
    });
    const io = captureIo(root);
    expect(await main(['validate', '--json'], io)).toBe(1);
    const results = JSON.parse(io.out()) as unknown[];
    expect(results).toEqual([
      { file: 'access/hr_prod/alice.yaml', ok: true, risk: 'medium', errors: [] },
      {
        file: 'access/hr_prod/bad.yaml',
        ok: false,
        risk: null,
        errors: [
          {
            line: 5,
            column: 9,
            field: 'access',
            code: 'REQ_ACCESS_KIND',
            message: expect.any(String),
          },
          {
            line: 8,
            column: 1,
            field: 'colour',
            code: 'SCHEMA_UNKNOWN_KEY',
            message: expect.any(String),
          },
        ],
      },
      {
        file: 'access/hr_prod/too-long.yaml',
        ok: false,
        risk: 'medium',
        errors: [
          {
            line: 6,
            column: 11,
            field: 'duration',
            code: 'REQ_DURATION_TOO_LONG',
            message: expect.any(String),
          },
        ],
      },
    ]);
    for (const result of results as { errors: object[] }[]) {
      for (const error of result.errors) {
        expect(Object.keys(error)).toEqual(['line', 'column', 'field', 'code', 'message']);
      }
    }
  });

  it('reports the risk level of a denied request', async () => {
    const root = await repo({
      'access/analytics_prod/x.yaml': VALID_REQUEST.replace('hr_prod', 'analytics_prod').replace(
        '[employee]',
        '[payments]',
      ),
    });
    const io = captureIo(root);
    expect(await main(['validate', '--json'], io)).toBe(1);
    expect(JSON.parse(io.out())).toEqual([
      expect.objectContaining({
        ok: false,
        risk: 'denied',
        errors: [expect.objectContaining({ code: 'POLICY_DENIED' })],
      }),
    ]);
  });

  it('checks the named files and directories, shown relative to the working directory', async () => {
    const root = await repo({
      'access/hr_prod/alice.yaml': VALID_REQUEST,
      'access/hr_prod/bad.yaml': INVALID_REQUEST,
      'access/hr_test/other.yml': VALID_REQUEST,
    });
    const io = captureIo(path.join(root, 'access', 'hr_prod'));
    expect(await main(['validate', 'alice.yaml', '../hr_test'], io)).toBe(1);
    expect(io.out()).toContain('ok  alice.yaml  risk medium');
    // A .yml file is reported, not skipped.
    expect(io.out()).toContain('../hr_test/other.yml:0:0 REQ_PATH');
    expect(io.out()).not.toContain('bad.yaml');
  });

  it('validates the policies when they are named, and always loads them', async () => {
    const root = await repo({ 'access/hr_prod/alice.yaml': VALID_REQUEST });
    const io = captureIo(root);
    expect(await main(['validate', 'policies/', 'access/hr_prod/alice.yaml'], io)).toBe(0);
    expect(io.out()).toContain('ok  policies/databases.yaml\n');
    expect(io.out()).toContain('ok  policies/risk.yaml\n');
  });

  it('exits 2 when the policies are invalid, listing their problems', async () => {
    const root = await repo({
      'access/hr_prod/alice.yaml': VALID_REQUEST,
      'policies/risk.yaml':
        'levels:\n  low:\n    deny: no\nrules:\n  - name: x\n    match: {}\n    level: lowe\nmeta:\n  level: low\n',
    });
    const io = captureIo(root);
    expect(await main(['validate'], io)).toBe(2);
    expect(io.err()).toContain('policies are invalid');
    expect(io.out()).toMatch(
      /^policies\/risk\.yaml:7:12 POLICY_INVALID Rule 'x' names level 'lowe'/,
    );

    const json = captureIo(root);
    expect(await main(['validate', '--json'], json)).toBe(2);
    expect(JSON.parse(json.out())).toEqual([
      {
        file: 'policies/risk.yaml',
        ok: false,
        risk: null,
        errors: [
          expect.objectContaining({ code: 'POLICY_INVALID', line: 7, field: 'rules[0].level' }),
        ],
      },
    ]);
  });

  it('exits 2 on usage errors: unknown option, missing path, no repository', async () => {
    const root = await repo();
    const unknown = captureIo(root);
    expect(await main(['validate', '--frobnicate'], unknown)).toBe(2);
    expect(unknown.err()).toContain('Usage: gatehouse validate');

    const missing = captureIo(root);
    expect(await main(['validate', 'access/nope.yaml'], missing)).toBe(2);
    expect(missing.err()).toContain('access/nope.yaml: no such file or directory');

    const outside = captureIo(path.parse(root).root);
    expect(await main(['validate'], outside)).toBe(2);
    expect(outside.err()).toContain('no policies/databases.yaml');
  });

  it('exits 0 on a repository with no requests yet', async () => {
    const root = await repo();
    const io = captureIo(root);
    expect(await main(['validate'], io)).toBe(0);
    expect(io.out()).toBe('No request files to check.\n');
    await mkdir(path.join(root, 'access'));
    expect(await main(['validate', '--json'], captureIo(root))).toBe(0);
  });

  it('--help exits 0', async () => {
    const io = captureIo(ROOT);
    expect(await main(['validate', '--help'], io)).toBe(0);
    expect(io.out()).toContain('Exit status: 0 all valid');
  });

  it('is green on the repository’s own examples (in-process)', async () => {
    const io = captureIo(ROOT);
    expect(await main(['validate', 'access/'], io)).toBe(0);
    expect(io.out()).toMatch(/\d+ files checked, 0 invalid\.\n$/);
  });

  // The installed command, as CI and users run it (npm ci builds dist/ in `prepare`).
  it.skipIf(!existsSync(path.join(ROOT, 'dist/cli/main.js')))(
    'node bin/gatehouse.js validate access/ is green on the repository’s own examples',
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['bin/gatehouse.js', 'validate', 'access/'],
        { cwd: ROOT },
      );
      expect(stdout).toMatch(/0 invalid\.\n$/);
      const failed = await promisify(execFile)(
        process.execPath,
        [
          'bin/gatehouse.js',
          'validate',
          '--json',
          'test/fixtures/requests/invalid/unknown-key.yaml',
        ],
        { cwd: ROOT },
      ).catch((error: { code: number; stdout: string }) => error);
      expect('code' in failed ? failed.code : 0).toBe(1);
      expect(JSON.parse(failed.stdout)[0].errors[0].code).toBe('REQ_PATH');
    },
  );
});
