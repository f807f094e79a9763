import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/requests/duration.js';
import { parseTimestamp } from '../../src/requests/parse-timestamp.js';

describe('parseDuration / formatDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['4h', 4 * 3_600_000],
    ['2d', 2 * 86_400_000],
    ['0m', 0],
    ['90m', 90 * 60_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '4', 'h', '4 h', '4H', '1h30m', '-1h', '1.5h', '4w', '4s', '1234567d', ' 4h'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );

  it('formats in the largest exact unit, never shorter than the real value', () => {
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(8 * 3_600_000)).toBe('8h');
    expect(formatDuration(90 * 60_000)).toBe('90m');
    expect(formatDuration(61_000)).toBe('2m');
    expect(formatDuration(0)).toBe('0m');
    for (const text of ['30m', '4h', '2d', '36h']) {
      expect(formatDuration(parseDuration(text) ?? -1)).toBe(text === '36h' ? '36h' : text);
    }
  });
});

describe('parseTimestamp', () => {
  it('accepts ISO 8601 date-times with an offset', () => {
    expect(parseTimestamp('2025-03-01T18:00:00Z')?.toISOString()).toBe('2025-03-01T18:00:00.000Z');
    expect(parseTimestamp('2025-03-01T19:00:00+01:00')?.toISOString()).toBe(
      '2025-03-01T18:00:00.000Z',
    );
    expect(parseTimestamp('2025-03-01T13:30-04:30')?.toISOString()).toBe(
      '2025-03-01T18:00:00.000Z',
    );
    expect(parseTimestamp('2024-02-29T00:00:00.250Z')?.toISOString()).toBe(
      '2024-02-29T00:00:00.250Z',
    );
  });

  it.each([
    '2025-03-01T18:00:00',
    '2025-03-01',
    '2025-03-01 18:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-03-01T24:00:00Z',
    '2025-03-01T18:60:00Z',
    '2025-03-01T18:00:60Z',
    '2025-03-01T18:00:00+24:00',
    '2025-03-01T18:00:00+0100',
  ])('refuses %s', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });
});
