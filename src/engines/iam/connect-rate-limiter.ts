import { GatehouseError } from '../../errors/catalogue.js';

/** Paces new IAM-authenticated connections. AWS asks to stay under 200 new IAM connections
 * per second per MySQL instance
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html#UsingWithRDS.IAMDBAuth.ConnectionsPerSecond). */
export interface ConnectRateLimiter {
  /** Resolves when one more connection may be opened. */
  acquire(): Promise<void>;
}

/** Time source of the limiter, injected so tests never sleep. */
export interface LimiterTimer {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemTimer: LimiterTimer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Highest accepted rate: rate plus burst (10 %) must stay below AWS's 200/s. */
export const MAX_CONNECT_RATE = 180;

/**
 * Token bucket: `ratePerSecond` tokens per second, bucket size a tenth of that (at least 1),
 * so any one-second window sees at most rate + burst connections. Callers that find the
 * bucket empty take a token on credit (the balance goes negative) and sleep until it would
 * have been refilled, which queues them fairly without a lock.
 */
export function createConnectRateLimiter(
  ratePerSecond: number,
  timer: LimiterTimer = systemTimer,
): ConnectRateLimiter {
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0 || ratePerSecond > MAX_CONNECT_RATE) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `connectRateLimit must be a number in (0, ${MAX_CONNECT_RATE}] new connections per second; got ${ratePerSecond}.`,
    );
  }
  const capacity = Math.max(1, Math.floor(ratePerSecond / 10));
  const perMs = ratePerSecond / 1000;
  let tokens = capacity;
  let last = timer.now();

  return {
    async acquire() {
      const now = timer.now();
      tokens = Math.min(capacity, tokens + (now - last) * perMs);
      last = now;
      tokens -= 1;
      if (tokens >= 0) return;
      await timer.sleep(Math.ceil(-tokens / perMs));
    },
  };
}
