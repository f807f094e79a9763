import { readFileSync } from 'node:fs';
import { GatehouseError } from '../errors/catalogue.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { ClockConfig } from './config.js';

/**
 * The service clock. In production it is the system clock. For tests ONLY (the end-to-end
 * scenario must move the server's time past a grant's expiry without waiting hours), it can
 * be shifted by a fixed offset (GATEHOUSE_CLOCK_OFFSET_MS) or driven by a file
 * (GATEHOUSE_CLOCK_FILE) that the test rewrites while the server runs. The file holds either
 * an ISO 8601 instant with an offset (time stands still at that instant) or a signed whole
 * number of milliseconds (added to the system time). A missing or empty file means system
 * time. See docs/configuration.md, "Clock for tests".
 */
export function configuredClock(config: ClockConfig): Clock {
  switch (config.kind) {
    case 'system':
      return systemClock;
    case 'offset':
      return () => new Date(Date.now() + config.offsetMs);
    case 'file':
      return fileClock(config.path);
  }
}

type FileReading =
  | { readonly kind: 'fixed'; readonly at: number }
  | { readonly kind: 'offset'; readonly ms: number };

function parse(path: string, text: string): FileReading {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'offset', ms: 0 };
  if (/^[+-]?\d+$/.test(trimmed)) return { kind: 'offset', ms: Number(trimmed) };
  // Same rule as access requests: an instant without an offset is ambiguous.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (!Number.isNaN(at)) return { kind: 'fixed', at };
  }
  throw new GatehouseError(
    'CONFIG_INVALID',
    `GATEHOUSE_CLOCK_FILE: ${path} holds '${trimmed.slice(0, 40)}', not an ISO 8601 instant with an offset or a number of ms`,
  );
}

// The file is read on every call (test-only, a few bytes): caching by mtime would miss two
// writes of same-length ISO strings within the file system's timestamp granularity.
function fileClock(path: string): Clock {
  return () => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return new Date();
    }
    const reading = parse(path, text);
    return reading.kind === 'fixed' ? new Date(reading.at) : new Date(Date.now() + reading.ms);
  };
}
