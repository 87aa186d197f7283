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
          // These suites mostly wait on child processes (about 50% of one core on average), so
          // two files at a time fit a 2-core machine: 477 s → 299 s, with no suite slower than
          // its own timeouts allow.
          maxWorkers: 3,
        },
      },
    ],
  },
});
