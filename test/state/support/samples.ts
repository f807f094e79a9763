import type { NewGrant } from '../../../src/grants/grant.js';
import { grantId } from '../../../src/grants/grant-id.js';
import type { Clock } from '../../../src/util/clock.js';

export const T0 = new Date('2024-06-01T10:00:00.123Z');

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A clock the test moves by hand. */
export function manualClock(start = T0): Clock & { set(d: Date): void; advance(ms: number): void } {
  let now = start.getTime();
  const clock = () => new Date(now);
  return Object.assign(clock, {
    set(d: Date) {
      now = d.getTime();
    },
    advance(ms: number) {
      now += ms;
    },
  });
}

let counter = 0;

export function sampleGrant(overrides: Partial<NewGrant> = {}): NewGrant {
  counter++;
  const filePath = overrides.filePath ?? `access/hr_prod/alice-${counter}.yaml`;
  const mergeSha = overrides.mergeSha ?? counter.toString(16).padStart(40, 'a');
  return {
    id: grantId('acme/access', filePath, mergeSha),
    repo: 'acme/access',
    requester: 'alice',
    database: 'hr_prod',
    tables: ['employee', 'hr.title'],
    access: 'read',
    level: 'medium',
    reason: 'Incident INC-42: payroll export failing',
    ticket: 'INC-42',
    filePath,
    prNumber: 100 + counter,
    prUrl: `https://github.com/acme/access/pull/${100 + counter}`,
    headSha: 'b'.repeat(40),
    mergeSha,
    approvers: [{ login: 'dba-dora', reviewId: 9001 }],
    activatedAt: T0,
    expiresAt: at(4 * HOUR),
    ...overrides,
  };
}
