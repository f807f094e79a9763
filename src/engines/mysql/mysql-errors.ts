import { GatehouseError } from '../../errors/catalogue.js';

// Server error numbers (https://mariadb.com/kb/en/mariadb-error-code-reference/ and
// https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html).
const TIMEOUT_ERRNOS = new Set([
  1317, // ER_QUERY_INTERRUPTED: KILL QUERY
  1969, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
  3024, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
]);
const UNAVAILABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1044, // ER_DBACCESS_DENIED_ERROR
  1045, // ER_ACCESS_DENIED_ERROR: includes a rejected IAM token
  1049, // ER_BAD_DB_ERROR
  1053, // ER_SERVER_SHUTDOWN
  1129, // ER_HOST_IS_BLOCKED
  1130, // ER_HOST_NOT_PRIVILEGED
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1226, // ER_USER_LIMIT_REACHED
  1927, // ER_CONNECTION_KILLED (MariaDB)
]);

interface MysqlDriverError {
  readonly message?: string;
  readonly code?: string;
  readonly errno?: number;
  readonly sqlState?: string;
  readonly fatal?: boolean;
}

/** Translates a mysql2 error. `connecting` marks failures before the session was usable. */
export function mysqlError(error: unknown, context: string, connecting = false): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as MysqlDriverError;
  const message = e.message ?? String(error);
  const errno = e.errno;
  if (errno !== undefined && TIMEOUT_ERRNOS.has(errno)) {
    return new GatehouseError(
      'QUERY_TIMEOUT',
      `The statement ran past the statement timeout and was stopped (${message}).`,
      { cause: error },
    );
  }
  const serverError = e.sqlState !== undefined && errno !== undefined && !e.fatal;
  if (connecting || !serverError || UNAVAILABLE_ERRNOS.has(errno)) {
    return new GatehouseError('DATABASE_UNAVAILABLE', `${context}: ${message}`, { cause: error });
  }
  return new GatehouseError(
    'QUERY_FAILED',
    `${message} (${e.code ?? 'error'} ${errno}, SQLSTATE ${e.sqlState})`,
    { cause: error },
  );
}
