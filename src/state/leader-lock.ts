/**
 * Runs scheduled work (expiry sweeps, reminders, reconcile) on one replica at a time.
 * Non-blocking: when another holder has the lock, `fn` does not run and `{ ran: false }` comes
 * back at once, so a sweep that lost the race is simply skipped until its next tick.
 *
 * PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a dedicated connection held
 * while `fn` runs. SQLite: an in-process mutex, because SQLite state is single-process by
 * design (docs/state.md).
 */
export interface LeaderLock {
  runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ readonly ran: true; readonly value: T } | { readonly ran: false }>;
}
