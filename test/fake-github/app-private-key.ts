import { generateKeyPairSync } from 'node:crypto';

/**
 * A fresh RSA key for a test GitHub App, in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the format
 * GitHub issues app keys in. Give it to Probot (`PRIVATE_KEY`) and to
 * `startFakeGitHub({ privateKeyPem })`, which then verifies the app's JWT signatures.
 */
export function generateAppPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}
