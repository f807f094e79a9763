import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database-backed suites create their own databases; running files in parallel is fine,
    // but keep the worker count within the 2-core machine.
    maxWorkers: 2,
  },
});
