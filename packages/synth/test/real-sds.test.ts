import type { Bar } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { correlation, generateLeveraged, sessionRanges } from '../src/index.js';
import { commonMinuteReturns, readBars, realDataDir } from './real-files.js';

const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data directory');

describe.skipIf(dir === undefined)('real data: SDS generated from the real SPY file', () => {
  it('has minute-return correlation >= 0.90 and mean absolute session return error < 10 bp against the real SDS', async () => {
    const spy = await readBars(dir as string, 'SPY');
    const real = await readBars(dir as string, 'SDS');
    const realByStart = new Map(real.map((b) => [b.start, b]));
    // The fund's own price at the first SPY bar's open anchors the level (returns do not depend on it).
    const anchor = realByStart.get((spy[0] as Bar).start)?.open ?? (real[0] as Bar).open;
    const syn = generateLeveraged(spy, { symbol: 'SDS', leverage: -2, initialPrice: anchor, expenseRatio: 0.0089 });
    const [rs, rr] = commonMinuteReturns(syn, real);
    const c = correlation(rs, rr);

    // Session open-to-close returns, over sessions both cover from the same first to the same last minute.
    const errors: number[] = [];
    for (const [from, to] of sessionRanges(syn)) {
      const first = syn[from] as Bar;
      const last = syn[to - 1] as Bar;
      const rFirst = realByStart.get(first.start);
      const rLast = realByStart.get(last.start);
      if (!rFirst || !rLast || to - from < 200) continue;
      errors.push(Math.abs(last.close / first.open - 1 - (rLast.close / rFirst.open - 1)));
    }
    const mae = errors.reduce((a, b) => a + b, 0) / errors.length;
    console.log(`SDS from SPY: minute-return correlation ${c.toFixed(4)} over ${rs.length} minutes (target >= 0.90); mean absolute session return error ${(mae * 1e4).toFixed(2)} bp over ${errors.length} sessions (target < 10 bp)`);
    expect(rs.length).toBeGreaterThan(40_000);
    expect(errors.length).toBeGreaterThan(100);
    expect(c).toBeGreaterThanOrEqual(0.9);
    expect(mae * 1e4).toBeLessThan(10);
  }, 60_000);
});
