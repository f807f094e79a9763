import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A JWT is three base64url parts; installation and user tokens never contain dots. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/**
 * Checks an app JWT the way GitHub does: RS256 signature by the app's key (when the fake
 * knows it), `iss` equal to the app id (or a client id), and not expired.
 * See https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 */
export class AppJwtVerifier {
  readonly #appId: number;
  readonly #publicKey: KeyObject | null;

  constructor(appId: number, privateKeyPem: string | undefined) {
    this.#appId = appId;
    this.#publicKey = privateKeyPem === undefined ? null : createPublicKey(privateKeyPem);
  }

  /** Null when valid, otherwise the message GitHub answers with (401). */
  check(token: string): string | null {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    let claims: Record<string, unknown>;
    try {
      const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (head['alg'] !== 'RS256') return 'A JSON web token could not be decoded';
    } catch {
      return 'A JSON web token could not be decoded';
    }
    if (this.#publicKey !== null) {
      const ok = verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${payload}`),
        this.#publicKey,
        Buffer.from(signature, 'base64url'),
      );
      if (!ok) return 'A JSON web token could not be decoded';
    }
    const iss = claims['iss'];
    if (typeof iss === 'number' && iss !== this.#appId) return 'Integration not found';
    if (typeof iss === 'string' && /^\d+$/.test(iss) && Number(iss) !== this.#appId)
      return 'Integration not found';
    const now = Math.floor(Date.now() / 1000);
    const exp = Number(claims['exp']);
    if (!Number.isFinite(exp) || exp < now) {
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    }
    return null;
  }
}
