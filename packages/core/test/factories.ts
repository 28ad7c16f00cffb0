import type { Bar, BarInit } from '../src/bar.js';
import { makeBar } from '../src/bar.js';

/** 2025-04-01 09:30 New York (13:30 UTC), on the minute grid. */
export const T0 = Date.UTC(2025, 3, 1, 13, 30);

/** A valid one-minute bar; override any field. */
export function bar(overrides: Partial<BarInit> = {}): Bar {
  return makeBar({
    symbol: 'TQQQ',
    start: T0,
    open: 100,
    high: 101,
    low: 99,
    close: 100.5,
    volume: 1000,
    receivedAt: T0 + 60_000,
    ...overrides,
  });
}
