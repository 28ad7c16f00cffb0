import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Replays read and cache files, and the merge-thread tests start worker threads: on a 2-core CI
    // machine running every package's suite at once, a replay of a second took over 5 s (the default).
    testTimeout: 30_000,
  },
});
