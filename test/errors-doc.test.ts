import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors/catalogue.js';
import { renderErrorsDoc } from '../src/errors/render-errors-doc.js';

describe('docs/errors.md', () => {
  it('is the catalogue rendered (run npm run docs:errors after adding a code)', () => {
    const committed = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderErrorsDoc());
  });
  it('gives every code a status and a summary sentence', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      // Notices recorded in the audit log (e.g. GRANT_DURATION_CLAMPED) carry a 2xx status.
      expect(spec.status).toBeGreaterThanOrEqual(200);
      expect(spec.status).toBeLessThan(600);
      expect(spec.summary.length, code).toBeGreaterThan(10);
    }
  });
});
