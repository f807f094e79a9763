/** Who is calling: a GitHub login, and how we learnt it. Grants are keyed by GitHub login
 * (the requester of a merged access request), so every provider must end with one. */
export interface Identity {
  readonly login: string;
  readonly via: 'github' | 'oidc';
}

/** Resolves a bearer token to an identity. Resolves `null` when the token is not accepted
 * (AUTH_INVALID); throws GatehouseError AUTH_PROVIDER_UNAVAILABLE when the provider cannot
 * be asked (network failure, rate limit, 5xx): "cannot tell" is never "yes". Implementations
 * never log or store the token itself. */
export interface IdentityProvider {
  authenticate(token: string): Promise<Identity | null>;
}

/** GitHub logins: alphanumerics and hyphens, not starting with a hyphen, at most 39
 * characters (https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication).
 * Legacy accounts may hold double or trailing hyphens, so those are accepted. Checked on what
 * a provider returns, so a surprising value never becomes an identity. */
export function isGithubLogin(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/.test(value);
}

/** Bearer tokens are opaque printable ASCII; anything else is refused before any lookup (and
 * could not be sent in an HTTP header anyway). */
export function isPlausibleToken(token: string): boolean {
  return /^[\x21-\x7e]{1,8192}$/.test(token);
}
