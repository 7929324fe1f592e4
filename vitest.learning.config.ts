import { defineConfig } from 'vitest/config';

/**
 * The learning tier (tests/learning): short training runs that must learn far above random,
 * minutes each; part of `npm test` after the unit tests, runnable alone with `npm run test:learning`.
 */
export default defineConfig({
  test: {
    include: ['tests/learning/**/*.test.ts'],
    testTimeout: 600_000,
    pool: 'forks',
  },
});
