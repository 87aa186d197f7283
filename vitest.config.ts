import { defineConfig } from 'vitest/config';

// Two projects: `fast` holds pure-function suites for the inner loop; `slow` spawns real
// processes (git, the CLI, the daemon). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'fast',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.slow.test.ts'],
        },
      },
      {
        test: {
          name: 'slow',
          // After the fast suites, with a worker count of its own.
          sequence: { groupOrder: 1 },
          include: ['test/**/*.slow.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          // These suites mostly wait on child processes: three files at a time kept a 2-core
          // machine at about one core busy (9 min of CPU in 9.5 min), so four fit.
          maxWorkers: 4,
        },
      },
    ],
  },
});
