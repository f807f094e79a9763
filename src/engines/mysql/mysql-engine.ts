import mysql from 'mysql2/promise';
import { GatehouseError } from '../../errors/catalogue.js';
import type { DatabaseConfig } from '../../policy/databases.js';
import type { ConnectionCredentials } from '../connection-credentials.js';
import type { ColumnInfo, Engine, ExecuteOptions, QueryResult } from '../engine.js';
import { RowCollector, validateExecuteOptions } from '../row-collector.js';
import type { TlsOptions } from '../tls-options.js';
import { ConnectionPool } from './connection-pool.js';
import { mysqlError } from './mysql-errors.js';
import { mysqlTypeName, mysqlValueConverter, type MysqlField } from './mysql-types.js';

export interface MysqlEngineSettings {
  readonly db: DatabaseConfig;
  readonly credentials: ConnectionCredentials;
  readonly tls: TlsOptions | undefined;
  readonly poolSize: number;
  /** How long after the statement timeout the gateway kills the statement itself. */
  readonly killGraceMs: number;
  readonly connectTimeoutMs: number;
}

/** The slice of mysql2's callback-style Connection we use (the promise API cannot stream). */
interface CoreConnection {
  readonly threadId: number | null;
  query(options: { sql: string; rowsAsArray: boolean }): QueryEvents;
  reset(callback: (error: Error | null) => void): void;
  destroy(): void;
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown;
}

interface QueryEvents {
  on(event: 'fields', listener: (fields: readonly MysqlField[] | undefined) => void): QueryEvents;
  on(event: 'result', listener: (row: unknown) => void): QueryEvents;
  on(event: 'end', listener: () => void): QueryEvents;
  on(event: 'error', listener: (error: unknown) => void): QueryEvents;
}

type Flavour = 'mysql' | 'mariadb';

interface Session {
  readonly core: CoreConnection;
  readonly flavour: Flavour;
  /** False once the server or network closed the connection. */
  readonly alive: boolean;
  /** The statement timeout the session settings were last applied for since the connection
   * was opened or reset; undefined when they must be applied before the next statement. */
  preparedForMs: number | undefined;
}

/** sql_mode pinned so ANSI_QUOTES / NO_BACKSLASH_ESCAPES / PIPES_AS_CONCAT from a server
 * default cannot change how the text the analyser approved is read (anchors §6). */
const SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/**
 * Everything a statement runs under, in ONE statement (one round trip; mysql2's
 * multipleStatements stays off). MySQL's max_execution_time applies to SELECT and can be
 * raised by an optimizer hint (MAX_EXECUTION_TIME(n)); MariaDB's max_statement_time
 * (seconds) by SET STATEMENT … FOR. Hence the watchdog in execute (anchors §6).
 *
 * Read only: the session's transaction access mode (MySQL 5.7.20+/8 `transaction_read_only`;
 * MariaDB `tx_read_only`, as MariaDB 10.11 has no `transaction_read_only`) with autocommit
 * off, so the statement opens a READ ONLY transaction that stays open until the reset rolls it
 * back; and a DDL statement, which commits implicitly and starts a NEW transaction, gets a
 * read-only one too (START TRANSACTION READ ONLY alone did not cover that: CREATE TABLE
 * succeeded on MariaDB 10.11). Verified on MariaDB 10.11: INSERT and CREATE TABLE fail with
 * ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (test/engines/engine.test.ts).
 */
function sessionSettings(flavour: Flavour, timeoutMs: number): string {
  const limit =
    flavour === 'mariadb'
      ? `max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`
      : `max_execution_time = ${timeoutMs}`;
  const readOnly = flavour === 'mariadb' ? 'tx_read_only = 1' : 'transaction_read_only = 1';
  return `SET SESSION ${limit}, time_zone = '+00:00', sql_mode = '${SQL_MODE}', ${readOnly}, autocommit = 0`;
}

/**
 * MySQL and MariaDB (Aurora MySQL included) through mysql2, on a pool of our own so that
 * every new connection authenticates with a freshly minted IAM token.
 */
export function createMysqlEngine(settings: MysqlEngineSettings): Engine {
  const { db, credentials, tls } = settings;

  async function connect(): Promise<CoreConnection> {
    const password = await credentials.password();
    try {
      const connection = await mysql.createConnection({
        host: db.host,
        port: db.port,
        database: db.name,
        user: credentials.user,
        password,
        // RDS IAM: the server switches to mysql_clear_password and checks the token; mysql2
        // >= 3.22 only sends a cleartext password when a plugin is given explicitly. The
        // plugin factory runs per connection, but the token was minted for this connection
        // above (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.AWSCLI.html).
        authPlugins: { mysql_clear_password: () => () => Buffer.from(`${password}\0`) },
        ...(tls === undefined ? {} : { ssl: { ...tls, ca: tls.ca as string | Buffer | string[] } }),
        connectTimeout: settings.connectTimeoutMs,
        // Never read files from the gateway host for LOAD DATA LOCAL INFILE; never allow
        // several statements in one string, nor several result sets (CALL).
        flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS', '-MULTI_RESULTS'],
        multipleStatements: false,
        // We never prepare statements (query, not execute). mysql2's cache of them defaults to
        // 16,000 slots, and COM_RESET_CONNECTION (after every query) clears it by filling two
        // arrays of that size: about 4 % of the gateway's CPU at concurrency 32 (bench/).
        maxPreparedStatements: 1,
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
        dateStrings: true,
        jsonStrings: true,
      });
      // The promise wrapper keeps the callback-style connection, which can stream rows.
      return (connection as unknown as { connection: CoreConnection }).connection;
    } catch (error) {
      throw mysqlError(error, `Cannot connect to ${db.id} (${db.host}:${db.port})`, true);
    }
  }

  async function openSession(): Promise<Session> {
    const core = await connect();
    let alive = true;
    core.on('error', () => (alive = false));
    core.on('end', () => (alive = false));
    try {
      const { rows } = await run(core, 'SELECT VERSION()');
      const flavour: Flavour = /mariadb/i.test(String(rows[0]?.[0] ?? '')) ? 'mariadb' : 'mysql';
      return {
        core,
        flavour,
        get alive() {
          return alive;
        },
        preparedForMs: undefined,
      };
    } catch (error) {
      core.destroy();
      throw mysqlError(error, `Cannot connect to ${db.id}`, true);
    }
  }

  const pool = new ConnectionPool<Session>({
    size: settings.poolSize,
    create: openSession,
    dispose: (session) => session.core.destroy(),
    isAlive: (session) => session.alive,
    acquireTimeoutMs: settings.connectTimeoutMs,
  });

  /** Sessions being reset in the background; close() waits for them. */
  const recycling = new Set<Promise<void>>();

  /**
   * Makes a used session clean before anyone else gets it, off the caller's path (the caller
   * already has its rows): COM_RESET_CONNECTION rolls back the open READ ONLY transaction and
   * drops user variables, temporary tables, GET_LOCK locks, session variables and prepared
   * statements (https://dev.mysql.com/doc/c-api/8.0/en/mysql-reset-connection.html; MariaDB
   * 10.11 the same, checked: it also rolls back a write and restores autocommit). Then, so
   * that the next statement on it needs one round trip, the settings are applied again for
   * `timeoutMs` (the service's timeout is a constant). Only then is the session back in the
   * pool; any failure closes it instead.
   */
  function recycle(session: Session, timeoutMs?: number): void {
    const task = (async () => {
      session.preparedForMs = undefined;
      try {
        await new Promise<void>((resolve, reject) =>
          session.core.reset((error) => (error ? reject(error) : resolve())),
        );
        if (timeoutMs !== undefined) {
          await run(session.core, sessionSettings(session.flavour, timeoutMs));
          session.preparedForMs = timeoutMs;
        }
      } catch {
        pool.destroy(session);
        return;
      }
      if (session.alive) pool.release(session);
      else pool.destroy(session);
    })();
    recycling.add(task);
    void task.finally(() => recycling.delete(task));
  }

  /**
   * KILL QUERY from another connection (the statement's own one is busy), then the caller
   * destroys the statement's connection. Closing the socket alone is not enough: the server
   * keeps executing until it next writes to it (seen on MariaDB 10.11 for over a second),
   * and a SLEEP or a long sort never writes. An idle pooled connection is used when there is
   * one, so that this rarely costs a new IAM connection.
   */
  async function kill(threadId: number | null): Promise<void> {
    if (threadId === null) return;
    const idle = pool.tryAcquireIdle();
    if (idle !== undefined) {
      try {
        await run(idle.core, `KILL QUERY ${threadId}`);
        recycle(idle);
        return;
      } catch {
        pool.destroy(idle);
      }
    }
    let core: CoreConnection | undefined;
    try {
      core = await connect();
      await run(core, `KILL QUERY ${threadId}`);
    } catch {
      // Best effort: the statement's connection is destroyed anyway.
    } finally {
      core?.destroy();
    }
  }

  return {
    kind: 'mysql',

    async execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
      validateExecuteOptions(options);
      const started = performance.now();
      const session = await pool.acquire();
      const { core } = session;
      let reusable = true;
      try {
        // A pooled session was prepared for this timeout when it was reset (below); a new
        // one, or one prepared for another timeout, gets the settings now.
        if (session.preparedForMs !== options.timeoutMs) {
          session.preparedForMs = undefined;
          await run(core, sessionSettings(session.flavour, options.timeoutMs));
          session.preparedForMs = options.timeoutMs;
        }
        const collector = new RowCollector(options);
        const outcome = await stream(
          core,
          sql,
          collector,
          options.timeoutMs + settings.killGraceMs,
        );
        if (outcome.kind === 'overdue') {
          reusable = false;
          await kill(core.threadId);
          throw new GatehouseError(
            'QUERY_TIMEOUT',
            `The statement did not finish within ${options.timeoutMs} ms and was killed.`,
          );
        }
        if (outcome.kind === 'stopped') {
          // mysql2 must read a result to its end before the next command; stopping the
          // statement and dropping the connection is cheaper than reading the rest.
          reusable = false;
          await kill(core.threadId);
        }
        if (collector.overflow !== undefined) throw collector.overflow;
        return {
          columns: outcome.columns,
          rows: collector.rows,
          rowCount: collector.rows.length,
          truncated: collector.truncated,
          durationMs: Math.round(performance.now() - started),
        };
      } catch (error) {
        const failure = mysqlError(error, `The connection to ${db.id} failed`);
        if (failure.code !== 'QUERY_FAILED' && failure.code !== 'QUERY_TIMEOUT') reusable = false;
        throw failure;
      } finally {
        if (reusable && session.alive) recycle(session, options.timeoutMs);
        else pool.destroy(session);
      }
    },

    async ping(): Promise<void> {
      const session = await pool.acquire();
      try {
        await run(session.core, 'SELECT 1');
        recycle(session);
      } catch (error) {
        pool.destroy(session);
        throw mysqlError(error, `Cannot reach ${db.id}`);
      }
    },

    async close(): Promise<void> {
      await Promise.all(recycling);
      await pool.close();
    },
  };
}

type StreamOutcome =
  | { readonly kind: 'complete' | 'stopped'; readonly columns: readonly ColumnInfo[] }
  | { readonly kind: 'overdue' };

/** Streams rows into the collector; stops reading when it is full or the deadline passes. */
function stream(
  core: CoreConnection,
  sql: string,
  collector: RowCollector,
  deadlineMs: number,
): Promise<StreamOutcome> {
  return new Promise((resolve, reject) => {
    let columns: ColumnInfo[] = [];
    let converters: ((value: unknown) => unknown)[] = [];
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      action();
    };
    const watchdog = setTimeout(() => settle(() => resolve({ kind: 'overdue' })), deadlineMs);
    core
      .query({ sql, rowsAsArray: true })
      .on('fields', (fields) => {
        if (fields === undefined) return;
        columns = fields.map((field) => ({ name: field.name, type: mysqlTypeName(field) }));
        converters = fields.map(mysqlValueConverter);
      })
      .on('result', (row) => {
        // A statement without a result set reports an OK packet here, not a row.
        if (settled || !Array.isArray(row)) return;
        const values = row.map((value, i) => (converters[i] ?? identity)(value));
        if (!collector.push(values)) settle(() => resolve({ kind: 'stopped', columns }));
      })
      .on('end', () => settle(() => resolve({ kind: 'complete', columns })))
      .on('error', (error) => settle(() => reject(error)));
  });
}

function identity(value: unknown): unknown {
  return value;
}

/** Runs one of our own statements and collects its rows. */
function run(core: CoreConnection, sql: string): Promise<{ rows: unknown[][] }> {
  return new Promise((resolve, reject) => {
    const rows: unknown[][] = [];
    core
      .query({ sql, rowsAsArray: true })
      .on('result', (row) => {
        if (Array.isArray(row)) rows.push(row);
      })
      .on('end', () => resolve({ rows }))
      .on('error', reject);
  });
}
