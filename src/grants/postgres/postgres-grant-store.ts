import type pg from 'pg';
import { GatehouseError } from '../../errors/catalogue.js';
import { storeFailure } from '../../state/store-failure.js';
import type { Grant, NewGrant } from '../grant.js';
import { grantFromRow, type GrantRow as GrantRowOf } from '../grant-row.js';
import type { GrantFilter, GrantStore } from '../grant-store.js';

type GrantRow = GrantRowOf<Date>;

const COLUMNS = `id, repo, requester, database, tables, access, level, reason, ticket, file_path,
  pr_number, pr_url, head_sha, merge_sha, approvers, activated_at, expires_at, revoked_at,
  revoked_by, revoke_reason, reminder_sent_at, revocation_pr_number`;

// Named statements are parsed once per connection (https://node-postgres.com/features/queries#prepared-statements).
const INSERT = {
  name: 'gatehouse_grant_insert',
  text: `INSERT INTO grants (id, repo, requester, database, tables, access, level, reason, ticket,
    file_path, pr_number, pr_url, head_sha, merge_sha, approvers, activated_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
};
const GET = { name: 'gatehouse_grant_get', text: `SELECT ${COLUMNS} FROM grants WHERE id = $1` };
const ACTIVE_FOR = {
  name: 'gatehouse_grant_active_for',
  text: `SELECT ${COLUMNS} FROM grants WHERE lower(requester) = lower($1) AND database = $2 AND expires_at > $3
    AND revoked_at IS NULL ORDER BY activated_at, id`,
};
const EXPIRED = {
  name: 'gatehouse_grant_expired',
  text: `SELECT ${COLUMNS} FROM grants WHERE revoked_at IS NULL AND expires_at <= $1
    ORDER BY expires_at, id LIMIT $2`,
};
const EXPIRING_SOON = {
  name: 'gatehouse_grant_expiring_soon',
  text: `SELECT ${COLUMNS} FROM grants WHERE revoked_at IS NULL AND expires_at > $1
    AND expires_at <= $2 AND reminder_sent_at IS NULL ORDER BY expires_at, id LIMIT $3`,
};

/** Grants in PostgreSQL, shared by every replica; times are timestamptz (docs/state.md). */
export class PostgresGrantStore implements GrantStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async insert(grant: NewGrant): Promise<{ readonly grant: Grant; readonly created: boolean }> {
    try {
      // ON CONFLICT DO NOTHING waits for a concurrent insert of the same id to commit, so of
      // two replicas racing on one merge exactly one creates the row and both return it.
      const inserted = await this.#pool.query<GrantRow>({
        ...INSERT,
        values: [
          grant.id,
          grant.repo,
          grant.requester,
          grant.database,
          JSON.stringify(grant.tables),
          grant.access,
          grant.level,
          grant.reason,
          grant.ticket,
          grant.filePath,
          grant.prNumber,
          grant.prUrl,
          grant.headSha,
          grant.mergeSha,
          JSON.stringify(grant.approvers.map((a) => ({ login: a.login, reviewId: a.reviewId }))),
          grant.activatedAt,
          grant.expiresAt,
        ],
      });
      const created = inserted.rows[0];
      if (created !== undefined) return { grant: toGrant(created), created: true };
      const existing = await this.#pool.query<GrantRow>({ ...GET, values: [grant.id] });
      const row = existing.rows[0];
      if (row === undefined)
        throw new Error(`grant ${grant.id} vanished after a conflicting insert`);
      return { grant: toGrant(row), created: false };
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant insert failed', error);
    }
  }

  async get(id: string): Promise<Grant | null> {
    const rows = await this.#rows('grant lookup failed', { ...GET, values: [id] });
    return rows[0] ?? null;
  }

  async activeFor(requester: string, database: string, now: Date): Promise<readonly Grant[]> {
    return this.#rows('grant lookup failed', { ...ACTIVE_FOR, values: [requester, database, now] });
  }

  async list(filter: GrantFilter): Promise<readonly Grant[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (filter.requester !== undefined)
      add((p) => `lower(requester) = lower(${p})`, filter.requester);
    if (filter.database !== undefined) add((p) => `database = ${p}`, filter.database);
    if (filter.prNumber !== undefined) add((p) => `pr_number = ${p}`, filter.prNumber);
    if (filter.filePath !== undefined) add((p) => `file_path = ${p}`, filter.filePath);
    if (filter.activeAt !== undefined) {
      add((p) => `revoked_at IS NULL AND expires_at > ${p}`, filter.activeAt);
    }
    if (filter.unrevoked === true) where.push('revoked_at IS NULL');
    let text = `SELECT ${COLUMNS} FROM grants`;
    if (where.length > 0) text += ` WHERE ${where.join(' AND ')}`;
    text += ' ORDER BY activated_at, id';
    if (filter.limit !== undefined) {
      values.push(filter.limit);
      text += ` LIMIT $${values.length}`;
    }
    return this.#rows('grant list failed', { text, values });
  }

  async expired(now: Date, limit: number): Promise<readonly Grant[]> {
    return this.#rows('expired grants lookup failed', { ...EXPIRED, values: [now, limit] });
  }

  async expiringSoon(now: Date, leadMs: number, limit: number): Promise<readonly Grant[]> {
    return this.#rows('expiring grants lookup failed', {
      ...EXPIRING_SOON,
      values: [now, new Date(now.getTime() + leadMs), limit],
    });
  }

  async revoke(id: string, at: Date, by: string, reason: string): Promise<boolean> {
    const changed = await this.#update(
      `UPDATE grants SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
       WHERE id = $1 AND revoked_at IS NULL`,
      [id, at, by, reason],
    );
    if (changed) return true;
    await this.#mustExist(id);
    return false;
  }

  async markReminderSent(id: string, at: Date): Promise<void> {
    const changed = await this.#update(
      'UPDATE grants SET reminder_sent_at = COALESCE(reminder_sent_at, $2) WHERE id = $1',
      [id, at],
    );
    if (!changed) await this.#mustExist(id);
  }

  async setRevocationPr(id: string, prNumber: number): Promise<void> {
    const changed = await this.#update(
      'UPDATE grants SET revocation_pr_number = $2 WHERE id = $1',
      [id, prNumber],
    );
    if (!changed) await this.#mustExist(id);
  }

  async #rows(what: string, query: pg.QueryConfig): Promise<Grant[]> {
    try {
      return (await this.#pool.query<GrantRow>(query)).rows.map(toGrant);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', what, error);
    }
  }

  async #update(text: string, values: unknown[]): Promise<boolean> {
    try {
      return ((await this.#pool.query(text, values)).rowCount ?? 0) > 0;
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant update failed', error);
    }
  }

  async #mustExist(id: string): Promise<void> {
    if ((await this.get(id)) === null) {
      throw new GatehouseError('GRANT_NOT_FOUND', `No grant with id ${id}.`);
    }
  }
}

function toGrant(row: GrantRow): Grant {
  return grantFromRow(row, (d) => d);
}
