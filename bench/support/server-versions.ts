import mysql from 'mysql2/promise';
import pg from 'pg';
import { MYSQL_URL, PG_URL } from '../../test/support/databases.js';

/** Versions of the database servers the run used, for the report header. */
export async function serverVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const { rows } = await client.query<{ v: string }>(
      "SELECT current_setting('server_version') AS v",
    );
    out['PostgreSQL'] = rows[0]?.v ?? 'unknown';
    const fsync = await client.query<{ f: string; s: string }>(
      "SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s",
    );
    out['PostgreSQL'] += ` (fsync=${fsync.rows[0]?.f}, synchronous_commit=${fsync.rows[0]?.s})`;
    await client.end();
  } catch (error) {
    out['PostgreSQL'] = `unreachable (${(error as Error).message})`;
  }
  try {
    const conn = await mysql.createConnection(MYSQL_URL);
    const [rows] = await conn.query('SELECT VERSION() AS v');
    out['MariaDB/MySQL'] = String((rows as { v: string }[])[0]?.v ?? 'unknown');
    await conn.end();
  } catch (error) {
    out['MariaDB/MySQL'] = `unreachable (${(error as Error).message})`;
  }
  return out;
}
