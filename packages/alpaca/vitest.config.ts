import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The tests wait for real I/O on 127.0.0.1 (never for time: the clocks are manual); under a
    // loaded machine that I/O can be slow, and a slow test must not fail for it.
    testTimeout: 60_000,
  },
});
