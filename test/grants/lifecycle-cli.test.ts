import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runExpireCommand } from '../../src/cli/commands/expire.js';
import { runReconcileCommand } from '../../src/cli/commands/reconcile.js';
import { main } from '../../src/cli/main.js';
import type { FakeRepoGithub } from './support/fake-repo-github.js';
import { newRepo, requestYaml, startNock, stopNock } from './support/lifecycle-fixture.js';

/** The commands end to end: config from the environment as `serve` reads it, the GitHub App
 * authenticated for real (JWT, installation look-up, installation token) against the fake. */
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

function io(env: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env,
    cwd: process.cwd(),
  };
}

describe('gatehouse reconcile and gatehouse expire', () => {
  let repo: FakeRepoGithub;
  let dir: string;
  let env: Record<string, string>;

  beforeEach(() => {
    startNock();
    repo = newRepo();
    repo.mount();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    env = {
      APP_ID: '123',
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET: 'secret',
      GATEHOUSE_REPOSITORY: 'acme/access',
      GATEHOUSE_STATE: join(dir, 'gatehouse.db'),
      GATEHOUSE_LOG_LEVEL: 'silent',
      // The merge below is at 08:00 and lasts 4h; run the commands at 12:30.
      GATEHOUSE_CLOCK_FILE: join(dir, 'clock'),
    };
  });
  afterEach(() => {
    stopNock();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconcile --dry-run, reconcile --json, then expire open the revocation PR', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(env.GATEHOUSE_CLOCK_FILE!, '2026-03-02T09:00:00Z');
    const pull = repo.mergedRequest({
      author: 'alice',
      changes: { 'access/hr_prod/alice.yaml': requestYaml({ requester: 'alice', duration: '4h' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T08:00:00Z',
    });

    const dry = io(env);
    expect(await main(['reconcile', '--dry-run'], dry)).toBe(0);
    expect(dry.out.join('')).toContain('would activate');
    expect(dry.out.join('')).toContain('Dry run: nothing was changed.');

    const real = io(env);
    expect(await runReconcileCommand(['--json'], real)).toBe(0);
    const report = JSON.parse(real.out.join('')) as { activated: { prNumber: number }[] };
    expect(report.activated.map((a) => a.prNumber)).toEqual([pull.number]);
    expect(repo.calls).toContain('GET /repos/acme/access/installation');
    expect(repo.calls).toContain('POST /app/installations/42/access_tokens');

    writeFileSync(env.GATEHOUSE_CLOCK_FILE!, '2026-03-02T12:30:00Z');
    const expired = io(env);
    expect(await runExpireCommand([], expired)).toBe(0);
    expect(expired.out.join('')).toMatch(/opened\s+g_\w+\s+access\/hr_prod\/alice\.yaml\s+#\d+/);
    const again = io(env);
    expect(await runExpireCommand([], again)).toBe(0);
    expect(again.out.join('')).toContain('existing');
    expect(
      [...repo.pulls.values()].filter((p) => p.headRef.startsWith('gatehouse/revoke/')),
    ).toHaveLength(1);
  });

  it('exits 2 naming the missing App keys, and on an unknown flag', async () => {
    const noApp = io({ GATEHOUSE_REPOSITORY: 'acme/access', GATEHOUSE_STATE: join(dir, 'x.db') });
    expect(await runReconcileCommand([], noApp)).toBe(2);
    expect(noApp.err.join('')).toContain('CONFIG_GITHUB_APP_MISSING');
    const bad = io(env);
    expect(await runExpireCommand(['--now'], bad)).toBe(2);
    expect(bad.err.join('')).toContain('Usage: gatehouse expire');
  });

  it('exits 1 when GitHub rate-limits the sweep, and says the next run continues', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(env.GATEHOUSE_CLOCK_FILE!, '2026-03-02T09:00:00Z');
    repo.mergedRequest({
      author: 'alice',
      changes: { 'access/hr_prod/alice.yaml': requestYaml({ requester: 'alice', duration: '4h' }) },
      approvers: ['dora'],
      mergedAt: '2026-03-02T08:00:00Z',
    });
    expect(await runReconcileCommand([], io(env))).toBe(0);
    writeFileSync(env.GATEHOUSE_CLOCK_FILE!, '2026-03-02T12:30:00Z');
    repo.fail = (method, path) =>
      method === 'POST' && path.endsWith('/git/refs')
        ? {
            status: 403,
            message: 'API rate limit exceeded',
            headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '4102444800' },
          }
        : undefined;
    const limited = io(env);
    expect(await runExpireCommand([], limited)).toBe(1);
    expect(limited.out.join('')).toContain('Stopped early (LIFECYCLE_GITHUB_RATE_LIMITED');
  });
});
