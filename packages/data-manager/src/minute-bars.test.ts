import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, nyse } from '@feed/core';
import { describe, expect, it } from 'vitest';
import type { MinutesBar } from './index.js';
import { MinuteBarAggregator, MultiSymbolDataManager } from './index.js';

const OPEN = Date.UTC(2025, 9, 16, 13, 30); // Thursday 2025-10-16 09:30 New York
const bar = (symbol: string, start: number, close: number, volume = 100): Bar =>
  makeBar({ symbol, start, open: close - 0.1, high: close + 0.3, low: close - 0.4, close, volume, receivedAt: start + MINUTE_MS });

/** Plays bars minute by minute on a manual clock (each minute's bars, then the clock to its end). */
function run(symbols: string[], bars: Bar[], minutes: number, opts: { from: number; to: number }) {
  const clock = new ManualClock(opts.from);
  const dm = new MultiSymbolDataManager({ symbols, clock, historySize: 1000 });
  const agg = new MinuteBarAggregator(dm, { minutes });
  const out: MinutesBar[] = [];
  const emittedAt: number[] = [];
  agg.on('bar', ({ bar: b }) => {
    out.push(b);
    emittedAt.push(clock.now());
  });
  for (let t = opts.from; t < opts.to; t += MINUTE_MS) {
    for (const b of bars) if (b.start === t) dm.update(b);
    clock.set(t + MINUTE_MS);
  }
  clock.advance(10_000); // past the grace of the last minute
  return { dm, agg, out, emittedAt, clock };
}

/** The same bars grouped by hand, written without the aggregator's code: start = open + k*N. */
function expected(bars: Bar[], symbol: string, n: number, open: number, close: number) {
  const groups = new Map<number, Bar[]>();
  for (const b of bars.filter((x) => x.symbol === symbol && x.start >= open && x.start < close)) {
    const k = Math.floor((b.start - open) / (n * MINUTE_MS));
    groups.set(k, [...(groups.get(k) ?? []), b]);
  }
  return [...groups.entries()].map(([k, g]) => ({
    start: open + k * n * MINUTE_MS,
    open: g[0]!.open,
    high: Math.max(...g.map((x) => x.high)),
    low: Math.min(...g.map((x) => x.low)),
    close: g.at(-1)!.close,
    volume: g.reduce((a, x) => a + x.volume, 0),
  }));
}

describe('N-minute bars', () => {
  it('aligns to the open (09:30, 09:35, ...), emits each once at the slice of its last minute, equal to a grouping by hand', () => {
    const bars: Bar[] = [];
    for (let i = 0; i < 390; i++) for (const [s, base] of [['TQQQ', 100], ['SQQQ', 20]] as const) bars.push(bar(s, OPEN + i * MINUTE_MS, base + Math.sin(i / 5), 100 + i));
    const r = run(['TQQQ', 'SQQQ'], bars, 5, { from: OPEN, to: OPEN + 390 * MINUTE_MS });
    const tqqq = r.out.filter((b) => b.symbol === 'TQQQ');
    expect(tqqq).toHaveLength(78);
    expect(tqqq.map((b) => ({ start: b.start, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }))).toEqual(expected(bars, 'TQQQ', 5, OPEN, OPEN + 390 * MINUTE_MS));
    expect(tqqq[1]).toMatchObject({ start: OPEN + 5 * MINUTE_MS, end: OPEN + 10 * MINUTE_MS, minutes: 5, filledMinutes: 0, partial: false, revised: false });
    // Emitted when the slice of its last minute closes: at 09:35 for 09:30-09:35, not before.
    expect(r.emittedAt[0]).toBe(OPEN + 5 * MINUTE_MS);
    expect(new Set(r.out.map((b) => `${b.symbol} ${b.start}`)).size).toBe(r.out.length);
  });

  it('counts forward-filled minutes in the bar, and a revised minute re-emits its bar with `revised`', () => {
    const bars = [0, 1, 3, 4, 5].map((i) => bar('TQQQ', OPEN + i * MINUTE_MS, 100 + i));
    const r = run(['TQQQ'], bars, 5, { from: OPEN, to: OPEN + 10 * MINUTE_MS });
    expect(r.out[0]).toMatchObject({ start: OPEN, minutes: 4, filledMinutes: 1, missingMinutes: 0, close: 104 });
    // The second bucket: one real minute, four forward-filled.
    expect(r.out[1]).toMatchObject({ start: OPEN + 5 * MINUTE_MS, minutes: 1, filledMinutes: 4, close: 105, volume: 100 });
    r.dm.update(bar('TQQQ', OPEN + 4 * MINUTE_MS, 110, 500));
    const again = r.out.at(-1)!;
    expect(again).toMatchObject({ start: OPEN, revised: true, close: 110, high: 110.3, volume: 4 * 100 + 400 });
  });

  it('on the 13:00 early close the last bar is partial; N that does not divide the session gives a partial last bar', () => {
    const day = nyse.sessionOn('2025-11-28')!; // the day after Thanksgiving: 09:30-13:00
    const bars = Array.from({ length: 211 }, (_, i) => bar('SDS', day.open + i * MINUTE_MS, 20 + i / 100));
    const hour = run(['SDS'], bars, 60, { from: day.open, to: day.close + MINUTE_MS });
    expect(hour.out.map((b) => [(b.start - day.open) / MINUTE_MS, (b.end - b.start) / MINUTE_MS, b.partial, b.minutes])).toEqual([
      [0, 60, false, 60],
      [60, 60, false, 60],
      [120, 60, false, 60],
      [180, 30, true, 30], // 12:30-13:00
      [210, 1, true, 1], // the closing-auction minute, its own bar
    ]);
    // 210 = 26 x 8 + 2: the last 8-minute bar is 12:58-13:00.
    const eight = run(['SDS'], bars, 8, { from: day.open, to: day.close });
    expect(eight.out).toHaveLength(27);
    expect(eight.out.at(-1)).toMatchObject({ start: day.open + 208 * MINUTE_MS, end: day.close, partial: true, minutes: 2 });
    expect(eight.out.filter((b) => b.partial)).toHaveLength(1);
  });

  it('refuses N outside 2..390 with a ConfigError', () => {
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock: new ManualClock(0) });
    expect(() => new MinuteBarAggregator(dm, { minutes: 1 })).toThrowError(/minutes: must be a whole number from 2 to 390/);
    expect(() => new MinuteBarAggregator(dm, { minutes: 2.5 })).toThrowError(/minutes/);
  });
});
