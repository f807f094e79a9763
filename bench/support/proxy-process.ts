/**
 * A forwarding-only HTTP proxy, the floor of ANY gateway reached over HTTP: `POST /v1/query`
 * with `{ database, sql }` runs the SQL with the bare driver (mysql2 / pg pool, the same pool
 * size as the gateway) and answers `{ columns, rows, rowCount }` as the gateway does. Fastify
 * without logging; no identity, analysis, grant check, audit or session safety. It runs in its
 * own process like the gateway, so it pays the same HTTP exchange and process hand-offs.
 * Databases come from PROXY_DATABASES (JSON); tells the parent its URL over IPC and stops on
 * the message 'stop'.
 */
import Fastify from 'fastify';
import mysql from 'mysql2/promise';
import pg from 'pg';

export interface ProxyDatabase {
  readonly id: string;
  readonly engine: 'mysql' | 'postgres';
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
  readonly poolSize: number;
}

interface Answer {
  readonly columns: { name: string }[];
  readonly rows: unknown[][];
}

function runner(db: ProxyDatabase): { run(sql: string): Promise<Answer>; close(): Promise<void> } {
  if (db.engine === 'mysql') {
    const pool = mysql.createPool({
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.name,
      connectionLimit: db.poolSize,
      rowsAsArray: true,
      dateStrings: true,
    });
    return {
      async run(sql) {
        const [rows, fields] = await pool.query(sql);
        return { columns: fields.map((f) => ({ name: f.name })), rows: rows as unknown[][] };
      },
      close: () => pool.end(),
    };
  }
  const pool = new pg.Pool({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.name,
    max: db.poolSize,
  });
  return {
    async run(sql) {
      const result = await pool.query({ text: sql, rowMode: 'array' });
      return {
        columns: result.fields.map((f) => ({ name: f.name })),
        rows: result.rows as unknown[][],
      };
    },
    close: () => pool.end(),
  };
}

const databases = JSON.parse(process.env['PROXY_DATABASES'] ?? '[]') as ProxyDatabase[];
const runners = new Map(databases.map((db) => [db.id, runner(db)]));
const app = Fastify({ logger: false });
app.post<{ Body: { database: string; sql: string } }>('/v1/query', async (request, reply) => {
  const target = runners.get(request.body.database);
  if (target === undefined) return reply.code(404).send({ error: 'unknown database' });
  const { columns, rows } = await target.run(request.body.sql);
  return { columns, rows, rowCount: rows.length };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ url });
process.on('message', (message) => {
  if (message === 'stop') {
    void Promise.all([...runners.values()].map((r) => r.close()))
      .then(() => app.close())
      .finally(() => process.exit(0));
  }
});
