import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { createGithubIdentityProvider } from '../../src/identity/github/github-identity-provider.js';
import {
  FORBIDDEN_TOKEN,
  RATE_LIMITED_TOKEN,
  SERVER_ERROR_TOKEN,
  startFakeGithubUsers,
  type FakeGithubUsers,
} from '../server/support/fake-github-users.js';
import { testClock } from '../server/support/gateway-fixture.js';

let github: FakeGithubUsers;
beforeAll(async () => {
  github = await startFakeGithubUsers({ ghp_alice: 'alice', ghp_bob: 'Bob-Builder' });
});
afterAll(async () => {
  await github.close();
});

function provider(cacheTtlMs = 300_000, clock = testClock()) {
  return createGithubIdentityProvider({ apiUrl: `${github.url}/`, clock: clock.clock, cacheTtlMs });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof GatehouseError ? error.code : 'other';
  }
}

describe('GitHub identity provider (GET /user over HTTP)', () => {
  it('resolves a token to the login GitHub returns, sending it as a Bearer token', async () => {
    expect(await provider().authenticate('ghp_bob')).toEqual({
      login: 'Bob-Builder',
      via: 'github',
    });
    expect(github.calls).toContain('Bearer ghp_bob');
  });

  it('answers null for a token GitHub refuses (401) or forbids (403)', async () => {
    expect(await provider().authenticate('ghp_nobody')).toBeNull();
    expect(await provider().authenticate(FORBIDDEN_TOKEN)).toBeNull();
  });

  it('throws AUTH_PROVIDER_UNAVAILABLE on a rate limit, a 5xx, or no connection', async () => {
    expect(await codeOf(provider().authenticate(RATE_LIMITED_TOKEN))).toBe(
      'AUTH_PROVIDER_UNAVAILABLE',
    );
    expect(await codeOf(provider().authenticate(SERVER_ERROR_TOKEN))).toBe(
      'AUTH_PROVIDER_UNAVAILABLE',
    );
    const gone = await startFakeGithubUsers();
    await gone.close();
    const offline = createGithubIdentityProvider({
      apiUrl: gone.url,
      clock: testClock().clock,
      cacheTtlMs: 0,
    });
    expect(await codeOf(offline.authenticate('ghp_alice'))).toBe('AUTH_PROVIDER_UNAVAILABLE');
  });

  it('never sends a token that could not be a bearer token', async () => {
    const before = github.calls.length;
    expect(await provider().authenticate('two words')).toBeNull();
    expect(await provider().authenticate('')).toBeNull();
    expect(await provider().authenticate('x\r\nX-Injected: 1')).toBeNull();
    expect(github.calls.length).toBe(before);
  });

  it('caches a resolution for the TTL and asks again after it', async () => {
    const clock = testClock();
    const cached = provider(300_000, clock);
    const count = () => github.calls.filter((c) => c === 'Bearer ghp_alice').length;
    const before = count();
    await cached.authenticate('ghp_alice');
    clock.set(new Date(clock.now().getTime() + 299_999));
    await cached.authenticate('ghp_alice');
    expect(count() - before).toBe(1);
    clock.set(new Date(clock.now().getTime() + 1));
    await cached.authenticate('ghp_alice');
    expect(count() - before).toBe(2);
  });

  it('shares one lookup between concurrent requests with the same token', async () => {
    const fresh = provider();
    const count = () => github.calls.filter((c) => c === 'Bearer ghp_alice').length;
    const before = count();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => fresh.authenticate('ghp_alice')),
    );
    expect(results.every((r) => r?.login === 'alice')).toBe(true);
    expect(count() - before).toBe(1);
  });

  it('does not cache a failure: the next request asks GitHub again', async () => {
    const p = provider();
    const count = () => github.calls.filter((c) => c === `Bearer ${SERVER_ERROR_TOKEN}`).length;
    const before = count();
    await codeOf(p.authenticate(SERVER_ERROR_TOKEN));
    await codeOf(p.authenticate(SERVER_ERROR_TOKEN));
    expect(count() - before).toBe(2);
  });
});
