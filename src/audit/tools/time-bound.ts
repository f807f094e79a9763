import { parseDuration } from '../../requests/duration.js';
import { parseTimestamp } from '../../requests/parse-timestamp.js';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A time bound as an auditor types it: an ISO 8601 date-time with an offset
 * (`2025-03-01T18:00:00Z`), a date (`2025-03-01`, midnight UTC), or a span back from `now`
 * (`30m`, `24h`, `7d`). Null when it is none of these. Pure: `now` is passed in.
 */
export function parseTimeBound(text: string, now: Date): Date | null {
  const trimmed = text.trim();
  const relative = parseDuration(trimmed);
  if (relative !== null) return new Date(now.getTime() - relative);
  const date = DATE_ONLY.exec(trimmed);
  if (date !== null) return parseTimestamp(`${trimmed}T00:00:00Z`);
  return parseTimestamp(trimmed);
}

export const TIME_BOUND_HELP =
  'an ISO 8601 date-time with an offset (2025-03-01T18:00:00Z), a date (2025-03-01, UTC) or a span back from now (30m, 24h, 7d)';
