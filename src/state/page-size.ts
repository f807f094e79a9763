/** Keyset page size: `fallback` when unset, clamped to `max`; a non-positive or fractional
 * limit is a caller bug (HTTP and CLI validate their input before it gets here). */
export function pageSize(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new TypeError(`limit must be a positive integer, got ${limit}`);
  }
  return Math.min(limit, max);
}
