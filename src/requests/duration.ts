/** Durations as written in requests and policies: a whole number and a unit, `30m`, `4h`,
 * `2d`. One unit per value keeps them unambiguous to read in a review. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION = /^([0-9]{1,6})([mhd])$/;

/** Milliseconds of `text`, or null when it is not a duration. `0m` parses to 0: whether zero is
 * allowed is for the caller to say (REQ_DURATION_ZERO). */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (match === null) return null;
  const [, amount, unit] = match;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

/** The shortest exact form in the largest unit: 86_400_000 → `1d`, 5_400_000 → `90m`. Values
 * that are not whole minutes are rounded up, so a formatted limit is never shorter than the
 * real one. */
export function formatDuration(ms: number): string {
  const minutes = Math.ceil(Math.max(0, ms) / UNIT_MS.m);
  if (minutes > 0 && minutes % (24 * 60) === 0) return `${minutes / (24 * 60)}d`;
  if (minutes > 0 && minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}
