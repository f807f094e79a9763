import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { GatehouseError } from '../../errors/catalogue.js';
import type { Clock } from '../../util/clock.js';
import {
  isGithubLogin,
  isPlausibleToken,
  type Identity,
  type IdentityProvider,
} from '../identity-provider.js';

export interface OidcIdentityProviderOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** The claim holding the GitHub login (e.g. `preferred_username` or a custom claim). */
  readonly loginClaim: string;
  readonly clock: Clock;
  /** Injected in tests instead of fetching jwksUrl. */
  readonly keys?: JWTVerifyGetKey;
}

/** Only asymmetric signatures: an HMAC-signed token would need the verifier to hold the
 * signing secret, and accepting "none" or HS* is the classic JWT algorithm-confusion bug
 * (https://datatracker.ietf.org/doc/html/rfc8725#section-2.1). */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Failures of the key set itself (cannot fetch, time-out, malformed): "cannot tell". */
function isKeySetUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return (
    error.code === 'ERR_JWKS_TIMEOUT' ||
    error.code === 'ERR_JWKS_INVALID' ||
    error.code === 'ERR_JOSE_GENERIC'
  );
}

/** For companies that front GitHub with their IdP: a JWT verified against the IdP's JWKS
 * (issuer, audience, expiry checked by jose against the injected clock), whose login claim
 * names the GitHub login. */
export function createOidcIdentityProvider(options: OidcIdentityProviderOptions): IdentityProvider {
  const keys = options.keys ?? createRemoteJWKSet(new URL(options.jwksUrl));
  return {
    async authenticate(token) {
      if (!isPlausibleToken(token)) return null;
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ALGORITHMS,
          currentDate: options.clock(),
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        if (isKeySetUnavailable(error)) {
          throw new GatehouseError(
            'AUTH_PROVIDER_UNAVAILABLE',
            `The identity provider's keys (${options.jwksUrl}) could not be fetched.`,
            { cause: error },
          );
        }
        return null;
      }
      const login = payload[options.loginClaim];
      if (!isGithubLogin(login)) return null;
      const identity: Identity = { login, via: 'oidc' };
      return identity;
    },
  };
}
