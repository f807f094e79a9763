/**
 * Group commit: callers submit items one by one; at most one flush runs at a time, and every
 * item submitted while it runs goes into the next flush together (up to `maxBatch`). Under
 * load, N waiting appends share one transaction and one fsync instead of queueing N times on
 * the chain head. Each submit resolves with its own result, or rejects with the error of its
 * batch.
 *
 * `gather` runs before each batch is taken. Without it a lone caller is flushed at once (no
 * added latency), which suits an asynchronous flush (PostgreSQL: callers queue while it
 * waits on the network). A synchronous flush (better-sqlite3) blocks the event loop, so
 * nothing could queue behind it: there `gather` yields to the event loop (setImmediate),
 * letting every request whose I/O is already waiting submit first.
 */
export class GroupCommit<I, O> {
  readonly #flush: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxBatch: number;
  readonly #gather: (() => Promise<void>) | undefined;
  #queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #draining: Promise<void> | undefined;

  constructor(
    flush: (items: readonly I[]) => Promise<readonly O[]>,
    maxBatch: number,
    gather?: () => Promise<void>,
  ) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
    this.#gather = gather;
  }

  /** Items submitted and not yet handed to a flush. */
  get pending(): number {
    return this.#queue.length;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /**
   * Flushes everything queued now, without waiting for `gather` (for a close: a synchronous
   * flush completes before this returns). Batches already running are not waited for.
   */
  async flushQueued(): Promise<void> {
    while (this.#queue.length > 0) await this.#flushBatch();
  }

  /** Resolves once no flush is running and nothing is queued (for a close). */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        if (this.#gather !== undefined) await this.#gather();
        await this.#flushBatch();
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #flushBatch(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    try {
      const results = await this.#flush(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as O));
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}
