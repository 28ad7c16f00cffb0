import type { Bar } from '@feed/core';
import { nyse, validateBar } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { correlation, simulateMarket } from './index.js';

const year = simulateMarket({ from: '2024-01-01', to: '2024-12-31', seed: 42 });
const spy = year.SPY as Bar[];
const qqq = year.QQQ as Bar[];
const byDate = (bars: Bar[]): Map<string, Bar[]> => {
  const m = new Map<string, Bar[]>();
  for (const b of bars) {
    const d = nyse.dateOf(b.start);
    const list = m.get(d);
    if (list) list.push(b);
    else m.set(d, [b]);
  }
  return m;
};

describe('simulateMarket', () => {
  const days = byDate(spy);
  it('covers exactly the NYSE sessions: 252 in 2024, none on holidays', () => {
    expect(days.size).toBe(252);
    expect(days.has('2024-07-04')).toBe(false);
    expect(days.has('2024-03-29')).toBe(false);
  });
  it('has 391 bars on a full day (09:30 ... 16:00) and 211 on a 13:00 early close', () => {
    expect(days.get('2024-10-16')).toHaveLength(391);
    expect(days.get('2024-11-29')).toHaveLength(211);
    expect(days.get('2024-12-24')).toHaveLength(211);
  });
  it('follows DST: the open is 14:30 UTC in winter, 13:30 UTC in summer', () => {
    expect(new Date(days.get('2024-03-08')![0]!.start).toISOString()).toBe('2024-03-08T14:30:00.000Z');
    expect(new Date(days.get('2024-03-11')![0]!.start).toISOString()).toBe('2024-03-11T13:30:00.000Z');
  });
  it('every bar passes validation; volumes are integers', () => {
    const bad = [...spy, ...qqq].filter((b) => validateBar(b) !== undefined || !Number.isInteger(b.volume));
    expect(bad).toEqual([]);
  });
  const rets = (bars: Bar[]): number[] => bars.slice(1).map((b, i) => (b.start - bars[i]!.start === 60_000 ? b.close / bars[i]!.close - 1 : Number.NaN));
  it('SPY and QQQ minute returns correlate at about 0.9', () => {
    const a = rets(spy);
    const b = rets(qqq);
    const keep = a.map((x, i) => !Number.isNaN(x) && !Number.isNaN(b[i]!));
    const c = correlation(a.filter((_, i) => keep[i]), b.filter((_, i) => keep[i]));
    expect(c).toBeGreaterThan(0.85);
    expect(c).toBeLessThan(0.95);
  });
  it('is more volatile and heavier in volume at the open and the close than at midday', () => {
    const absBy = new Map<number, number[]>();
    const volBy = new Map<number, number[]>();
    for (const day of days.values()) {
      if (day.length !== 391) continue;
      day.forEach((b, m) => {
        if (m > 0) (absBy.get(m) ?? absBy.set(m, []).get(m)!).push(Math.abs(b.close / day[m - 1]!.close - 1));
        (volBy.get(m) ?? volBy.set(m, []).get(m)!).push(b.volume);
      });
    }
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    const at = (map: Map<number, number[]>, from: number, to: number): number => mean(Array.from({ length: to - from }, (_, i) => mean(map.get(from + i)!)));
    expect(at(absBy, 1, 15)).toBeGreaterThan(1.8 * at(absBy, 180, 210));
    expect(at(absBy, 375, 390)).toBeGreaterThan(1.2 * at(absBy, 180, 210));
    expect(at(volBy, 0, 15)).toBeGreaterThan(2 * at(volBy, 180, 210));
    expect(at(volBy, 375, 390)).toBeGreaterThan(2 * at(volBy, 180, 210));
  });
  it('keeps plausible price levels and a daily volatility near 1 % (SPY)', () => {
    expect(spy[0]!.open).toBeGreaterThan(500);
    expect(spy.at(-1)!.close).toBeGreaterThan(250);
    expect(spy.at(-1)!.close).toBeLessThan(1200);
    const daily = [...days.values()].map((d) => Math.log(d.at(-1)!.close / d[0]!.open));
    const sd = Math.sqrt(daily.reduce((a, x) => a + x * x, 0) / daily.length);
    expect(sd).toBeGreaterThan(0.007);
    expect(sd).toBeLessThan(0.013);
  });
  it('is reproducible by seed, and errors clearly on an empty range', () => {
    const a = simulateMarket({ from: '2025-10-16', to: '2025-10-17', seed: 5 });
    expect(simulateMarket({ from: '2025-10-16', to: '2025-10-17', seed: 5 })).toEqual(a);
    expect(simulateMarket({ from: '2025-10-16', to: '2025-10-17', seed: 6 }).SPY).not.toEqual(a.SPY);
    expect(() => simulateMarket({ from: '2025-10-18', to: '2025-10-19', seed: 1 })).toThrowError(/no NYSE session between 2025-10-18 and 2025-10-19/);
  });
});
