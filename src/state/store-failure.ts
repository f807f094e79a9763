import { GatehouseError } from '../errors/catalogue.js';

/** Translates a driver failure at the state-store edge into a catalogue error, keeping the
 * driver error as `cause` for logs. GatehouseErrors (e.g. GRANT_NOT_FOUND) pass through, and
 * so do TypeErrors raised for malformed input: those are bugs, not an unavailable store. */
export function storeFailure(
  code: 'STATE_UNAVAILABLE' | 'AUDIT_UNAVAILABLE',
  what: string,
  cause: unknown,
): Error {
  if (cause instanceof GatehouseError) return cause;
  if (cause instanceof TypeError && !('code' in cause)) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new GatehouseError(code, `${what}: ${detail}`, { cause });
}
