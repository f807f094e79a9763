/**
 * Group commit: callers submit items one by one; at most one flush runs at a time, and every
 * item submitted while it runs goes into the next flush together (up to `maxBatch`). A lone
 * caller is flushed at once (no added latency); under load, N waiting appends share one
 * transaction and one fsync instead of queueing N times on the chain head.
 * Each submit resolves with its own result, or rejects with the error of its batch.
 */
export class GroupCommit<I, O> {
  readonly #flush: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxBatch: number;
  #queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #flushing = false;

  constructor(flush: (items: readonly I[]) => Promise<readonly O[]>, maxBatch: number) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#flushing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const results = await this.#flush(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i] as O));
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
