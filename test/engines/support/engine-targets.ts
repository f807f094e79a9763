/**
 * The real servers the shared engine suite runs against (Kysely's DIALECTS pattern). Each
 * setup creates its own database with a fixture table, a SELECT-only user (the shape of the
 * production gateway user) and a user with every privilege on the database (to prove the
 * READ ONLY transaction holds even when the DB user is misconfigured).
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { DatabaseConfig, EngineKind } from '../../../src/policy/databases.js';
import {
  MYSQL_URL,
  PG_URL,
  createMysqlDatabase,
  createPostgresDatabase,
  uniqueName,
} from '../../support/databases.js';

export const PASSWORD_ENV = 'GATEHOUSE_TEST_DB_PASSWORD';
export const PASSWORD = 'gatehouse-test-pw';

export interface TargetDatabase {
  readonly kind: EngineKind;
  readonly name: string;
  /** The SELECT-only user, password auth. */
  readonly db: DatabaseConfig;
  /** A user holding every privilege on the database. */
  readonly writerDb: DatabaseConfig;
  readonly env: Readonly<Record<string, string>>;
  /** Runs SQL as the admin user inside the test database. */
  admin(sql: string): Promise<unknown[][]>;
  tableExists(table: string): Promise<boolean>;
  /** Statements of other sessions currently running whose text contains `marker`. */
  running(marker: string): Promise<number>;
  drop(): Promise<void>;
}

export interface EngineTarget {
  readonly kind: EngineKind;
  setup(): Promise<TargetDatabase>;
}

function baseConfig(kind: EngineKind, url: URL, name: string, user: string): DatabaseConfig {
  return {
    id: name,
    engine: kind,
    environment: 'test',
    host: url.hostname,
    port: Number(url.port),
    name,
    auth: { kind: 'password', user, passwordEnv: PASSWORD_ENV },
    tls: { required: false },
  };
}

const postgresTarget: EngineTarget = {
  kind: 'postgres',
  async setup() {
    const database = await createPostgresDatabase('gh_eng');
    const reader = uniqueName('gh_ro');
    const writer = uniqueName('gh_rw');
    const admin = async (sql: string): Promise<unknown[][]> => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const result = await client.query({ text: sql, rowMode: 'array' });
        return (Array.isArray(result) ? result.at(-1) : result).rows as unknown[][];
      } finally {
        await client.end();
      }
    };
    await admin(`
      CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), big int8,
        data bytea, created timestamptz, local_ts timestamp, day date, flag bool, doc jsonb,
        ratio float8);
      INSERT INTO items SELECT g, 'item ' || g, g * 1.5, 9007199254740993 + g, '\\x01ff',
        '2024-01-02 03:04:05.123456+00', '2024-01-02 03:04:05', '2024-01-02', g % 2 = 0,
        '{"a": 1}', 0.5 FROM generate_series(1, 5) g;
      REVOKE ALL ON DATABASE "${database.name}" FROM PUBLIC;
      CREATE ROLE "${reader}" LOGIN PASSWORD '${PASSWORD}';
      GRANT CONNECT ON DATABASE "${database.name}" TO "${reader}";
      GRANT USAGE ON SCHEMA public TO "${reader}";
      GRANT SELECT ON items TO "${reader}";
      CREATE ROLE "${writer}" LOGIN PASSWORD '${PASSWORD}';
      GRANT ALL ON DATABASE "${database.name}" TO "${writer}";
      GRANT ALL ON SCHEMA public TO "${writer}";
      GRANT ALL ON items TO "${writer}";
    `);
    const url = new URL(PG_URL);
    return {
      kind: 'postgres',
      name: database.name,
      db: baseConfig('postgres', url, database.name, reader),
      writerDb: baseConfig('postgres', url, database.name, writer),
      env: { [PASSWORD_ENV]: PASSWORD },
      admin,
      async tableExists(table) {
        const rows = await admin(`SELECT to_regclass('public.${table}') IS NOT NULL`);
        return rows[0]?.[0] === true;
      },
      async running(marker) {
        const rows = await admin(
          `SELECT count(*)::int FROM pg_stat_activity WHERE pid <> pg_backend_pid()
             AND state = 'active' AND query LIKE '%${marker}%'`,
        );
        return Number(rows[0]?.[0]);
      },
      async drop() {
        await database.drop();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          await client.query(`DROP ROLE IF EXISTS "${reader}"`);
          await client.query(`DROP ROLE IF EXISTS "${writer}"`);
        } finally {
          await client.end();
        }
      },
    };
  },
};

const mysqlTarget: EngineTarget = {
  kind: 'mysql',
  async setup() {
    const database = await createMysqlDatabase('gh_eng');
    const reader = uniqueName('ro').slice(0, 30);
    const writer = uniqueName('rw').slice(0, 30);
    const admin = async (sql: string): Promise<unknown[][]> => {
      const connection = await mysql.createConnection({
        uri: database.url,
        multipleStatements: true,
        dateStrings: true,
      });
      try {
        const [rows] = await connection.query({ sql, rowsAsArray: true });
        return Array.isArray(rows) ? (rows as unknown[][]) : [];
      } finally {
        await connection.end();
      }
    };
    await admin(`
      CREATE TABLE items (id int PRIMARY KEY, name varchar(50), price decimal(10,2),
        big bigint, data varbinary(10), created timestamp(6) NULL, local_ts datetime,
        day date, flag tinyint(1), doc json, ratio double);
      INSERT INTO items VALUES
        ${[1, 2, 3, 4, 5]
          .map(
            (g) => `(${g}, 'item ${g}', ${g * 1.5}, ${9007199254740993n + BigInt(g)}, X'01ff',
              '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05', '2024-01-02', ${g % 2 === 0 ? 1 : 0},
              '{"a": 1}', 0.5)`,
          )
          .join(',')};
      CREATE USER '${reader}'@'%' IDENTIFIED BY '${PASSWORD}';
      GRANT SELECT ON \`${database.name}\`.* TO '${reader}'@'%';
      CREATE USER '${writer}'@'%' IDENTIFIED BY '${PASSWORD}';
      GRANT ALL ON \`${database.name}\`.* TO '${writer}'@'%';
    `);
    const url = new URL(MYSQL_URL);
    return {
      kind: 'mysql',
      name: database.name,
      db: baseConfig('mysql', url, database.name, reader),
      writerDb: baseConfig('mysql', url, database.name, writer),
      env: { [PASSWORD_ENV]: PASSWORD },
      admin,
      async tableExists(table) {
        const rows = await admin(
          `SELECT COUNT(*) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`,
        );
        return Number(rows[0]?.[0]) > 0;
      },
      async running(marker) {
        const rows = await admin(
          `SELECT COUNT(*) FROM information_schema.PROCESSLIST
             WHERE ID <> CONNECTION_ID() AND INFO LIKE '%${marker}%'`,
        );
        return Number(rows[0]?.[0]);
      },
      async drop() {
        await database.drop();
        const connection = await mysql.createConnection(MYSQL_URL);
        try {
          await connection.query(`DROP USER IF EXISTS '${reader}'@'%', '${writer}'@'%'`);
        } finally {
          await connection.end();
        }
      },
    };
  },
};

export const ENGINE_TARGETS: readonly EngineTarget[] = [postgresTarget, mysqlTarget];

/** Polls until no other session runs a statement containing `marker` (bounded, no timing
 * assertion: it only waits for the server to finish tearing the statement down). */
export async function waitUntilGone(target: TargetDatabase, marker: string): Promise<number> {
  let count = await target.running(marker);
  for (let attempt = 0; attempt < 50 && count > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await target.running(marker);
  }
  return count;
}
