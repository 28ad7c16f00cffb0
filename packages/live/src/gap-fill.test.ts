import { describe, expect, it } from 'vitest';
import type { Bar, FeedError, HistoricalBars, HistoryRequest } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues } from '@feed/core';
import type { GapFillReason, HeldBar } from './gap-fill.js';
import { GapFiller } from './gap-fill.js';
import { SymbolTable } from './symbol-table.js';

const T0 = Date.UTC(2025, 9, 16, 13, 30);
const bar = (symbol: string, minute: number): Bar => barFromValues(symbol, T0 + minute * MINUTE_MS, MINUTE_MS, 10, 11, 9, 10.5, 100, Number.NaN, -1, 0);

function setup(history: HistoricalBars, now = T0 + 10 * MINUTE_MS) {
  const clock = new ManualClock(now);
  const names = ['A', 'B'];
  const table = new SymbolTable((s) => {
    const i = names.indexOf(s);
    return i >= 0 ? i : names.push(s) - 1;
  });
  const delivered: string[] = [];
  const errors: FeedError[] = [];
  const events: { reason: GapFillReason; recovered: number }[] = [];
  const deliver = (b: Bar, how: string): boolean => {
    const i = table.index(b.symbol);
    if (b.start <= (table.lastStart[i] as number)) return false;
    table.lastStart[i] = b.start;
    delivered.push(`${how} ${b.symbol}${(b.start - T0) / MINUTE_MS}`);
    return true;
  };
  const gap = new GapFiller({
    clock,
    history: () => history,
    timeoutMs: 10_000,
    warmupBars: 0,
    table,
    symbols: () => ['A', 'B'],
    startedAt: () => T0,
    subscribedAt: () => undefined,
    deliverRecovered: (b) => deliver(b, 'rec'),
    deliverLive: (h: HeldBar) => void deliver(h.bar, 'live'),
    report: (e) => errors.push(e),
    emit: (e) => events.push({ reason: e.reason, recovered: e.recovered }),
  });
  return { clock, table, gap, delivered, errors, events };
}

describe('GapFiller (on a ManualClock)', () => {
  it('fills from the bar after each symbol\'s last one, in time order, then releases the held live bars; a bar both ways goes once', async () => {
    const asked: HistoryRequest[] = [];
    const history: HistoricalBars = {
      barsBySymbol: (r) => {
        asked.push(r);
        return Promise.resolve(new Map([['A', [bar('A', 3), bar('A', 4)]], ['B', [bar('B', 4), bar('B', 5)]]]));
      },
    };
    const { gap, table, delivered, events } = setup(history);
    table.lastStart[0] = T0 + 2 * MINUTE_MS;
    table.lastStart[1] = T0 + 3 * MINUTE_MS;
    gap.hold();
    gap.keep({ bar: bar('A', 4), revision: false });
    gap.keep({ bar: bar('A', 9), revision: false });
    await gap.run('reconnect');
    expect(asked[0]).toMatchObject({ symbols: ['A', 'B'], start: T0 + 3 * MINUTE_MS, end: T0 + 9 * MINUTE_MS });
    expect(delivered).toEqual(['rec A3', 'rec A4', 'rec B4', 'rec B5', 'live A9']);
    expect(events).toEqual([{ reason: 'reconnect', recovered: 4 }]);
    expect(gap.holding).toBe(false);
  });

  it('a history that never answers: the held bars go out at the deadline and the gap is reported as gap_unfilled (timedOut)', async () => {
    let signal: AbortSignal | undefined;
    const history: HistoricalBars = {
      barsBySymbol: (r) =>
        new Promise((_resolve, reject) => {
          signal = r.signal;
          r.signal?.addEventListener('abort', () => reject(r.signal?.reason as Error));
        }),
    };
    const { gap, clock, delivered, errors } = setup(history);
    gap.hold();
    gap.keep({ bar: bar('A', 9), revision: false });
    const run = gap.run('reconnect');
    await Promise.resolve();
    clock.advance(9_999);
    expect(delivered).toEqual([]);
    clock.advance(1);
    await run;
    expect(signal?.aborted).toBe(true);
    expect(delivered).toEqual(['live A9']);
    expect(errors.map((e) => [e.code, e.detail?.timedOut])).toEqual([['gap_unfilled', true]]);
    expect(gap.timeouts).toBe(1);
  });

  it('abort() ends a run at once and drops the held bars, counting them', async () => {
    const history: HistoricalBars = { barsBySymbol: (r) => new Promise((_res, rej) => r.signal?.addEventListener('abort', () => rej(r.signal?.reason as Error))) };
    const { gap, delivered, errors } = setup(history);
    gap.hold();
    gap.keep({ bar: bar('A', 9), revision: false });
    gap.keep({ bar: bar('B', 9), revision: false });
    const run = gap.run('restart');
    expect(await gap.abort()).toBe(2);
    await run;
    expect(delivered).toEqual([]);
    expect(errors).toEqual([]);
    expect(gap.running).toBe(false);
  });
});
