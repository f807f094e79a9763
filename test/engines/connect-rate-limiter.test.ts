import { describe, expect, it } from 'vitest';
import {
  createConnectRateLimiter,
  type LimiterTimer,
} from '../../src/engines/iam/connect-rate-limiter.js';
import { GatehouseError } from '../../src/errors/catalogue.js';

/** A clock that only moves when told to; sleeping records the wait and advances the clock. */
function fakeTimer(): LimiterTimer & { sleeps: number[]; advance(ms: number): void } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    advance(ms) {
      now += ms;
    },
  };
}

describe('createConnectRateLimiter', () => {
  it('lets a burst of a tenth of the rate through, then spaces callers 1/rate apart', async () => {
    const timer = fakeTimer();
    const limiter = createConnectRateLimiter(100, timer);
    await Promise.all(Array.from({ length: 13 }, () => limiter.acquire()));
    // Burst 10 without waiting; then 10 ms, 20 ms, 30 ms of debt at 100/s.
    expect(timer.sleeps).toEqual([10, 20, 30]);
  });

  it('refills with time and never beyond the burst', async () => {
    const timer = fakeTimer();
    const limiter = createConnectRateLimiter(100, timer);
    for (let i = 0; i < 10; i++) await limiter.acquire();
    timer.advance(50); // 5 tokens back
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(timer.sleeps).toEqual([]);
    await limiter.acquire();
    expect(timer.sleeps).toEqual([10]);
    timer.advance(60_000); // a long pause refills to the burst, not to 6000
    for (let i = 0; i < 10; i++) await limiter.acquire();
    await limiter.acquire();
    expect(timer.sleeps).toEqual([10, 10]);
  });

  it('keeps any one-second window below the 200 new connections AWS allows', async () => {
    const timer = fakeTimer();
    const limiter = createConnectRateLimiter(180, timer);
    let granted = 0;
    // Callers arrive all at once; count those whose wait ends within the first second.
    await Promise.all(
      Array.from({ length: 400 }, async () => {
        const before = timer.sleeps.length;
        await limiter.acquire();
        const wait = timer.sleeps.length > before ? (timer.sleeps.at(-1) ?? 0) : 0;
        if (wait < 1000) granted += 1;
      }),
    );
    expect(granted).toBeLessThan(200);
  });

  it.each([0, -1, 181, 200, Number.NaN])('refuses a rate of %s with CONFIG_INVALID', (rate) => {
    const error = (() => {
      try {
        createConnectRateLimiter(rate, fakeTimer());
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('CONFIG_INVALID');
  });
});
