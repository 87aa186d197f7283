import { defineConfig } from 'vitest/config';

// Two projects: `fast` holds pure-function suites for the inner loop; `slow` spawns real
// processes (git, the CLI, the daemon). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.slow.test.ts'],
        },
      },
      {
        test: {
          name: 'slow',
          include: ['test/**/*.slow.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});
