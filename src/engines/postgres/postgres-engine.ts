import pg from 'pg';
import { GatehouseError } from '../../errors/catalogue.js';
import type { DatabaseConfig } from '../../policy/databases.js';
import type { ConnectionCredentials } from '../connection-credentials.js';
import type { Engine, ExecuteOptions, QueryResult } from '../engine.js';
import { RowCollector, validateExecuteOptions } from '../row-collector.js';
import type { TlsOptions } from '../tls-options.js';
import { CappedQuery } from './capped-query.js';
import { postgresError } from './postgres-errors.js';

export interface PostgresEngineSettings {
  readonly db: DatabaseConfig;
  readonly credentials: ConnectionCredentials;
  readonly tls: TlsOptions | undefined;
  readonly poolSize: number;
  /** How long after the statement timeout the gateway gives up on the connection. */
  readonly killGraceMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * PostgreSQL through a pg.Pool. pg calls the `password` function each time a NEW connection
 * authenticates, so with IAM every connection gets a freshly minted token
 * (https://node-postgres.com/features/connecting#programmatic-connection-with-a-password-function).
 */
export function createPostgresEngine(settings: PostgresEngineSettings): Engine {
  const { db, credentials, tls } = settings;
  const pool = new pg.Pool({
    host: db.host,
    port: db.port,
    database: db.name,
    user: credentials.user,
    password: () => credentials.password(),
    ssl: tls === undefined ? false : { ...tls, ca: tls.ca as string | Buffer | string[] },
    max: settings.poolSize,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    application_name: 'gatehouse',
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout reconnects.
  pool.on('error', () => undefined);
  const searchPath = quoteIdentifier(db.defaultSchema ?? 'public');

  async function checkout(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw postgresError(error, `Cannot connect to ${db.id} (${db.host}:${db.port})`);
    }
  }

  return {
    kind: 'postgres',

    async execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
      validateExecuteOptions(options);
      const started = performance.now();
      const client = await checkout();
      // Destroy rather than reuse the connection after anything but a clean run or a server
      // error that ROLLBACK recovers from.
      let broken: Error | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      try {
        // Each setting is LOCAL to the transaction; DISCARD ALL below resets the rest.
        // search_path pins unqualified names to the schema the analyser resolved them in.
        await client.query(
          [
            'BEGIN READ ONLY',
            `SET LOCAL statement_timeout = ${options.timeoutMs}`,
            `SET LOCAL idle_in_transaction_session_timeout = ${options.timeoutMs + settings.killGraceMs}`,
            `SET LOCAL search_path = ${searchPath}`,
            "SET LOCAL TimeZone = 'UTC'",
            "SET LOCAL DateStyle = 'ISO, YMD'",
            "SET LOCAL IntervalStyle = 'postgres'",
            "SET LOCAL bytea_output = 'hex'",
            // The analyser reads '\\' in strings as PostgreSQL does with this on (the default
            // since 9.1); pin it so a session default cannot change where a string ends.
            'SET LOCAL standard_conforming_strings = on',
          ].join('; '),
        );
        const collector = new RowCollector(options);
        const query = new CappedQuery(sql, collector, options.maxRows);
        // The server's statement_timeout is the primary limit; this only catches a server or
        // network that stops answering, and then the connection is destroyed.
        const overdue = new Promise<never>((_, reject) => {
          watchdog = setTimeout(() => {
            broken = new GatehouseError(
              'QUERY_TIMEOUT',
              `The statement did not finish within ${options.timeoutMs} ms and was abandoned.`,
            );
            reject(broken);
          }, options.timeoutMs + settings.killGraceMs);
        });
        client.query(query as unknown as pg.Submittable);
        let columns;
        try {
          ({ columns } = await Promise.race([query.result, overdue]));
        } catch (error) {
          if (error === broken) throw error;
          throw postgresError(error, `The connection to ${db.id} failed`);
        } finally {
          clearTimeout(watchdog);
        }
        if (collector.overflow !== undefined) throw collector.overflow;
        return {
          columns,
          rows: collector.rows,
          rowCount: collector.rows.length,
          truncated: collector.truncated,
          durationMs: Math.round(performance.now() - started),
        };
      } catch (error) {
        const failure = postgresError(error, `The connection to ${db.id} failed`);
        if (failure.code === 'DATABASE_UNAVAILABLE' || failure.code === 'INTERNAL') {
          broken ??= failure;
        }
        throw failure;
      } finally {
        if (broken === undefined) {
          try {
            await client.query('ROLLBACK');
            // Reset everything a statement could leave behind on the session before reuse:
            // prepared statements, advisory locks, temp tables, settings, LISTEN.
            await client.query('DISCARD ALL');
          } catch (error) {
            broken = error instanceof Error ? error : new Error(String(error));
          }
        }
        client.release(broken ?? false);
      }
    },

    async ping(): Promise<void> {
      const client = await checkout();
      try {
        await client.query('SELECT 1');
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        throw postgresError(error, `Cannot reach ${db.id}`);
      }
    },

    async close(): Promise<void> {
      await pool.end();
    },
  };
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
