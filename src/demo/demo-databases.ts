import { GatehouseError } from '../errors/catalogue.js';
import type { DatabaseAuth, DatabaseConfig, Databases } from '../policy/databases.js';

/** The database of the quickstart (`npm start`) and `npm run demo`: declared in the
 * repository's policies/databases.yaml like any other, served by the embedded PostgreSQL. */
export const DEMO_DATABASE_ID = 'hr_demo';

/** Where the embedded database listens, as `startEmbeddedDatabase` reports it. */
export interface EmbeddedAddress {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export type DemoEntry = DatabaseConfig & {
  readonly auth: Extract<DatabaseAuth, { readonly kind: 'password' }>;
};

export interface DemoDatabases {
  /** Only the demo database, pointed at the embedded server. */
  readonly databases: Databases;
  /** The declared databases that are NOT served in demo mode (they need AWS, a CA file and a
   * reachable server; the quickstart must start on any laptop). */
  readonly skipped: readonly string[];
}

/** The declared `hr_demo` entry; CONFIG_INVALID when it is missing or cannot be served by
 * the embedded PostgreSQL (checked before that server starts). */
export function demoEntry(declared: Databases): DemoEntry {
  const entry = declared.get(DEMO_DATABASE_ID);
  if (entry === undefined) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `serve --demo: policies/databases.yaml declares no '${DEMO_DATABASE_ID}' database; the demo serves that entry from the embedded PostgreSQL (see the repository's own policies/databases.yaml)`,
    );
  }
  if (entry.engine !== 'postgres' || entry.auth.kind !== 'password') {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `serve --demo: '${DEMO_DATABASE_ID}' must be a postgres database with password auth (the embedded server is PostgreSQL and speaks no IAM)`,
    );
  }
  return { ...entry, auth: entry.auth };
}

/**
 * Keeps the declared `hr_demo` entry (engine, environment, tables, auth user and password
 * variable: what the review gate and the risk policy see) and replaces only where it
 * connects: host, port and database name of the embedded server, plain TCP on loopback.
 */
export function demoDatabases(declared: Databases, embedded: EmbeddedAddress): DemoDatabases {
  const entry = demoEntry(declared);
  const served: DatabaseConfig = {
    ...entry,
    host: embedded.host,
    port: embedded.port,
    name: embedded.database,
    // Loopback to a process of our own: there is no network path to protect.
    tls: { required: false },
  };
  return {
    databases: new Map([[DEMO_DATABASE_ID, served]]),
    skipped: [...declared.keys()].filter((id) => id !== DEMO_DATABASE_ID),
  };
}
