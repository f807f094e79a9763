export interface RateLimitStatus {
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly reset: number;
}

const WINDOW_SECONDS = 3600;

/**
 * GitHub's primary rate limit: a budget per credential per hour (5,000 for an installation),
 * reported on every response in `x-ratelimit-*` headers. Counting is always on; refusing
 * with 403 when the budget is spent only when `enforce` is set, so benchmarks that make
 * thousands of calls still run. See https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #enforce: boolean;
  readonly #windows = new Map<string, { reset: number; used: number }>();

  constructor(limit: number, enforce: boolean) {
    this.#limit = limit;
    this.#enforce = enforce;
  }

  /** Counts one request; returns the status after it, and whether it must be refused. */
  take(key: string): { status: RateLimitStatus; refused: boolean } {
    const window = this.#window(key);
    if (this.#enforce && window.used >= this.#limit) {
      return { status: this.#status(window), refused: true };
    }
    window.used++;
    return { status: this.#status(window), refused: false };
  }

  peek(key: string): RateLimitStatus {
    return this.#status(this.#window(key));
  }

  #window(key: string): { reset: number; used: number } {
    const nowSeconds = Math.floor(Date.now() / 1000);
    let window = this.#windows.get(key);
    if (window === undefined || window.reset <= nowSeconds) {
      window = { reset: nowSeconds + WINDOW_SECONDS, used: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  #status(window: { reset: number; used: number }): RateLimitStatus {
    return {
      limit: this.#limit,
      used: window.used,
      remaining: Math.max(this.#limit - window.used, 0),
      reset: window.reset,
    };
  }
}

export function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  return {
    'x-ratelimit-limit': String(status.limit),
    'x-ratelimit-remaining': String(status.remaining),
    'x-ratelimit-reset': String(status.reset),
    'x-ratelimit-used': String(status.used),
    'x-ratelimit-resource': 'core',
  };
}
