/** ISO 8601 / RFC 3339 date-time WITH an offset: `2025-03-01T18:00:00Z`,
 * `2025-03-01T19:00+01:00`. A time without an offset means a different instant in every time
 * zone, so it is never accepted for an expiry. */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** The instant `text` names, or null when it is not a real date-time with an offset.
 * `Date.parse` alone would roll 2025-02-30 over into March; this checks every field. */
export function parseTimestamp(text: string): Date | null {
  const m = TIMESTAMP.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone, sign, oh = '00', om = '00'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (Number(oh) > 23 || Number(om) > 59) return null;
  const offsetMs =
    zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const ms = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs;
  return new Date(utc);
}
