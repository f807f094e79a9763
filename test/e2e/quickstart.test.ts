/**
 * The quickstart of the README, as a newcomer runs it: `npm start` (`gatehouse serve --demo`)
 * in a fresh directory with nothing configured, and `npm run demo` (`gatehouse demo`). Both
 * use the embedded PostgreSQL (PGlite), which takes a few seconds to start.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/access-repo.js';
import {
  ensureBuilt,
  gatehouse,
  startServer,
  type ServerProcess,
} from './support/gatehouse-process.js';

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-quickstart-'));
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function logged(server: ServerProcess, msg: string): Record<string, unknown> | undefined {
  for (const line of server.logs) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry['msg'] === 'string' && entry['msg'].startsWith(msg)) return entry;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

describe('npm start (gatehouse serve --demo)', () => {
  it('serves hr_demo from the embedded database, keeps state under ./data and says how to connect a GitHub App', async () => {
    // The repository's own policies (hr_prod's CA file does not exist here) and no other key.
    const server = await startServer(
      { GATEHOUSE_REPO_DIR: REPO_ROOT, PORT: '0' },
      { args: ['--demo'], cwd: dir, timeoutMs: 120_000 },
    );
    try {
      expect(new URL(server.url).hostname).toBe('127.0.0.1');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz?databases=1`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { state: 'ok', policies: 'ok', github: 'off' },
        databases: { hr_demo: 'ok' },
      });
      expect(existsSync(join(dir, 'data', 'gatehouse.db'))).toBe(true);

      const demo = logged(server, 'Demo mode: serving only hr_demo');
      expect(demo?.['notServed']).toEqual(['hr_prod', 'hr_test', 'analytics_prod']);
      const hint = logged(server, 'No GitHub App configured');
      expect(hint?.['webhookUrl']).toBe(`${server.url}/api/github/webhooks`);
      expect(String(hint?.['msg'])).toContain('app.yml');

      const webhook = await fetch(`${server.url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(webhook.status).toBe(503);
      expect(((await webhook.json()) as { error: { code: string } }).error.code).toBe(
        'CONFIG_GITHUB_APP_MISSING',
      );
      // Without a token nothing else answers.
      const anonymous = await fetch(`${server.url}/v1/grants`);
      expect(anonymous.status).toBe(401);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 150_000);

  it('refuses a repository without an hr_demo database, naming it', async () => {
    const repo = join(dir, 'other-repo');
    mkdirSync(join(repo, 'policies'), { recursive: true });
    writeFileSync(
      join(repo, 'policies', 'databases.yaml'),
      `databases:
  orders:
    engine: postgres
    environment: prod
    host: 127.0.0.1
    name: orders
    auth:
      password:
        user: gatehouse
        passwordEnv: ORDERS_PASSWORD
`,
    );
    const result = await gatehouse(['serve', '--demo'], {
      cwd: dir,
      env: { GATEHOUSE_REPO_DIR: repo, PORT: '0' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain("declares no 'hr_demo' database");
  }, 60_000);
});

describe('npm run demo (gatehouse demo)', () => {
  it('tells the whole story to its end', async () => {
    const result = await gatehouse(['demo'], { cwd: REPO_ROOT, env: { NO_COLOR: '1' } });
    expect(result.code, result.stderr + result.stdout.slice(-2000)).toBe(0);
    for (const moment of [
      'needs @acme/dba',
      'Required status check "Gatehouse / access policy" is failing',
      '✔ success',
      'SQL_TABLE_NOT_GRANTED',
      'gatehouse request hr_demo --tables salary',
      'SQL_NO_GRANT',
      'gatehouse/revoke/',
      'audit log intact',
      'Revocation',
      'Done in',
    ]) {
      expect(result.stdout).toContain(moment);
    }
  }, 180_000);
});
