import { generateKeyPairSync } from 'node:crypto';

/**
 * A fresh RSA private key in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the format GitHub issues app keys in
 * (`PRIVATE_KEY`). Give the same PEM to `startFakeGitHub({ privateKeyPem })` so the fake
 * verifies the app's JWT signatures.
 */
export function generateAppPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}
