import type { Diagnostic } from '../util/diagnostic.js';
import type { FieldPath } from '../yaml/field-path.js';
import { loadPolicyDocument } from './policy-document.js';
import type { DatabaseAuth, DatabaseConfig, Databases, EngineKind } from './databases.js';

/** The shape the schema guarantees (schemas/databases.schema.json). */
interface DatabasesFile {
  databases: Record<string, DatabaseEntry>;
}
interface DatabaseEntry {
  engine: EngineKind;
  environment: string;
  host: string;
  port?: number;
  name: string;
  defaultSchema?: string;
  auth: {
    iam?: { region: string; user: string };
    password?: { user: string; passwordEnv: string };
  };
  tls?: { ca?: string; required?: boolean };
  tables?: string[];
}

const DEFAULT_PORT: Record<EngineKind, number> = { mysql: 3306, postgres: 5432 };

/** Parses and validates policies/databases.yaml. `databases` is present only when there is no
 * diagnostic: a half-valid policy is never used. */
export function loadDatabases(
  file: string,
  bytes: Uint8Array | string,
): { databases?: Databases; diagnostics: Diagnostic[] } {
  const result = loadPolicyDocument(file, bytes, 'databases');
  if (!('document' in result)) return { diagnostics: result.diagnostics };
  const { loaded, diagnostics } = result.document;
  const invalid = result.document.invalid;

  const value = loaded.value as DatabasesFile;
  const databases = new Map<string, DatabaseConfig>();
  for (const [id, entry] of Object.entries(value.databases)) {
    const at: FieldPath = ['databases', id];
    const auth: DatabaseAuth =
      entry.auth.iam !== undefined
        ? { kind: 'iam', region: entry.auth.iam.region, user: entry.auth.iam.user }
        : {
            kind: 'password',
            user: entry.auth.password?.user ?? '',
            passwordEnv: entry.auth.password?.passwordEnv ?? '',
          };
    if (entry.defaultSchema !== undefined && entry.engine !== 'postgres') {
      invalid(
        [...at, 'defaultSchema'],
        `defaultSchema applies to postgres only; ${id} is a ${entry.engine} database, where the database name is the schema.`,
        'key',
      );
    }
    // RDS IAM tokens travel as cleartext passwords (the MySQL cleartext plugin), so they must
    // never cross an unverified connection. https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html
    if (auth.kind === 'iam' && entry.tls?.required === false) {
      invalid(
        [...at, 'tls', 'required'],
        `tls.required cannot be false for ${id}: IAM tokens are sent as passwords and must only travel over verified TLS.`,
      );
    }
    const tls = {
      required: entry.tls?.required ?? auth.kind === 'iam',
      ...(entry.tls?.ca === undefined ? {} : { ca: entry.tls.ca }),
    };
    databases.set(
      id,
      Object.freeze({
        id,
        engine: entry.engine,
        environment: entry.environment,
        host: entry.host,
        port: entry.port ?? DEFAULT_PORT[entry.engine],
        name: entry.name,
        ...(entry.defaultSchema === undefined ? {} : { defaultSchema: entry.defaultSchema }),
        auth: Object.freeze(auth),
        tls: Object.freeze(tls),
        ...(entry.tables === undefined ? {} : { tables: Object.freeze([...entry.tables]) }),
      }),
    );
  }
  if (diagnostics.length > 0) return { diagnostics };
  return { databases, diagnostics };
}
