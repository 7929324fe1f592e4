import { defineConfig } from 'vitest/config';

/** Browser tests: Playwright on Chromium against a real `headway serve` (tests/e2e). */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
