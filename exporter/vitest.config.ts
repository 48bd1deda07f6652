import { defineConfig } from 'vitest/config';

// Integration tests start real peers (Redis, Prometheus); their timeouts are generous bounds, not targets.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
