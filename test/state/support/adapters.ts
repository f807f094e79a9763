/**
 * The state adapters every contract suite runs over (Kysely's `for (const dialect of
 * DIALECTS)`): SQLite in a temp dir and PostgreSQL in a fresh database on 127.0.0.1. Each
 * fixture also gives the test a raw admin connection, to play the attacker with DB rights.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StateConfig } from '../../../src/state/open-state.js';
import { createPostgresDatabase } from '../../support/databases.js';

export interface AdapterFixture {
  readonly config: StateConfig;
  /** Runs statements as the database owner, bypassing Gatehouse. `?` placeholders. */
  admin(sql: string, params?: readonly unknown[]): Promise<void>;
  adminQuery<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A Date as the adapter stores it (ms integer on SQLite, timestamptz on PostgreSQL). */
  time(at: Date): unknown;
  /** What an attacker with admin rights does first: drop the append-only triggers. */
  dropAuditProtection(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface Adapter {
  readonly name: 'sqlite' | 'postgres';
  create(): Promise<AdapterFixture>;
}

const SQLITE_TRIGGERS = [
  'audit_log_no_update',
  'audit_log_no_delete',
  'audit_grant_ref_no_update',
  'audit_grant_ref_no_delete',
  'audit_pr_ref_no_update',
  'audit_pr_ref_no_delete',
  'audit_head_advance_only',
  'audit_head_no_delete',
];

const POSTGRES_TRIGGERS: readonly (readonly [string, string])[] = [
  ['audit_log_append_only', 'audit_log'],
  ['audit_log_no_truncate', 'audit_log'],
  ['audit_grant_ref_append_only', 'audit_grant_ref'],
  ['audit_grant_ref_no_truncate', 'audit_grant_ref'],
  ['audit_pr_ref_append_only', 'audit_pr_ref'],
  ['audit_pr_ref_no_truncate', 'audit_pr_ref'],
  ['audit_head_advance_only', 'audit_head'],
  ['audit_head_no_truncate', 'audit_head'],
];

export const SQLITE: Adapter = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-state-'));
    const path = join(dir, 'nested', 'gatehouse.db');
    let db: Database.Database | undefined;
    // Opened on first use, after openState created the file and schema.
    const conn = () => (db ??= new Database(path));
    return {
      config: { kind: 'sqlite', path },
      async admin(sql, params = []) {
        if (params.length === 0) conn().exec(sql);
        else
          conn()
            .prepare(sql)
            .run(...params);
      },
      async adminQuery<T>(sql: string, params: readonly unknown[] = []) {
        return conn()
          .prepare(sql)
          .all(...params) as T[];
      },
      time: (at) => at.getTime(),
      async dropAuditProtection() {
        for (const name of SQLITE_TRIGGERS) conn().exec(`DROP TRIGGER ${name}`);
      },
      async cleanup() {
        db?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const POSTGRES: Adapter = {
  name: 'postgres',
  async create() {
    const database = await createPostgresDatabase('gh_state');
    let client: pg.Client | undefined;
    const conn = async () => {
      if (client === undefined) {
        client = new pg.Client({ connectionString: database.url });
        await client.connect();
      }
      return client;
    };
    const numbered = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      config: { kind: 'postgres', url: database.url },
      async admin(sql, params = []) {
        await (await conn()).query(numbered(sql), params.length === 0 ? undefined : [...params]);
      },
      async adminQuery<T>(sql: string, params: readonly unknown[] = []) {
        const result = await (await conn()).query(numbered(sql), [...params]);
        return result.rows as T[];
      },
      time: (at) => at,
      async dropAuditProtection() {
        const c = await conn();
        for (const [name, table] of POSTGRES_TRIGGERS)
          await c.query(`DROP TRIGGER ${name} ON ${table}`);
      },
      async cleanup() {
        await client?.end();
        await database.drop();
      },
    };
  },
};

export const ADAPTERS: readonly Adapter[] = [SQLITE, POSTGRES];
