import { describe, expect, it } from 'vitest';
import type { Bar } from './bar.js';
import { MINUTE_MS, barFromValues } from './bar.js';
import { ConfigError } from './errors.js';
import type { CorporateAction } from './corporate-actions.js';
import { actionsDigest, adjustBars, makeCorporateAction } from './corporate-actions.js';

// 09:30 New York on three sessions around the actions: 2024-06-10, 06-11, 06-12 (EDT, UTC-4).
const day = (d: number): number => Date.UTC(2024, 5, d, 13, 30);
const bar = (d: number, m: number, close: number, volume = 1000): Bar => barFromValues('UVXY', day(d) + m * MINUTE_MS, MINUTE_MS, close, close + 1, close - 1, close, volume, close + 0.5, 7, 0);
const bars = [bar(10, 0, 5), bar(10, 389, 6), bar(11, 0, 60), bar(11, 1, 61), bar(12, 0, 30)];
const reverse = makeCorporateAction({ symbol: 'UVXY', kind: 'reverse_split', exDate: '2024-06-11', ratio: 0.1, source: 'test' });
const forward = makeCorporateAction({ symbol: 'UVXY', kind: 'forward_split', exDate: '2024-06-12', ratio: 2, source: 'test' });
const dividend = makeCorporateAction({ symbol: 'UVXY', kind: 'cash_dividend', exDate: '2024-06-12', amount: 0.61, source: 'test' });

/** The adjustment written out by hand, without the module's code: the factors of every action after the bar's date. */
function byHand(b: Bar, date: string, acts: CorporateAction[], asOf: string, withDividends: boolean, withSplits: boolean, priceBefore: number) {
  let p = 1;
  let v = 1;
  for (const a of acts) {
    if (!(a.exDate > date && a.exDate <= asOf)) continue;
    if (a.kind === 'cash_dividend' && withDividends) p *= (priceBefore - (a.amount as number)) / priceBefore;
    if (a.kind !== 'cash_dividend' && withSplits) {
      p /= a.ratio as number;
      v *= a.ratio as number;
    }
  }
  return { open: b.open * p, high: b.high * p, low: b.low * p, close: b.close * p, volume: b.volume * v, vwap: (b.vwap as number) * p };
}
const dates = ['2024-06-10', '2024-06-10', '2024-06-11', '2024-06-11', '2024-06-12'];
const fields = (b: Bar) => ({ open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, vwap: b.vwap });

describe('adjustment as of a date (adjustBars)', () => {
  it('a 1:10 reverse split: earlier bars times 10, their volume divided by 10; raw leaves them', () => {
    const r = adjustBars(bars, [reverse], { adjustment: 'split', asOf: '2024-06-12' });
    expect(r.bars.map(fields)).toEqual(bars.map((b, i) => byHand(b, dates[i] as string, [reverse], '2024-06-12', false, true, 0)));
    expect(r.bars[0]?.close).toBeCloseTo(50, 10);
    expect(r.bars[0]?.volume).toBeCloseTo(100, 10);
    expect(r.bars[2]).toBe(bars[2]); // on the new basis already: the same object
    expect(adjustBars(bars, [reverse], { adjustment: 'raw', asOf: '2024-06-12' }).bars).toEqual(bars);
  });

  it('a 2:1 forward split on top: both factors multiply; trade counts are kept', () => {
    const r = adjustBars(bars, [reverse, forward], { adjustment: 'split', asOf: '2024-06-12' });
    expect(r.bars.map(fields)).toEqual(bars.map((b, i) => byHand(b, dates[i] as string, [reverse, forward], '2024-06-12', false, true, 0)));
    expect(r.bars[0]?.close).toBeCloseTo(25, 10);
    expect(r.bars[3]?.close).toBeCloseTo(30.5, 10);
    expect(r.bars.every((b) => b.tradeCount === 7)).toBe(true);
  });

  it('as of a date before a split: the split is invisible (no look-ahead)', () => {
    const r = adjustBars(bars, [reverse, forward], { adjustment: 'split', asOf: '2024-06-11' });
    expect(r.bars.map(fields)).toEqual(bars.map((b, i) => byHand(b, dates[i] as string, [reverse, forward], '2024-06-11', false, true, 0)));
    expect(r.bars[3]).toBe(bars[3]);
    expect(adjustBars(bars, [reverse, forward], { adjustment: 'split', asOf: '2024-06-10' }).bars).toEqual(bars);
  });

  it("a dividend with 'dividend' and 'all': factor 1 - amount / the close before the ex-date; 'split' ignores it", () => {
    const before = 61; // the raw close of the last bar before 2024-06-12
    const d = adjustBars(bars, [dividend], { adjustment: 'dividend', asOf: '2024-06-12' });
    expect(d.bars.map(fields)).toEqual(bars.map((b, i) => byHand(b, dates[i] as string, [dividend], '2024-06-12', true, false, before)));
    expect(d.unpriced).toEqual([]);
    const all = adjustBars(bars, [reverse, dividend], { adjustment: 'all', asOf: '2024-06-12' });
    expect(all.bars.map(fields)).toEqual(bars.map((b, i) => byHand(b, dates[i] as string, [reverse, dividend], '2024-06-12', true, true, before)));
    expect(adjustBars(bars, [dividend], { adjustment: 'split', asOf: '2024-06-12' }).bars).toEqual(bars);
    // A given priceBefore wins over the bars (a window without the day before gives the same answer).
    const priced = makeCorporateAction({ ...dividend, priceBefore: 61 });
    expect(adjustBars(bars.slice(0, 2), [priced], { adjustment: 'dividend', asOf: '2024-06-12' }).bars.map(fields)).toEqual(bars.slice(0, 2).map((b, i) => byHand(b, dates[i] as string, [dividend], '2024-06-12', true, false, before)));
  });

  it('a dividend with no price before it is left out and listed, never guessed', () => {
    const r = adjustBars([bar(12, 0, 30)], [dividend], { adjustment: 'dividend', asOf: '2024-06-12' });
    expect(r.unpriced).toEqual([dividend]);
  });

  it('checks what it is given: a ConfigError names the field', () => {
    expect(() => makeCorporateAction({ symbol: 'X', kind: 'reverse_split', exDate: '2024-06-11', ratio: 10, source: 't' })).toThrow(ConfigError);
    expect(() => makeCorporateAction({ symbol: 'X', kind: 'cash_dividend', exDate: '2024-6-11', amount: 1, source: 't' })).toThrow(/exDate/);
    expect(() => makeCorporateAction({ symbol: 'X', kind: 'cash_dividend', exDate: '2024-06-11', amount: -1, source: 't' })).toThrow(/amount/);
  });

  it('the digest changes with any action and not with their order', () => {
    expect(actionsDigest([reverse, forward])).toBe(actionsDigest([forward, reverse]));
    expect(actionsDigest([reverse])).not.toBe(actionsDigest([reverse, forward]));
    expect(actionsDigest([])).toMatch(/^[0-9a-f]{8}$/);
  });
});
