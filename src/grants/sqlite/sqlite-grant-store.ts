import type BetterSqlite3 from 'better-sqlite3';
import { GatehouseError } from '../../errors/catalogue.js';
import { storeFailure } from '../../state/store-failure.js';
import type { Grant, NewGrant } from '../grant.js';
import { grantFromRow, type GrantRow as GrantRowOf } from '../grant-row.js';
import type { GrantFilter, GrantStore } from '../grant-store.js';

type GrantRow = GrantRowOf<number>;

const COLUMNS = `id, repo, requester, "database", tables, access, level, reason, ticket, file_path,
  pr_number, pr_url, head_sha, merge_sha, approvers, activated_at, expires_at, revoked_at,
  revoked_by, revoke_reason, reminder_sent_at, revocation_pr_number`;

/** Grants in SQLite; times are INTEGER milliseconds, lists JSON text (docs/state.md). */
export class SqliteGrantStore implements GrantStore {
  readonly #db: BetterSqlite3.Database;
  readonly #insert: BetterSqlite3.Statement;
  readonly #get: BetterSqlite3.Statement;
  readonly #activeFor: BetterSqlite3.Statement;
  readonly #expired: BetterSqlite3.Statement;
  readonly #expiringSoon: BetterSqlite3.Statement;
  readonly #revoke: BetterSqlite3.Statement;
  readonly #reminder: BetterSqlite3.Statement;
  readonly #revocationPr: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#insert = db.prepare(`INSERT INTO grants (${COLUMNS}) VALUES (
      @id, @repo, @requester, @database, @tables, @access, @level, @reason, @ticket, @filePath,
      @prNumber, @prUrl, @headSha, @mergeSha, @approvers, @activatedAt, @expiresAt, NULL, NULL,
      NULL, NULL, NULL) ON CONFLICT (id) DO NOTHING`);
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM grants WHERE id = ?`);
    this.#activeFor = db.prepare(
      `SELECT ${COLUMNS} FROM grants WHERE lower(requester) = lower(?) AND "database" = ? AND expires_at > ?
       AND revoked_at IS NULL ORDER BY activated_at, id`,
    );
    this.#expired = db.prepare(
      `SELECT ${COLUMNS} FROM grants WHERE revoked_at IS NULL AND expires_at <= ?
       ORDER BY expires_at, id LIMIT ?`,
    );
    this.#expiringSoon = db.prepare(
      `SELECT ${COLUMNS} FROM grants WHERE revoked_at IS NULL AND expires_at > ? AND expires_at <= ?
       AND reminder_sent_at IS NULL ORDER BY expires_at, id LIMIT ?`,
    );
    this.#revoke = db.prepare(
      `UPDATE grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ?
       WHERE id = ? AND revoked_at IS NULL`,
    );
    this.#reminder = db.prepare(
      'UPDATE grants SET reminder_sent_at = COALESCE(reminder_sent_at, ?) WHERE id = ?',
    );
    this.#revocationPr = db.prepare('UPDATE grants SET revocation_pr_number = ? WHERE id = ?');
  }

  async insert(grant: NewGrant): Promise<{ readonly grant: Grant; readonly created: boolean }> {
    try {
      const info = this.#insert.run({
        id: grant.id,
        repo: grant.repo,
        requester: grant.requester,
        database: grant.database,
        tables: JSON.stringify(grant.tables),
        access: grant.access,
        level: grant.level,
        reason: grant.reason,
        ticket: grant.ticket,
        filePath: grant.filePath,
        prNumber: grant.prNumber,
        prUrl: grant.prUrl,
        headSha: grant.headSha,
        mergeSha: grant.mergeSha,
        approvers: JSON.stringify(
          grant.approvers.map((a) => ({ login: a.login, reviewId: a.reviewId })),
        ),
        activatedAt: grant.activatedAt.getTime(),
        expiresAt: grant.expiresAt.getTime(),
      });
      const row = this.#get.get(grant.id) as GrantRow | undefined;
      if (row === undefined) throw new Error(`grant ${grant.id} vanished after insert`);
      return { grant: toGrant(row), created: info.changes === 1 };
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant insert failed', error);
    }
  }

  async get(id: string): Promise<Grant | null> {
    try {
      const row = this.#get.get(id) as GrantRow | undefined;
      return row === undefined ? null : toGrant(row);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant lookup failed', error);
    }
  }

  async activeFor(requester: string, database: string, now: Date): Promise<readonly Grant[]> {
    try {
      const rows = this.#activeFor.all(requester, database, now.getTime()) as GrantRow[];
      return rows.map(toGrant);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant lookup failed', error);
    }
  }

  async list(filter: GrantFilter): Promise<readonly Grant[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.requester !== undefined) {
      where.push('lower(requester) = lower(?)');
      params.push(filter.requester);
    }
    if (filter.database !== undefined) {
      where.push('"database" = ?');
      params.push(filter.database);
    }
    if (filter.prNumber !== undefined) {
      where.push('pr_number = ?');
      params.push(filter.prNumber);
    }
    if (filter.filePath !== undefined) {
      where.push('file_path = ?');
      params.push(filter.filePath);
    }
    if (filter.activeAt !== undefined) {
      where.push('revoked_at IS NULL AND expires_at > ?');
      params.push(filter.activeAt.getTime());
    }
    if (filter.unrevoked === true) where.push('revoked_at IS NULL');
    let sql = `SELECT ${COLUMNS} FROM grants`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ' ORDER BY activated_at, id';
    if (filter.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(filter.limit);
    }
    try {
      return (this.#db.prepare(sql).all(...params) as GrantRow[]).map(toGrant);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant list failed', error);
    }
  }

  async expired(now: Date, limit: number): Promise<readonly Grant[]> {
    try {
      return (this.#expired.all(now.getTime(), limit) as GrantRow[]).map(toGrant);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'expired grants lookup failed', error);
    }
  }

  async expiringSoon(now: Date, leadMs: number, limit: number): Promise<readonly Grant[]> {
    try {
      const t = now.getTime();
      return (this.#expiringSoon.all(t, t + leadMs, limit) as GrantRow[]).map(toGrant);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'expiring grants lookup failed', error);
    }
  }

  async revoke(id: string, at: Date, by: string, reason: string): Promise<boolean> {
    try {
      if (this.#revoke.run(at.getTime(), by, reason, id).changes === 1) return true;
      this.#mustExist(id);
      return false;
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant revoke failed', error);
    }
  }

  async markReminderSent(id: string, at: Date): Promise<void> {
    try {
      if (this.#reminder.run(at.getTime(), id).changes === 0) this.#mustExist(id);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant update failed', error);
    }
  }

  async setRevocationPr(id: string, prNumber: number): Promise<void> {
    try {
      if (this.#revocationPr.run(prNumber, id).changes === 0) this.#mustExist(id);
    } catch (error) {
      throw storeFailure('STATE_UNAVAILABLE', 'grant update failed', error);
    }
  }

  #mustExist(id: string): void {
    if (this.#get.get(id) === undefined) {
      throw new GatehouseError('GRANT_NOT_FOUND', `No grant with id ${id}.`);
    }
  }
}

function toGrant(row: GrantRow): Grant {
  return grantFromRow(row, (ms) => new Date(ms));
}
