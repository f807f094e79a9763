import type { Identity, IdentityProvider } from './identity-provider.js';

/** Three base64url segments starting with `{"` (eyJ): a compact JWS (RFC 7515 §7.1). GitHub
 * tokens (ghp_, gho_, ghu_, github_pat_) never look like this. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * JWT-shaped tokens go to OIDC, everything else to GitHub. A JWT is never forwarded to
 * GitHub: it is a credential of the company's IdP and has no business leaving for a third
 * party; without OIDC configured it is simply not accepted.
 */
export function createCompositeIdentityProvider(providers: {
  readonly github: IdentityProvider;
  readonly oidc: IdentityProvider | null;
}): IdentityProvider {
  return {
    async authenticate(token): Promise<Identity | null> {
      if (looksLikeJwt(token)) {
        return providers.oidc === null ? null : providers.oidc.authenticate(token);
      }
      return providers.github.authenticate(token);
    },
  };
}
