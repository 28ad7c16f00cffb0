import type { Bar, HistoricalBars, HistoryRequest, TradingStatus } from '@feed/core';
import { MINUTE_MS, ManualBarFeed, ManualClock, makeBar, makeTradingStatus } from '@feed/core';
import { describe, expect, it } from 'vitest';
import type { MinutesBar, SessionCoverage } from './index.js';
import { EndOfDayReconciler, MinuteBarAggregator, MultiSymbolDataManager } from './index.js';

const MIN = MINUTE_MS;
const OPEN = Date.UTC(2025, 9, 16, 13, 30); // Thursday 2025-10-16 09:30 New York
const bar = (symbol: string, start: number, close = 100, volume = 100): Bar =>
  makeBar({ symbol, start, open: close, high: close + 0.5, low: close - 0.5, close, volume, receivedAt: start + MIN });
const status = (symbol: string, at: number, effect: TradingStatus['effect'], code: string): TradingStatus =>
  makeTradingStatus({ symbol, at, kind: 'status', effect, code, message: effect === 'halt' ? 'Trading Halt' : 'Trading Resumption', reasonCode: effect === 'halt' ? 'LUDP' : '', tape: 'C', receivedAt: at });

/** Two symbols minute by minute; B has no bar from 10:00 to 10:09 (a halt from 10:00:30 to 10:05:30, then nothing). */
function haltSession() {
  const clock = new ManualClock(OPEN);
  const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock });
  const slices: { asOf: number; halted: readonly string[]; missing: readonly string[]; bTradable: boolean; bFilled: boolean }[] = [];
  dm.on('slice', ({ slice }) => slices.push({ asOf: slice.asOf, halted: slice.halted, missing: slice.missing, bTradable: slice.isTradable('B'), bFilled: slice.entry('B')?.forwardFilled !== null }));
  const halts: { symbol: string; halted: boolean; at: number }[] = [];
  dm.on('halt', (e) => halts.push({ symbol: e.symbol, halted: e.halted, at: e.status.at }));
  const five = new MinuteBarAggregator(dm, { minutes: 5 });
  const fives: MinutesBar[] = [];
  five.on('bar', ({ bar: b }) => fives.push(b));
  const haltAt = OPEN + 30 * MIN + 30_000;
  const resumeAt = OPEN + 35 * MIN + 30_000;
  for (let m = 0; m < 60; m++) {
    const t = OPEN + m * MIN;
    // The statuses arrive when they happen, inside their minute, before its bars (which come at its end), as live.
    for (const [at, effect, code] of [[haltAt, 'halt', 'H'], [resumeAt, 'resume', 'T']] as const) {
      if (at >= t && at < t + MIN) {
        clock.set(at);
        dm.updateStatus(status('B', at, effect, code));
      }
    }
    clock.set(t + MIN);
    dm.update(bar('A', t));
    if (m < 30 || m >= 40) dm.update(bar('B', t, 50));
  }
  clock.advance(10_000);
  return { dm, slices, halts, fives, haltAt, resumeAt };
}

describe('trading status: a session with a halt', () => {
  it('a minute every symbol delivered while one is halted counts a halted slice for it (no shortcut for complete slices)', () => {
    const clock = new ManualClock(OPEN);
    const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock });
    dm.updateStatus(status('B', OPEN - MIN, 'halt', 'H'));
    clock.set(OPEN + MIN);
    dm.update(bar('A', OPEN));
    dm.update(bar('B', OPEN));
    expect(dm.stats().bySymbol.B).toMatchObject({ slices: 1, haltedSlices: 1, invalidSlices: 0 });
    expect(dm.stats().bySymbol.A).toMatchObject({ slices: 1, haltedSlices: 0 });
  });

  it('marks the symbol halted in every slice while the halt is in force, never tradable, and not missing', () => {
    const { slices, haltAt, resumeAt } = haltSession();
    const during = slices.filter((s) => s.asOf > haltAt && s.asOf <= resumeAt);
    expect(during.map((s) => s.asOf)).toEqual([31, 32, 33, 34, 35].map((m) => OPEN + m * MIN));
    for (const s of during) {
      expect(s.halted).toEqual(['B']);
      expect(s.missing).toEqual([]);
      expect(s.bTradable).toBe(false);
    }
    // Forward fill still carries B's price during the halt (the entry has a filled bar), yet it is not tradable.
    expect(during[0]?.bFilled).toBe(true);
    // After the resumption B is no longer halted; it has no bar for 10:05-10:09, so it is forward-filled, then invalid and missing.
    const after = slices.filter((s) => s.asOf > resumeAt && s.asOf <= OPEN + 40 * MIN);
    expect(after.every((s) => s.halted.length === 0)).toBe(true);
    expect(after.at(-1)?.missing).toEqual(['B']);
    expect(slices.filter((s) => s.asOf <= haltAt).every((s) => s.halted.length === 0 && s.bTradable)).toBe(true);
  });

  it('emits halt events at the changes, and counts halted slices instead of filled or invalid ones', () => {
    const { dm, halts, haltAt, resumeAt } = haltSession();
    expect(halts).toEqual([
      { symbol: 'B', halted: true, at: haltAt },
      { symbol: 'B', halted: false, at: resumeAt },
    ]);
    const q = dm.stats().bySymbol.B;
    expect(q?.haltedSlices).toBe(5);
    // 10 minutes without a bar: 5 halted (neither filled nor invalid); the halt's minutes were open
    // market, so at 10:06, the first slice after the resumption, B's last bar is 6 intervals old:
    // invalid until its first bar after the halt (10:06-10:10: 5 slices).
    expect(q?.forwardFilledIntervals).toBe(0);
    expect(q?.invalidSlices).toBe(5);
    expect(dm.isHalted('B', haltAt)).toBe(true);
    expect(dm.isHalted('B', resumeAt)).toBe(false);
    expect(dm.tradingStatus('B')?.code).toBe('T');
  });

  it('a 5-minute bar over the halt counts its minutes as halted, not filled or missing', () => {
    const { fives } = haltSession();
    const b = fives.find((x) => x.symbol === 'B' && x.start === OPEN + 30 * MIN);
    // Priced at the last close before the halt (a flat bar, volume 0), as a forward-filled bucket is.
    expect(b).toMatchObject({ minutes: 0, haltedMinutes: 5, filledMinutes: 0, missingMinutes: 0, open: 50, close: 50, volume: 0 });
    const next = fives.find((x) => x.symbol === 'B' && x.start === OPEN + 35 * MIN);
    // The next five minutes are neither halted nor filled (B is stale): no bar, as for any symbol without data.
    expect(next).toBeUndefined();
  });

  it('files statuses by their own time, whatever order they arrive in; an untracked symbol is counted', () => {
    const clock = new ManualClock(OPEN + 60 * MIN);
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock });
    dm.updateStatus(status('A', OPEN + 20 * MIN, 'resume', 'T'));
    dm.updateStatus(status('A', OPEN + 10 * MIN, 'halt', 'H'));
    dm.updateStatus(makeTradingStatus({ symbol: 'A', at: OPEN + 15 * MIN, kind: 'luld', effect: 'none', code: 'B', limitUp: 110, limitDown: 90, receivedAt: 0 }));
    dm.updateStatus(status('ZZZ', OPEN, 'halt', 'H'));
    expect(dm.isHalted('A', OPEN + 5 * MIN)).toBe(false);
    expect(dm.isHalted('A', OPEN + 15 * MIN)).toBe(true);
    expect(dm.isHalted('A', OPEN + 25 * MIN)).toBe(false);
    expect(dm.getLatestSnapshot(OPEN + 12 * MIN).halted).toEqual(['A']);
    expect(dm.tradingStatus('A')?.code).toBe('T');
    expect(dm.stats().unknownStatuses).toBe(1);
  });

  it('attach() takes statuses from a feed', () => {
    const clock = new ManualClock(OPEN);
    const feed = new ManualBarFeed(['A'], clock);
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock });
    dm.attach(feed);
    (feed as unknown as { emitter: { emit(e: unknown): void } }).emitter.emit({ type: 'tradingStatus', status: status('A', OPEN, 'halt', 'H') });
    expect(dm.isHalted('A', OPEN + MIN)).toBe(true);
  });
});

describe('warm-up', () => {
  /** Twenty sessions of minutes for A and B, B skipping every third minute. */
  function history(sessions: number, before: number): Bar[] {
    const out: Bar[] = [];
    let day = new Date(before);
    let found = 0;
    while (found < sessions) {
      day = new Date(day.getTime() - 86_400_000);
      const dow = day.getUTCDay();
      if (dow === 0 || dow === 6) continue;
      const open = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 13, 30);
      // Weekdays only: no NYSE holiday falls in the twenty before 2025-10-16.
      found++;
      for (let m = 0; m < 390; m++) {
        out.push(bar('A', open + m * MIN, 100 + m / 100));
        if (m % 3 !== 0) out.push(bar('B', open + m * MIN, 50 + m / 100));
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  it('loads weeks of bars into history without a slice and without the age limit, then live bars continue', () => {
    const clock = new ManualClock(OPEN);
    const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock, historySize: 8000 });
    let slices = 0;
    dm.on('slice', () => slices++);
    const bars = history(20, OPEN);
    const r = dm.warmUp(bars);
    expect(r).toEqual({ accepted: bars.length, duplicates: 0, revisions: 0, rejected: 0 });
    expect(slices).toBe(0);
    expect(dm.history('A')).toHaveLength(7800);
    expect(dm.stats().bySymbol.A).toMatchObject({ warmUpBars: 7800, accepted: 0, updates: 0, rejected: 0 });
    // The same bars through update() are older than maxBarAgeMs (7 days): what warm-up is for.
    const plain = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock, historySize: 8000 });
    expect(plain.updateAll(bars).rejected).toBeGreaterThan(0);
    clock.set(OPEN + MIN);
    expect(dm.update(bar('A', OPEN)).status).toBe('accepted');
    expect(dm.update(bar('B', OPEN)).status).toBe('accepted');
    expect(slices).toBe(1);
    // A bar at or before a symbol's latest is a duplicate (still in history) or out of order, as for update().
    expect(dm.warmUp([bars[0] as Bar]).duplicates).toBe(1);
    const small = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock, historySize: 100 });
    small.warmUp(bars);
    expect(small.warmUp([bars[0] as Bar]).rejected).toBe(1);
    expect(small.stats().bySymbol.A?.rejectedByReason).toEqual({ out_of_order: 1 });
    // A warm-up's duplicates and rejections are counted as such, never as updates.
    expect(dm.stats().bySymbol.A).toMatchObject({ updates: 1, accepted: 1, duplicates: 1 });
    expect(small.stats().bySymbol.A).toMatchObject({ updates: 0, rejected: 1 });
    small.update({ ...bar('A', OPEN), close: -1 });
    expect(small.stats().bySymbol.A).toMatchObject({ updates: 1, rejected: 2 });
  });

  it('N-minute bars: the buckets complete at the seam come at once (warmUp: true); the one the seam cuts completes live', () => {
    const seam = OPEN + 12 * MIN; // warm-up up to the 09:42 minute: 09:40-09:45 is cut
    const clock = new ManualClock(seam + MIN + 30_000); // inside the 09:43 minute
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock, historySize: 2000 });
    const agg = new MinuteBarAggregator(dm, { minutes: 5 });
    const out: MinutesBar[] = [];
    agg.on('bar', ({ bar: b }) => out.push(b));
    const prior = Array.from({ length: 13 }, (_, m) => bar('A', OPEN + m * MIN, 100 + m));
    dm.warmUp(prior);
    expect(out.map((b) => [b.start, b.minutes, b.warmUp])).toEqual([
      [OPEN, 5, true],
      [OPEN + 5 * MIN, 5, true],
    ]);
    for (const m of [13, 14]) {
      clock.set(OPEN + (m + 1) * MIN);
      dm.update(bar('A', OPEN + m * MIN, 100 + m));
    }
    clock.advance(10_000);
    expect(out.at(-1)).toMatchObject({ start: OPEN + 10 * MIN, minutes: 5, warmUp: false, open: 110, close: 114 });
  });
});

describe('coverage', () => {
  it('counts every regular-hours minute once: with a bar, recovered, forward-filled, never seen; a 13:00 close has 210 minutes', () => {
    const open = Date.UTC(2025, 10, 28, 14, 30); // Friday 2025-11-28, 09:30 New York, closes 13:00
    const clock = new ManualClock(open);
    const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock });
    const feed = new ManualBarFeed(['A', 'B'], clock);
    dm.attach(feed);
    const recoveredMinutes = new Set([20, 21, 22]);
    // A: every minute; B: minutes 0-49, then a 20-minute hole, then from 70 on.
    const expectB = { withBar: 0, forwardFilled: 0, neverSeen: 0 };
    for (let m = 0; m < 210; m++) {
      const t = open + m * MIN;
      clock.set(t + MIN);
      const emit = (b: Bar, recovered: boolean) => (feed as unknown as { emitter: { emit(e: unknown): void } }).emitter.emit(recovered ? { type: 'bar', bar: b, recovered: true } : { type: 'bar', bar: b });
      emit(bar('A', t), recoveredMinutes.has(m));
      if (m < 50 || m >= 70) {
        emit(bar('B', t), false);
        expectB.withBar++;
      } else if (m - 49 <= 5) expectB.forwardFilled++;
      else expectB.neverSeen++;
    }
    clock.advance(10_000);
    const cov = dm.coverage();
    const a = cov.A?.[0] as SessionCoverage;
    const b = cov.B?.[0] as SessionCoverage;
    expect(a).toEqual({ date: '2025-11-28', minutes: 210, withBar: 210, recovered: 3, forwardFilled: 0, halted: 0, neverSeen: 0, missedByStream: null });
    expect(b).toMatchObject({ date: '2025-11-28', minutes: 210, ...expectB, halted: 0, recovered: 0 });
    expect(b.withBar + b.forwardFilled + b.neverSeen).toBe(210);
    expect(dm.stats().bySymbol.A?.recoveredBars).toBe(3);
  });

  it('counts halted minutes as halted', () => {
    const { dm } = haltSession();
    const b = dm.coverage().B?.[0] as SessionCoverage;
    // Bars in minutes 0-29 and 40-59; halted 30-34; 35-39 never seen (6+ intervals old after the
    // resumption); 60-64 forward-filled after the last bar, the rest of the day never seen.
    expect(b).toEqual({ date: '2025-10-16', minutes: 390, withBar: 50, recovered: 0, halted: 5, forwardFilled: 5, neverSeen: 5 + 325, missedByStream: null });
  });

  it('end-of-day reconciliation reports each minute REST has that the stream missed', async () => {
    const clock = new ManualClock(OPEN);
    const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock });
    const rest: Bar[] = [];
    for (let m = 0; m < 390; m++) {
      const t = OPEN + m * MIN;
      rest.push(bar('A', t), bar('B', t));
      clock.set(t + MIN);
      if (m !== 100 && m !== 200) dm.update(bar('A', t));
      dm.update(bar('B', t));
    }
    clock.set(OPEN + 391 * MIN);
    const asked: HistoryRequest[] = [];
    const history: HistoricalBars = {
      barsBySymbol: (req) => {
        asked.push(req);
        const out = new Map<string, Bar[]>();
        for (const s of req.symbols) out.set(s, rest.filter((b) => b.symbol === s));
        return Promise.resolve(out);
      },
    };
    const report = await dm.reconcile(history);
    expect(asked[0]).toMatchObject({ symbols: ['A', 'B'], start: OPEN, end: OPEN + 389 * MIN });
    expect(report).toEqual({ date: '2025-10-16', missed: { A: [OPEN + 100 * MIN, OPEN + 200 * MIN] }, restBars: 780, missedTotal: 2 });
    expect(dm.coverage().A?.[0]?.missedByStream).toBe(2);
    expect(dm.coverage().B?.[0]?.missedByStream).toBe(0);
  });

  it('EndOfDayReconciler: five minutes after the close (on the clock), each session reconciled; a failure is an error event', async () => {
    const clock = new ManualClock(OPEN);
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock });
    let calls = 0;
    const history: HistoricalBars = {
      barsBySymbol: (req) => {
        calls++;
        if (calls === 2) return Promise.reject(new Error('HTTP 503'));
        const start = req.start as number;
        return Promise.resolve(new Map([['A', Array.from({ length: 390 }, (_, m) => bar('A', start + m * MIN))]]));
      },
    };
    const eod = new EndOfDayReconciler(dm, { history });
    const errors: string[] = [];
    eod.on('error', (e) => errors.push(e.error.message));
    for (const day of [0, 1]) {
      const open = OPEN + day * 86_400_000;
      for (let m = 0; m < 390; m++) {
        clock.set(open + (m + 1) * MIN);
        if (m !== 7) dm.update(bar('A', open + m * MIN));
      }
      clock.set(open + 394 * MIN);
      expect(calls).toBe(day);
      clock.set(open + 395 * MIN + 5_000);
      await eod.settled();
      expect(calls).toBe(day + 1);
    }
    expect(eod.reports()).toEqual([{ date: '2025-10-16', missed: { A: [OPEN + 7 * MIN] }, restBars: 390, missedTotal: 1 }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/HTTP 503/);
    eod.dispose();
  });
});
