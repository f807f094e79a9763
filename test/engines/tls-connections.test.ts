/**
 * Verified TLS end to end: the PostgreSQL engine with `tls.required` and a CA file talks to
 * a TLS-terminating password gate in front of the real server. A certificate from the
 * configured CA is accepted; one from another CA is refused with DATABASE_UNAVAILABLE, never
 * downgraded to plaintext. Certificates are made with the openssl CLI for this run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/create-engine.js';
import type { Engine, ExecuteOptions } from '../../src/engines/engine.js';
import { GatehouseError } from '../../src/errors/catalogue.js';
import type { DatabaseConfig } from '../../src/policy/databases.js';
import { ENGINE_TARGETS, type TargetDatabase } from './support/engine-targets.js';
import { startPasswordGate, type PasswordGate } from './support/password-gate.js';

const LIMITS: ExecuteOptions = { maxRows: 10, maxBytes: 100_000, timeoutMs: 10_000 };

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(dir: string): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
    );
  }
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
}

describe('postgres engine over verified TLS', () => {
  const target = ENGINE_TARGETS.find((t) => t.kind === 'postgres')!;
  let t: TargetDatabase;
  let gate: PasswordGate;
  let dir: string;
  const engines: Engine[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    makeCertificates(dir);
    t = await target.setup();
    gate = await startPasswordGate({ host: t.db.host, port: t.db.port }, (p) => p === 'iam-token', {
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
    });
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await gate?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function iamOverTls(ca: string): DatabaseConfig {
    return {
      ...t.db,
      port: gate.port,
      auth: { kind: 'iam', region: 'eu-west-1', user: t.db.auth.user },
      tls: { required: true, ca: join(dir, ca) },
    };
  }

  it('connects when the server certificate chains to the configured CA', async () => {
    const engine = createEngine(iamOverTls('ca.pem'), {
      env: {},
      tokenProvider: { getToken: async () => 'iam-token' },
    });
    engines.push(engine);
    expect((await engine.execute('SELECT 1', LIMITS)).rows).toEqual([[1]]);
    expect(gate.passwords).toEqual(['iam-token']);
  });

  it('refuses a server certificate from another CA with DATABASE_UNAVAILABLE', async () => {
    const before = gate.passwords.length;
    const engine = createEngine(iamOverTls('other-ca.pem'), {
      env: {},
      tokenProvider: { getToken: async () => 'iam-token' },
    });
    engines.push(engine);
    const error = await engine.execute('SELECT 1', LIMITS).catch((e: unknown) => e);
    expect((error as GatehouseError).code).toBe('DATABASE_UNAVAILABLE');
    // The token never left the gateway.
    expect(gate.passwords.length).toBe(before);
  });
});
