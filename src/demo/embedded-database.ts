/**
 * The embedded demo database behind `npm start` and `npm run demo`: PGlite (PostgreSQL compiled
 * to WASM) served over the PostgreSQL wire protocol by @electric-sql/pglite-socket, so the
 * gateway reaches it with the same `pg` driver and code path as a real Aurora PostgreSQL.
 * No server to install: the quickstart runs on any machine with Node.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  readonly host: string;
  readonly port: number;
  /** The database name to connect to (PGlite serves one database). */
  readonly database: string;
  stop(): Promise<void>;
}

/** The employee sample (after the MySQL employees sample Bytebase's tutorial uses), small. */
const SAMPLE_SQL = `
CREATE TABLE department (dept_no text PRIMARY KEY, dept_name text NOT NULL);
CREATE TABLE employee (
  emp_no integer PRIMARY KEY, birth_date date NOT NULL, first_name text NOT NULL,
  last_name text NOT NULL, gender text NOT NULL, hire_date date NOT NULL, dept_no text REFERENCES department);
CREATE TABLE title (emp_no integer REFERENCES employee, title text NOT NULL, from_date date NOT NULL, to_date date);
CREATE TABLE salary (emp_no integer REFERENCES employee, amount integer NOT NULL, from_date date NOT NULL, to_date date);
INSERT INTO department VALUES ('d001','Marketing'),('d002','Finance'),('d003','Human Resources'),('d004','Production'),('d005','Development');
INSERT INTO employee
  SELECT 10000 + i, date '1960-01-01' + (i * 97 % 12000), (ARRAY['Georgi','Bezalel','Parto','Chirstian','Kyoichi','Anneke','Tzvetan','Saniya','Sumant','Duangkaew'])[1 + i % 10],
         (ARRAY['Facello','Simmel','Bamford','Koblick','Maliniak','Preusig','Zielinski','Kalloufi','Peac','Piveteau'])[1 + (i * 7) % 10],
         CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END, date '1985-01-01' + (i * 31 % 9000), 'd00' || (1 + i % 5)
  FROM generate_series(1, 200) AS i;
INSERT INTO title SELECT emp_no, CASE WHEN emp_no % 3 = 0 THEN 'Senior Engineer' WHEN emp_no % 3 = 1 THEN 'Engineer' ELSE 'Staff' END, hire_date, NULL FROM employee;
INSERT INTO salary SELECT emp_no, 40000 + (emp_no * 37 % 60000), hire_date, NULL FROM employee;
`;

export async function startEmbeddedDatabase(
  options: { host?: string; port?: number; dataDir?: string } = {},
): Promise<EmbeddedDatabase> {
  const host = options.host ?? '127.0.0.1';
  // In-memory unless a data directory is given: the demo data is recreated at every start.
  const db =
    options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  const existing = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'employee'",
  );
  if (existing.rows[0]?.n === 0) await db.exec(SAMPLE_SQL);
  // One connection: PGlite multiplexes sockets onto one session at the query level, so two
  // concurrent transactions would interleave. The gateway's pool for this database is 1.
  const server = new PGLiteSocketServer({
    db,
    host,
    port: options.port ?? 5544,
    maxConnections: 1,
  });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    host,
    port,
    database: 'postgres',
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
