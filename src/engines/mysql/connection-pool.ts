import { GatehouseError } from '../../errors/catalogue.js';

export interface ConnectionPoolSettings<T> {
  readonly size: number;
  /** Opens one new connection (for IAM: waits for the rate limiter and mints a token). */
  readonly create: () => Promise<T>;
  readonly dispose: (connection: T) => void;
  /** False once the server or network closed the connection while it sat idle. */
  readonly isAlive: (connection: T) => boolean;
  /** How long a caller waits for a free connection before DATABASE_UNAVAILABLE. */
  readonly acquireTimeoutMs: number;
}

interface Waiter<T> {
  resolve(connection: T): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * A small pool of our own for mysql2. mysql2's Pool shares one connection config, so it
 * cannot hand a freshly minted IAM token (as `password`) to each new connection; here every
 * new connection goes through `create`, which mints one. At most `size` connections are open.
 */
export class ConnectionPool<T> {
  readonly #settings: ConnectionPoolSettings<T>;
  readonly #idle: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #open = 0;
  #closed = false;

  constructor(settings: ConnectionPoolSettings<T>) {
    this.#settings = settings;
  }

  get openCount(): number {
    return this.#open;
  }

  async acquire(): Promise<T> {
    if (this.#closed) throw new GatehouseError('DATABASE_UNAVAILABLE', 'The engine is closed.');
    const idle = this.tryAcquireIdle();
    if (idle !== undefined) return idle;
    if (this.#open < this.#settings.size) return this.#createCounted();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new GatehouseError(
              'DATABASE_UNAVAILABLE',
              `All ${this.#settings.size} connections stayed busy for ${this.#settings.acquireTimeoutMs} ms.`,
            ),
          );
        }, this.#settings.acquireTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** An idle connection if one is ready now; never opens a new one or waits. */
  tryAcquireIdle(): T | undefined {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (this.#settings.isAlive(idle)) return idle;
      this.#forget(idle);
    }
    return undefined;
  }

  /** Returns a clean connection (session already reset) for reuse. */
  release(connection: T): void {
    if (this.#closed) {
      this.#forget(connection);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#idle.push(connection);
      return;
    }
    clearTimeout(waiter.timer);
    waiter.resolve(connection);
  }

  /** Closes a connection that must not be reused (error, timeout, stopped mid-result). */
  destroy(connection: T): void {
    this.#forget(connection);
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#createCounted().then(waiter.resolve, waiter.reject);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new GatehouseError('DATABASE_UNAVAILABLE', 'The engine is closed.'));
    }
    for (const idle of this.#idle.splice(0)) this.#forget(idle);
  }

  async #createCounted(): Promise<T> {
    this.#open += 1;
    try {
      return await this.#settings.create();
    } catch (error) {
      this.#open -= 1;
      throw error;
    }
  }

  #forget(connection: T): void {
    this.#open -= 1;
    try {
      this.#settings.dispose(connection);
    } catch {
      // Already closed.
    }
  }
}
