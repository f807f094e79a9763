import type { LeaderLock } from '../leader-lock.js';

/** Held names per database file, for the whole process: two State objects on one file (as in
 * tests) exclude each other too. */
const held = new Set<string>();

/**
 * SQLite state is single-process by design (one writer host; replicas need PostgreSQL), so
 * an in-process try-lock is enough to keep two timers of one process from overlapping.
 */
export class SqliteLeaderLock implements LeaderLock {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ readonly ran: true; readonly value: T } | { readonly ran: false }> {
    const key = `${this.#file}\0${name}`;
    if (held.has(key)) return { ran: false };
    held.add(key);
    try {
      return { ran: true, value: await fn() };
    } finally {
      held.delete(key);
    }
  }
}
