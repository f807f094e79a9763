import pg from 'pg';
import { GatehouseError } from '../../errors/catalogue.js';

// SQLSTATE classes (https://www.postgresql.org/docs/15/errcodes-appendix.html) that mean the
// database, not the statement, is the problem: connection exceptions, invalid authorization
// (a rejected IAM token), insufficient resources, operator intervention (shutdown).
// 3D: the configured database does not exist.
const UNAVAILABLE_CLASSES = new Set(['08', '28', '53', '3D']);
const QUERY_CANCELED = '57014';

/** Translates a pg error into the catalogue. A server error's message is passed through: it
 * says no more than the database would say to the shared user anyway. */
export function postgresError(error: unknown, context: string): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const sqlState = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (sqlState === QUERY_CANCELED) {
    return new GatehouseError(
      'QUERY_TIMEOUT',
      `The statement ran past the statement timeout and was cancelled (${message}).`,
      { cause: error },
    );
  }
  if (sqlState === undefined || isUnavailable(sqlState)) {
    return new GatehouseError(
      'DATABASE_UNAVAILABLE',
      `${context}: ${message}${sqlState === undefined ? '' : ` (SQLSTATE ${sqlState})`}`,
      { cause: error },
    );
  }
  const position = positionOf(error);
  return new GatehouseError(
    'QUERY_FAILED',
    `${message} (SQLSTATE ${sqlState}${position === undefined ? '' : `, at character ${position}`})`,
    { cause: error },
  );
}

function isUnavailable(sqlState: string): boolean {
  return UNAVAILABLE_CLASSES.has(sqlState.slice(0, 2)) || sqlState.startsWith('57P');
}

function sqlStateOf(error: unknown): string | undefined {
  // Only errors the server sent carry a SQLSTATE; socket errors (ECONNREFUSED, EPIPE) and
  // TLS failures are plain Errors.
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

function positionOf(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.position : undefined;
}
