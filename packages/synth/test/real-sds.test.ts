import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { loadCsv } from '@feed/mock';
import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateLeveraged, sessionRanges } from '../src/index.js';

function realDataDir(): string | undefined {
  const env = process.env.FEED_REAL_DATA_DIR;
  if (env) return existsSync(env) ? env : undefined;
  const dir = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data/real');
  return existsSync(dir) ? dir : undefined;
}
const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data directory');

async function read(symbol: string): Promise<Bar[]> {
  const { bars } = await loadCsv(symbol, join(dir as string, `${symbol}.csv`), {
    onBadRow: 'fail',
    intervalMs: 60_000,
    from: Number.NEGATIVE_INFINITY,
    to: Number.POSITIVE_INFINITY,
    maxReportedErrors: 0,
    open: (p) => createReadStream(p),
  });
  const out: Bar[] = [];
  for (let i = 0; i < bars.length; i++) {
    const start = bars.start[i] as number;
    out.push({ symbol, start, end: start + 60_000, open: bars.open[i] as number, high: bars.high[i] as number, low: bars.low[i] as number, close: bars.close[i] as number, volume: bars.volume[i] as number, receivedAt: start + 60_000 });
  }
  return out;
}

function corr(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe.skipIf(dir === undefined)('real data: SDS generated from the real SPY file', () => {
  it('has minute-return correlation >= 0.90 and mean absolute session return error < 10 bp against the real SDS', async () => {
    const spy = await read('SPY');
    const real = await read('SDS');
    const realByStart = new Map(real.map((b) => [b.start, b]));
    // The fund's own price at the first SPY bar's open anchors the level (returns do not depend on it).
    const anchor = realByStart.get((spy[0] as Bar).start)?.open ?? (real[0] as Bar).open;
    const syn = generateLeveraged(spy, { symbol: 'SDS', leverage: -2, initialPrice: anchor, expenseRatio: 0.0089 });
    const synByStart = new Map(syn.map((b) => [b.start, b]));

    // Minute returns over the minutes both have, with the previous minute present in both.
    const rs: number[] = [];
    const rr: number[] = [];
    for (const b of syn) {
      const prevS = synByStart.get(b.start - 60_000);
      const r = realByStart.get(b.start);
      const prevR = realByStart.get(b.start - 60_000);
      if (prevS && r && prevR) {
        rs.push(b.close / prevS.close - 1);
        rr.push(r.close / prevR.close - 1);
      }
    }
    const c = corr(rs, rr);

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
