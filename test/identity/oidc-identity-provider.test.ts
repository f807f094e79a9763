import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/errors/catalogue.js';
import {
  createCompositeIdentityProvider,
  looksLikeJwt,
} from '../../src/identity/composite-identity-provider.js';
import type { IdentityProvider } from '../../src/identity/identity-provider.js';
import { createOidcIdentityProvider } from '../../src/identity/oidc/oidc-identity-provider.js';
import { testClock } from '../server/support/gateway-fixture.js';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'gatehouse';
const clock = testClock(new Date('2030-01-01T10:00:00Z'));
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

let server: Server;
let jwksUrl: string;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((request, response) => {
    if (request.url === '/jwks') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    } else {
      response.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function oidc(url = jwksUrl): IdentityProvider {
  return createOidcIdentityProvider({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: url,
    loginClaim: 'github_login',
    clock: clock.clock,
  });
}

async function token(
  claims: Record<string, unknown> = { github_login: 'alice' },
  options: { issuer?: string; audience?: string; exp?: number; key?: CryptoKey } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(nowSeconds() - 60)
    .setExpirationTime(options.exp ?? nowSeconds() + 600)
    .sign(options.key ?? privateKey);
}

function unsigned(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 600, ...claims })}.`;
}

describe('OIDC identity provider', () => {
  it('accepts a token signed by the IdP for this audience and maps the login claim', async () => {
    expect(await oidc().authenticate(await token())).toEqual({ login: 'alice', via: 'oidc' });
  });

  it.each([
    ['another audience', () => token(undefined, { audience: 'other-app' })],
    ['another issuer', () => token(undefined, { issuer: 'https://evil.example.com' })],
    ['an expired token', () => token(undefined, { exp: nowSeconds() - 1 })],
    ['a signature by another key', () => token(undefined, { key: otherKey })],
    ['no login claim', () => token({ sub: '123' })],
    ['a login claim that is not a GitHub login', () => token({ github_login: 'alice; drop' })],
    ['alg none', async () => unsigned({ github_login: 'alice' })],
  ])('refuses %s (null)', async (_name, make) => {
    expect(await oidc().authenticate(await make())).toBeNull();
  });

  it('throws AUTH_PROVIDER_UNAVAILABLE when the key set cannot be fetched', async () => {
    const broken = oidc(jwksUrl.replace('/jwks', '/down'));
    const error = await broken.authenticate(await token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('AUTH_PROVIDER_UNAVAILABLE');
  });
});

describe('composite identity provider', () => {
  it('sends JWT-shaped tokens to OIDC only, and everything else to GitHub', async () => {
    const seen: string[] = [];
    const github: IdentityProvider = {
      authenticate: async (t) => {
        seen.push(t);
        return { login: 'from-github', via: 'github' };
      },
    };
    const jwt = await token();
    expect(looksLikeJwt(jwt)).toBe(true);
    expect(looksLikeJwt('ghp_abcdef')).toBe(false);
    const both = createCompositeIdentityProvider({ github, oidc: oidc() });
    expect(await both.authenticate(jwt)).toEqual({ login: 'alice', via: 'oidc' });
    expect(await both.authenticate('ghp_abcdef')).toEqual({ login: 'from-github', via: 'github' });
    // A refused JWT does not fall back to GitHub, and without OIDC a JWT is never forwarded.
    expect(await both.authenticate(await token(undefined, { audience: 'x' }))).toBeNull();
    const githubOnly = createCompositeIdentityProvider({ github, oidc: null });
    expect(await githubOnly.authenticate(jwt)).toBeNull();
    expect(seen).toEqual(['ghp_abcdef']);
  });
});
