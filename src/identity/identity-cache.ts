import { createHash } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { Identity } from './identity-provider.js';

interface Entry {
  readonly identity: Identity | null;
  readonly expiresAt: number;
}

/**
 * Resolved identities, keyed by the sha256 of the token so the token itself is never held
 * beyond the request that carries it. Entries live `ttlMs` (the issue caps it at 5 minutes,
 * so a revoked GitHub token stops working within that time). Refusals are cached too, so a
 * client retrying with a bad token does not spend the GitHub rate limit. Concurrent lookups
 * of the same token share one call.
 */
export class IdentityCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Identity | null>>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly maxEntries = 10_000,
  ) {}

  async resolve(token: string, lookup: () => Promise<Identity | null>): Promise<Identity | null> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.clock().getTime();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      if (now < cached.expiresAt) return cached.identity;
      this.#entries.delete(key);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const lookupPromise = lookup().then((identity) => {
      // Failures (exceptions) are not cached: the next request asks again.
      if (this.ttlMs > 0)
        this.#store(key, { identity, expiresAt: this.clock().getTime() + this.ttlMs });
      return identity;
    });
    this.#inFlight.set(key, lookupPromise);
    try {
      return await lookupPromise;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // Map iteration is insertion order: drop the oldest when full.
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}
