import type { Bar, BarInit } from '@feed/core';
import { ManualClock, makeBar, zonedTimeToEpoch } from '@feed/core';
import type { DataManagerOptions, Snapshot } from '../src/index.js';
import { MultiSymbolDataManager } from '../src/index.js';

export const MIN = 60_000;

/** New York wall time to epoch ms. */
export function ny(date: string, hh: number, mm: number, ss = 0): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedTimeToEpoch('America/New_York', y, m, d, hh, mm, ss);
}

/** 2025-04-01 09:30 New York: a regular session. */
export const OPEN = ny('2025-04-01', 9, 30);

/** A valid bar; by default received right at its end. */
export function bar(symbol: string, start: number, close = 100, overrides: Partial<BarInit> = {}): Bar {
  return makeBar({
    symbol,
    start,
    open: close,
    high: close + 0.5,
    low: close - 0.5,
    close,
    volume: 1000,
    receivedAt: start + MIN,
    ...overrides,
  });
}

export interface Harness {
  dm: MultiSymbolDataManager;
  clock: ManualClock;
  slices: Snapshot[];
}

/** A manager over `symbols` with a manual clock at `start`, recording its slices. */
export function harness(symbols: readonly string[], start = OPEN, options: Partial<DataManagerOptions> = {}): Harness {
  const clock = new ManualClock(start);
  const dm = new MultiSymbolDataManager({ symbols, clock, ...options });
  const slices: Snapshot[] = [];
  dm.on('slice', (e) => slices.push(e.slice));
  return { dm, clock, slices };
}

/**
 * Replays minute groups the way a replay does: the clock moves to the group's start (after a gap),
 * every bar of that start is delivered, then the clock moves to their end.
 */
export function replay(h: Harness, groups: readonly (readonly Bar[])[]): void {
  for (const g of groups) {
    const first = g[0];
    if (first === undefined) continue;
    if (first.start > h.clock.now()) h.clock.set(first.start);
    for (const b of g) h.dm.update(b);
    if (first.end > h.clock.now()) h.clock.set(first.end);
  }
}
