import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database-backed suites create their own databases; running files in parallel is fine,
    // but keep the worker count within the 2-core machine.
    maxWorkers: 2,
    // nock 15's interceptors call Promise.withResolvers (Node >= 22); we run on Node 20.
    setupFiles: ['test/github/support/node20-shims.ts'],
  },
});
