import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, makeCorporateAction } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { MultiSymbolDataManager } from './index.js';

const MIN = MINUTE_MS;
const DAY1 = Date.UTC(2025, 3, 1, 13, 30); // 2025-04-01 09:30 New York
const DAY2 = Date.UTC(2025, 3, 2, 13, 30);
const bar = (start: number, p: number, volume = 1000): Bar => makeBar({ symbol: 'UVXY', start, open: p, high: p + 0.02, low: p - 0.02, close: p + 0.01, volume, receivedAt: start + MIN });
const split = makeCorporateAction({ symbol: 'UVXY', kind: 'reverse_split', exDate: '2025-04-02', ratio: 0.1, source: 'test' });

function dayOne(maxPriceJump?: number) {
  const clock = new ManualClock(DAY1);
  const dm = new MultiSymbolDataManager({ symbols: ['UVXY'], clock, ...(maxPriceJump === undefined ? {} : { maxPriceJump }) });
  for (let m = 0; m < 3; m++) {
    clock.set(DAY1 + (m + 1) * MIN);
    dm.update(bar(DAY1 + m * MIN, 5 + m * 0.01));
  }
  return { dm, clock };
}

describe('corporate actions in the data manager', () => {
  it('applied before the first bar of its ex-date: history rebased, the first bar on the new basis accepted, counted, an event', () => {
    const { dm, clock } = dayOne(0.5);
    const raw = dm.history('UVXY');
    const events: unknown[] = [];
    dm.on('corporateAction', (e) => events.push({ rebased: e.rebased, late: e.late, priceFactor: e.priceFactor }));
    expect(dm.applyCorporateAction(split)).toEqual({ rebased: 3, priceFactor: 10, volumeFactor: 0.1, unpriced: false });
    clock.set(DAY2 + MIN);
    expect(dm.update(bar(DAY2, 50.2)).status).toBe('accepted');
    expect(dm.history('UVXY').map((b) => b.close)).toEqual([...raw.map((b) => b.close * 10), 50.2 + 0.01]);
    expect(dm.history('UVXY')[0]?.volume).toBeCloseTo(100, 9);
    expect(events).toEqual([{ rebased: 3, late: false, priceFactor: 10 }]);
    expect(dm.stats().bySymbol.UVXY).toMatchObject({ corporateActions: 1, rejected: 0 });
    // Applied once: a repeat is ignored.
    expect(dm.applyCorporateAction(split)).toBeUndefined();
  });

  it('a split found late, after bars of its ex-date arrived: the jump was rejected and counted, the late action is reported as late and the next bar passes', () => {
    const { dm, clock } = dayOne(0.5);
    clock.set(DAY2 + MIN);
    expect(dm.update(bar(DAY2, 50.2))).toEqual({ status: 'rejected', reason: 'price_jump' });
    const late: boolean[] = [];
    dm.on('corporateAction', (e) => late.push(e.late));
    dm.applyCorporateAction(split, { late: true });
    clock.set(DAY2 + 2 * MIN);
    expect(dm.update(bar(DAY2 + MIN, 50.3)).status).toBe('accepted');
    expect(late).toEqual([true]);
    expect(dm.stats().bySymbol.UVXY).toMatchObject({ rejectedByReason: { price_jump: 1 }, corporateActions: 1 });
  });

  it('without a jump rule, bars of the ex-date stored before the action: only the bars before the ex-date are rebased, late is seen from the history', () => {
    const { dm, clock } = dayOne();
    const raw = dm.history('UVXY');
    clock.set(DAY2 + MIN);
    dm.update(bar(DAY2, 50.2));
    const late: boolean[] = [];
    dm.on('corporateAction', (e) => late.push(e.late));
    expect(dm.applyCorporateAction(split)?.rebased).toBe(3);
    expect(dm.history('UVXY').map((b) => b.close)).toEqual([...raw.map((b) => b.close * 10), 50.2 + 0.01]);
    expect(late).toEqual([true]);
    expect(dm.getLatestSnapshot().price('UVXY')).toBe(50.2 + 0.01);
  });

  it('a dividend: factor from the close before the ex-date; with no bar before it, nothing is rebased and it is said unpriced', () => {
    const { dm } = dayOne();
    const before = dm.history('UVXY')[2]?.close as number;
    const dividend = makeCorporateAction({ symbol: 'UVXY', kind: 'cash_dividend', exDate: '2025-04-02', amount: 0.5, source: 'test' });
    const r = dm.applyCorporateAction(dividend);
    expect(r?.priceFactor).toBe(1 - 0.5 / before);
    expect(dm.history('UVXY')[2]?.close).toBe(before * (1 - 0.5 / before));
    const empty = new MultiSymbolDataManager({ symbols: ['UVXY'], clock: new ManualClock(DAY2) });
    expect(empty.applyCorporateAction(dividend)).toEqual({ rebased: 0, priceFactor: 1, volumeFactor: 1, unpriced: true });
  });
});
