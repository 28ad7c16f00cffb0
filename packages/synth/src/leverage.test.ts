import type { Bar } from '@feed/core';
import { DEFAULT_SYMBOL_CONFIG, makeBar, validateBar } from '@feed/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateLeveraged, leveragedPrice, specFromConfig } from './index.js';

const MIN = 60_000;
const DAY = 24 * 3_600_000;
const T0 = Date.UTC(2025, 3, 1, 13, 30);

function spy(day: number, minute: number, o: number, h: number, l: number, c: number, v = 1000): Bar {
  const start = T0 + day * DAY + minute * MIN;
  return makeBar({ symbol: 'SPY', start, open: o, high: h, low: l, close: c, volume: v, receivedAt: start + MIN });
}

describe('leveragedPrice', () => {
  it('moves 3x the underlying from the previous close', () => {
    expect(leveragedPrice(100, 500, 505, 3)).toBeCloseTo(103, 10);
  });
  it('moves against the underlying for negative leverage', () => {
    expect(leveragedPrice(50, 400, 396, -2)).toBeCloseTo(51, 10);
  });
  it('is path-independent within the day (no compounding of minute returns)', () => {
    expect(leveragedPrice(100, 200, 200, 3)).toBe(100);
  });
});

describe('generateLeveraged', () => {
  const base = [
    spy(0, 0, 500, 501, 499, 500.5),
    spy(0, 1, 500.5, 502, 500, 501),
    // next session: reference is day 0's last close, 501
    spy(1, 0, 501, 506.01, 500, 506.01),
  ];

  it('maps open, high, low and close through the daily-reset model, per session', () => {
    const out = generateLeveraged(base, { symbol: 'UPRO', leverage: 3, initialPrice: 100 }, { firstReference: 500 });
    expect(out[0]).toMatchObject({ symbol: 'UPRO', open: 100, high: 100.6, low: 99.4, close: 100.3, volume: 1000 });
    expect(out[1]?.close).toBe(100.6);
    // Day 1: from UPRO's close 100.6 and SPY's close 501: +1 % -> +3 %.
    expect(out[2]?.close).toBeCloseTo(100.6 * 1.03, 4);
    expect(out[2]?.start).toBe(base[2]?.start);
  });

  it('swaps high and low for negative leverage', () => {
    const out = generateLeveraged(base, { symbol: 'SDS', leverage: -2, initialPrice: 50 }, { firstReference: 500 });
    // SPY high 501 maps to the low, SPY low 499 to the high.
    expect(out[0]).toMatchObject({ open: 50, high: 50.2, low: 49.8, close: 49.9 });
  });

  it('charges the expense ratio daily and scales volume by a factor, to integers', () => {
    const out = generateLeveraged(base, { symbol: 'X', leverage: 1, initialPrice: 100, expenseRatio: 0.252, volumeFactor: 0.37 }, { firstReference: 500, decimals: 8 });
    // 0.252 a year = 0.1 % a session, charged on day 1's reference
    expect(out[2]?.close).toBeCloseTo(((100 * 501) / 500) * 0.999 * (506.01 / 501), 6);
    expect(out[0]?.volume).toBe(370);
  });

  it('takes leverage and expense ratio from the symbol configuration', () => {
    expect(specFromConfig(DEFAULT_SYMBOL_CONFIG, 'SDS', 20)).toEqual({ symbol: 'SDS', leverage: -2, initialPrice: 20, expenseRatio: 0.0089 });
    expect(() => specFromConfig(DEFAULT_SYMBOL_CONFIG, 'SSO', 20)).toThrowError(/'SSO' is not in the symbol configuration/);
  });

  it('rejects a zero leverage or a non-positive initial price with a typed error', () => {
    expect(() => generateLeveraged(base, { symbol: 'X', leverage: 0, initialPrice: 1 })).toThrowError(/leverage of X/);
    expect(() => generateLeveraged(base, { symbol: 'X', leverage: 2, initialPrice: 0 })).toThrowError(/initialPrice of X/);
  });

  it('every generated bar passes validation, for any leverage and path (fast-check, saved seed)', () => {
    const barArb = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 100 }));
    fc.assert(
      fc.property(fc.array(barArb, { minLength: 1, maxLength: 60 }), fc.constantFrom(3, -3, 2, -2, 1.5, -1), (rows, L) => {
        let price = 400;
        const bars = rows.map(([drift, up, down, closeFrac], i) => {
          const open = Math.max(1, price + (drift - 2500) / 100);
          const high = open + up / 100;
          const low = Math.max(0.5, open - down / 100);
          const close = low + ((high - low) * closeFrac) / 100;
          price = close;
          return spy(Math.floor(i / 20), i % 20, open, high, low, close);
        });
        for (const b of generateLeveraged(bars, { symbol: 'Y', leverage: L, initialPrice: 30 })) expect(validateBar(b)).toBeUndefined();
      }),
      { seed: 77_001, numRuns: 300 },
    );
  });
});
