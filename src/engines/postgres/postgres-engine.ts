import pg from 'pg';
import { GatehouseError } from '../../errors/catalogue.js';
import type { DatabaseConfig } from '../../policy/databases.js';
import type { ConnectionCredentials } from '../connection-credentials.js';
import type { Engine, ExecuteOptions, QueryResult } from '../engine.js';
import { RowCollector, validateExecuteOptions } from '../row-collector.js';
import type { TlsOptions } from '../tls-options.js';
import { CappedQuery } from './capped-query.js';
import { postgresError } from './postgres-errors.js';
import { sessionPipeline } from './session-pipeline.js';

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
  const schema = db.defaultSchema ?? 'public';

  async function checkout(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw postgresError(error, `Cannot connect to ${db.id} (${db.host}:${db.port})`);
    }
  }

  /** Clients still running their epilogue or clean-up after the caller got its rows. */
  const cleaning = new Set<Promise<void>>();

  /**
   * Back to the pool once the session is clean: after the pipelined epilogue ran to the end
   * (transaction status idle), at once; otherwise (the query failed, so the server skipped the
   * epilogue) with ROLLBACK and DISCARD ALL as separate commands. A client that cannot be
   * cleaned, or does not answer within `deadlineMs`, is destroyed.
   */
  function releaseWhenClean(client: pg.PoolClient, query: CappedQuery, deadlineMs: number): void {
    const task = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<{ clean: false; overdue: true }>((resolve) => {
        timer = setTimeout(() => resolve({ clean: false, overdue: true }), deadlineMs);
      });
      try {
        const outcome = await Promise.race([query.settled, overdue]);
        if ('overdue' in outcome) throw new Error('the session reset did not finish in time');
        if (!outcome.clean || transactionStatus(client) !== 'I') {
          await client.query('ROLLBACK');
          await client.query('DISCARD ALL');
        }
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : new Error(String(error)));
      } finally {
        clearTimeout(timer);
      }
    })();
    cleaning.add(task);
    void task.finally(() => cleaning.delete(task));
  }

  return {
    kind: 'postgres',

    async execute(sql: string, options: ExecuteOptions): Promise<QueryResult> {
      validateExecuteOptions(options);
      const started = performance.now();
      const client = await checkout();
      const collector = new RowCollector(options);
      const query = new CappedQuery(
        sql,
        collector,
        options.maxRows,
        sessionPipeline({
          schema,
          timeoutMs: options.timeoutMs,
          idleTimeoutMs: options.timeoutMs + settings.killGraceMs,
        }),
      );
      // Destroy rather than reuse the connection after a watchdog timeout or a failure of
      // the connection itself; otherwise it goes back clean (releaseWhenClean).
      let broken: Error | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      try {
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
          releaseWhenClean(client, query, options.timeoutMs + settings.killGraceMs);
        } else {
          client.release(broken);
        }
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
      await Promise.all(cleaning);
      await pool.end();
    },
  };
}

/** 'I' idle, 'T' in a transaction, 'E' in a failed one (pg >= 8.12; older: unknown). */
function transactionStatus(client: pg.PoolClient): string | undefined {
  return (
    (client as { getTransactionStatus?: () => string | null }).getTransactionStatus?.() ?? undefined
  );
}
