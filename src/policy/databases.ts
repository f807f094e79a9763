/** policies/databases.yaml, after validation. */
export type EngineKind = 'mysql' | 'postgres';

export type DatabaseAuth =
  | { readonly kind: 'iam'; readonly region: string; readonly user: string }
  | { readonly kind: 'password'; readonly user: string; readonly passwordEnv: string };

export interface DatabaseTls {
  /** Path to a PEM CA bundle (for RDS: the global bundle, see docs/production.md). */
  readonly ca?: string;
  /** Verified TLS is required; defaults to true for iam auth, false for password auth. */
  readonly required: boolean;
}

export interface DatabaseConfig {
  /** The key in databases.yaml, and the directory under access/. */
  readonly id: string;
  readonly engine: EngineKind;
  readonly environment: string;
  readonly host: string;
  readonly port: number;
  /** Database (MySQL schema / PostgreSQL database) name on the server. */
  readonly name: string;
  /** PostgreSQL only: schema of unqualified table names; default `public`. */
  readonly defaultSchema?: string;
  readonly auth: DatabaseAuth;
  readonly tls: DatabaseTls;
  /** Declared tables (`table` or `schema.table`); when absent, any table name is accepted. */
  readonly tables?: readonly string[];
}

export type Databases = ReadonlyMap<string, DatabaseConfig>;
