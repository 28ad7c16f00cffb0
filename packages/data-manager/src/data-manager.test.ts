import type { Bar, Unsubscribe } from '@feed/core';
import { ConfigError, DEFAULT_SYMBOL_CONFIG, FeedError, ManualBarFeed, ManualClock, ReplayClock, checkBar } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN, bar, harness, ny, replay } from '../test/scenario.js';
import type { DataManagerOptions } from './index.js';
import { ALWAYS_OPEN, MultiSymbolDataManager } from './index.js';

const SYMS = ['TQQQ', 'SQQQ'];

describe('construction', () => {
  it('takes a list of symbols, or the symbol configuration from @feed/core', () => {
    const clock = new ManualClock(OPEN);
    expect(new MultiSymbolDataManager({ symbols: SYMS, clock }).symbols).toEqual(SYMS);
    expect(new MultiSymbolDataManager({ symbols: DEFAULT_SYMBOL_CONFIG, clock }).symbols).toEqual(['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']);
  });
  it('documents its defaults', () => {
    const dm = new MultiSymbolDataManager({ symbols: SYMS, clock: new ManualClock() });
    expect(dm.options).toMatchObject({
      maxForwardFills: 5,
      maxStalenessMs: 300_000,
      stalenessTauMs: 60_000,
      historySize: 500,
      sliceGraceMs: 5_000,
      intervalMs: 60_000,
      ohlcTolerance: 0,
      usableMaxAgeMs: 120_000,
    });
  });
  it('rejects bad options with a ConfigError naming each', () => {
    let caught: unknown;
    try {
      new MultiSymbolDataManager({ symbols: ['A', 'A'], clock: new ManualClock(), historySize: 0, maxForwardFills: -1 });
    } catch (e) {
      caught = e;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    const paths = (caught as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(['symbols', 'maxForwardFills', 'historySize']);
    expect(() => new MultiSymbolDataManager({ symbols: SYMS, clock: {} as never })).toThrowError(/clock: must be a Clock/);
  });
});

describe('update(): semantics.md "Updates and validation"', () => {
  it("gives checkBar's verdict and reason on 6 000 bars with random faults (its own value check is a shortcut to it)", () => {
    let seed = 11;
    const rnd = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const faults: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '100', 0, -1, 1e7, 0.004, 100.6, 99.4, 100.4999, OPEN + 1, undefined, 1.5, -0];
    const fields = ['open', 'high', 'low', 'close', 'volume', 'start', 'end', 'vwap', 'tradeCount'] as const;
    const ruleSets = [{}, { minPrice: 1, maxPrice: 1000, ohlcTolerance: 0.001, maxBarAgeMs: 5 * MIN }];
    const verdicts = { accepted: 0, rejected: 0 };
    for (let n = 0; n < 6_000; n++) {
      const b: Record<string, unknown> = { ...bar('TQQQ', OPEN), end: OPEN + MIN };
      const k = Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) b[fields[Math.floor(rnd() * fields.length)] as string] = faults[Math.floor(rnd() * faults.length)];
      const options = ruleSets[n % 2] as Partial<DataManagerOptions>;
      const now = OPEN + Math.floor(rnd() * 3 - 1) * MIN * (n % 7);
      const dm = new MultiSymbolDataManager({ symbols: ['TQQQ'], clock: new ManualClock(now), ...options });
      const o = dm.options;
      const expected = checkBar(b as unknown as Bar, { intervalMs: o.intervalMs, minPrice: o.minPrice, maxPrice: o.maxPrice, ohlcTolerance: o.ohlcTolerance, maxBarAgeMs: o.maxBarAgeMs }, { now });
      const got = dm.update(b as unknown as Bar);
      verdicts[got.status === 'accepted' ? 'accepted' : 'rejected']++;
      if (expected === undefined && got.status === 'accepted') continue;
      expect({ bar: b, now, got }).toEqual({ bar: b, now, got: { status: 'rejected', reason: expected?.reason } });
    }
    // Both verdicts were drawn many times.
    expect(verdicts.accepted).toBeGreaterThan(600);
    expect(verdicts.rejected).toBeGreaterThan(600);
  });
  it('accepts a valid bar', () => {
    const { dm } = harness(SYMS);
    expect(dm.update(bar('TQQQ', OPEN))).toEqual({ status: 'accepted' });
  });
  it('rejects an unknown symbol, counted in the total', () => {
    const { dm } = harness(SYMS);
    expect(dm.update(bar('AAPL', OPEN))).toEqual({ status: 'rejected', reason: 'unknown_symbol' });
    expect(dm.stats().total.rejectedByReason).toEqual({ unknown_symbol: 1 });
    expect(dm.stats().unknownSymbols).toEqual({ AAPL: 1 });
  });
  it.each([
    ['non_finite', { close: Number.NaN }],
    ['non_positive_price', { low: 0 }],
    ['negative_volume', { volume: -1 }],
    ['inconsistent_ohlc', { high: 99 }],
    ['off_grid', { start: OPEN + 1 }],
  ] as const)('rejects %s and counts it by reason', (reason, override) => {
    const { dm } = harness(SYMS);
    const b = { ...bar('TQQQ', OPEN), ...override, end: (override as { start?: number }).start === undefined ? OPEN + MIN : OPEN + 1 + MIN };
    expect(dm.update(b)).toEqual({ status: 'rejected', reason });
    expect(dm.stats().bySymbol.TQQQ?.rejectedByReason).toEqual({ [reason]: 1 });
  });
  it('rejects prices outside the configured bounds', () => {
    const { dm } = harness(SYMS, OPEN, { maxPrice: 50 });
    expect(dm.update(bar('TQQQ', OPEN, 100))).toEqual({ status: 'rejected', reason: 'price_out_of_bounds' });
  });
  it('rejects a start more than one interval in the future, on the clock', () => {
    const { dm } = harness(SYMS);
    expect(dm.update(bar('TQQQ', OPEN + MIN))).toEqual({ status: 'accepted' });
    expect(dm.update(bar('SQQQ', OPEN + 2 * MIN))).toEqual({ status: 'rejected', reason: 'future' });
  });
  it('rejects a bar older than the configured maximum age, on the clock', () => {
    const { dm } = harness(SYMS, OPEN + 10 * MIN, { maxBarAgeMs: 5 * MIN });
    expect(dm.update(bar('TQQQ', OPEN))).toEqual({ status: 'rejected', reason: 'too_old' });
  });
  it('rejects a start older than the latest bar (out of order) when that bar is not in history', () => {
    const { dm, clock } = harness(SYMS, OPEN);
    clock.set(OPEN + 3 * MIN);
    dm.update(bar('TQQQ', OPEN + 2 * MIN));
    expect(dm.update(bar('TQQQ', OPEN + MIN))).toEqual({ status: 'rejected', reason: 'out_of_order' });
  });
  it('drops a duplicate (same start, same values) without error, and counts it', () => {
    const { dm } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    expect(dm.update(bar('TQQQ', OPEN, 100, { receivedAt: OPEN + MIN + 5 }))).toEqual({ status: 'duplicate' });
    expect(dm.history('TQQQ')).toHaveLength(1);
    expect(dm.stats().bySymbol.TQQQ).toMatchObject({ accepted: 1, duplicates: 1, rejected: 0 });
  });
  it('applies a revision (same start, new values) in place, and counts it', () => {
    const { dm } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN, 100));
    expect(dm.update(bar('TQQQ', OPEN, 100.25))).toEqual({ status: 'revision' });
    expect(dm.history('TQQQ').map((b) => b.close)).toEqual([100.25]);
    expect(dm.latestBar('TQQQ')?.close).toBe(100.25);
    expect(dm.stats().bySymbol.TQQQ?.revisions).toBe(1);
  });
  it('applies a revision of an older bar still in history in place', () => {
    const { dm, clock } = harness(SYMS);
    replay({ dm, clock, slices: [] }, [[bar('TQQQ', OPEN, 1)], [bar('TQQQ', OPEN + MIN, 2)], [bar('TQQQ', OPEN + 2 * MIN, 3)]]);
    expect(dm.update(bar('TQQQ', OPEN + MIN, 2.5))).toEqual({ status: 'revision' });
    expect(dm.history('TQQQ').map((b) => b.close)).toEqual([1, 2.5, 3]);
  });
  it('never throws on junk input', () => {
    const { dm } = harness(SYMS);
    for (const junk of [null, undefined, 42, 'bar', {}, { symbol: 'TQQQ' }, { symbol: 'TQQQ', start: 'x', open: {} }, []]) {
      expect(() => dm.update(junk as never)).not.toThrow();
    }
    const t = dm.stats().total;
    expect(t.updates).toBe(8);
    expect(t.rejected).toBe(8);
  });
  it('a symbol that only ever sends bad bars: every bar rejected and counted, the symbol stays missing', () => {
    const h = harness(SYMS);
    const groups: Bar[][] = [];
    for (let m = 0; m < 10; m++) groups.push([bar('TQQQ', OPEN + m * MIN), { ...bar('SQQQ', OPEN + m * MIN), low: 200 }]);
    replay(h, groups);
    h.clock.advance(10 * MIN);
    expect(h.dm.stats().bySymbol.SQQQ).toMatchObject({ updates: 10, accepted: 0, rejected: 10, rejectedByReason: { inconsistent_ohlc: 10 } });
    expect(h.dm.history('SQQQ')).toEqual([]);
    expect(h.slices).toHaveLength(10);
    for (const s of h.slices) {
      expect(s.missing).toEqual(['SQQQ']);
      expect(s.symbols.SQQQ).toMatchObject({ bar: null, valid: false, forwardFilled: null });
    }
  });
  it('updateAll applies a batch and summarizes it', () => {
    const { dm } = harness(SYMS);
    const b = bar('TQQQ', OPEN);
    expect(dm.updateAll([b, b, bar('TQQQ', OPEN, 101), bar('X', OPEN), bar('SQQQ', OPEN)])).toEqual({
      accepted: 2,
      duplicates: 1,
      revisions: 1,
      rejected: 1,
    });
  });
});

describe('getLatestSnapshot(): semantics.md "Snapshot"', () => {
  it('a fresh bar (just closed) weighs 1.0 with age 0', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ).toMatchObject({ ageMs: 0, stalenessWeight: 1, fillCount: 0, valid: true });
  });
  it('a bar whose close is 60 s old weighs 0.368 (the original design check); 120 s, 0.135', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + 2 * MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.stalenessWeight).toBeCloseTo(0.368, 3);
    expect(dm.getLatestSnapshot(OPEN + 3 * MIN).symbols.TQQQ?.stalenessWeight).toBeCloseTo(0.368, 3);
    clock.set(OPEN + 3 * MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.stalenessWeight).toBeCloseTo(0.135, 3);
  });
  it('forward-fills 1 to 5 intervals, then the symbol is invalid', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN, 56.44));
    clock.set(OPEN + MIN);
    for (let k = 1; k <= 7; k++) {
      clock.set(OPEN + (k + 1) * MIN);
      const e = dm.getLatestSnapshot().symbols.TQQQ!;
      expect(e.fillCount).toBe(k);
      if (k <= 5) {
        expect(e.valid).toBe(true);
        expect(e.forwardFilled).toEqual({
          symbol: 'TQQQ',
          start: OPEN + k * MIN,
          end: OPEN + (k + 1) * MIN,
          open: 56.44,
          high: 56.44,
          low: 56.44,
          close: 56.44,
          volume: 0,
          receivedAt: OPEN + (k + 1) * MIN,
          isFillForward: true,
          sourceEnd: OPEN + MIN,
        });
      } else {
        expect(e.valid).toBe(false);
        expect(e.forwardFilled).toBeNull();
        expect(e.price).toBe(56.44); // an invalid symbol still shows its last real price
        expect(dm.getLatestSnapshot().missing).toContain('TQQQ');
      }
    }
  });
  it('is invalid past maxStalenessMs even within the fill cap', () => {
    const { dm, clock } = harness(SYMS, OPEN, { maxForwardFills: 100 });
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + MIN + 300_000);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.valid).toBe(true);
    clock.advance(1);
    expect(dm.getLatestSnapshot().symbols.TQQQ).toMatchObject({ valid: false, fillCount: 5 });
  });
  it('does not fill overnight: no intervals are counted while the market is closed', () => {
    const start = ny('2025-04-01', 15, 59);
    const { dm, clock } = harness(SYMS, start);
    dm.update(bar('TQQQ', start));
    clock.set(ny('2025-04-02', 9, 29));
    const e = dm.getLatestSnapshot().symbols.TQQQ!;
    expect(e.fillCount).toBe(0);
    expect(e.forwardFilled).toBeNull();
    expect(e.valid).toBe(false); // 17.5 h old: stale, not "missing minutes"
    clock.set(ny('2025-04-02', 9, 32));
    expect(dm.getLatestSnapshot().symbols.TQQQ?.fillCount).toBe(2);
  });
  it('does not fill across a holiday (Good Friday 2025-04-18)', () => {
    const start = ny('2025-04-17', 15, 59);
    const { dm, clock } = harness(SYMS, start);
    dm.update(bar('TQQQ', start));
    clock.set(ny('2025-04-18', 12, 0));
    expect(dm.getLatestSnapshot().symbols.TQQQ?.fillCount).toBe(0);
    clock.set(ny('2025-04-21', 9, 33));
    expect(dm.getLatestSnapshot().symbols.TQQQ?.fillCount).toBe(3);
  });
  it('does not fill after a 13:00 early close (2025-11-28)', () => {
    const start = ny('2025-11-28', 12, 58);
    const { dm, clock } = harness(SYMS, start);
    dm.update(bar('TQQQ', start));
    clock.set(ny('2025-11-28', 15, 30));
    expect(dm.getLatestSnapshot().symbols.TQQQ?.fillCount).toBe(1);
  });
  it("never fills before a symbol's first bar: it is missing and invalid", () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + 3 * MIN);
    const s = dm.getLatestSnapshot();
    expect(s.symbols.SQQQ).toEqual({
      symbol: 'SQQQ',
      bar: null,
      ageMs: null,
      stalenessWeight: 0,
      fillCount: 0,
      forwardFilled: null,
      valid: false,
      price: null,
      halted: false,
      tradable: false,
    });
    expect(s.missing).toEqual(['SQQQ']);
  });
  it('reports missing, forwardFilled, complete, avgAgeMs and usable', () => {
    const { dm, clock } = harness(['A', 'B', 'C', 'D']);
    dm.updateAll([bar('A', OPEN), bar('B', OPEN), bar('C', OPEN)]);
    clock.set(OPEN + MIN);
    dm.updateAll([bar('A', OPEN + MIN), bar('B', OPEN + MIN)]);
    clock.set(OPEN + 2 * MIN);
    const s = dm.getLatestSnapshot();
    expect(s).toMatchObject({ asOf: OPEN + 2 * MIN, missing: ['D'], forwardFilled: 1, validCount: 3, complete: false, usable: true });
    expect(s.avgAgeMs).toBe(20_000); // A 0, B 0, C 60 s
    const all = harness(['A', 'B']);
    all.dm.updateAll([bar('A', OPEN), bar('B', OPEN)]);
    all.clock.set(OPEN + MIN);
    expect(all.dm.getLatestSnapshot()).toMatchObject({ complete: true, usable: true, missing: [] });
    all.clock.set(OPEN + MIN + 120_000);
    expect(all.dm.getLatestSnapshot().usable).toBe(false); // valid but not younger than 120 s
  });
  it('is a pure read: the same answer twice and no counter changed', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + 4 * MIN);
    const stats = dm.stats();
    const a = dm.getLatestSnapshot();
    const b = dm.getLatestSnapshot();
    expect(b).toEqual(a);
    expect(dm.stats()).toEqual(stats);
  });
  it('is immutable: later updates never change a snapshot a caller holds', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN, 100));
    clock.set(OPEN + MIN);
    const held = dm.getLatestSnapshot();
    const copy = structuredClone(held.toJSON());
    dm.update(bar('TQQQ', OPEN, 105)); // revision
    dm.update(bar('TQQQ', OPEN + MIN, 106));
    clock.set(OPEN + 2 * MIN);
    expect(held.toJSON()).toEqual(copy);
    expect(copy.asOf).toBe(OPEN + MIN);
    expect(copy.validCount).toBe(1);
    // Read-only: every field is a getter over private state (no setter), so an assignment throws
    // (test files are modules: strict mode); the entries, lists and bars are frozen.
    const writable = held as unknown as Record<string, unknown>;
    for (const field of ['asOf', 'forwardFilled', 'validCount', 'complete', 'avgAgeMs', 'usable', 'entries', 'symbols', 'missing', 'halted', 'size']) {
      expect(() => {
        writable[field] = 0;
      }, field).toThrow(TypeError);
    }
    expect(held.toJSON()).toEqual(copy);
    expect(Object.isFrozen(held.entries)).toBe(true);
    expect(Object.isFrozen(held.missing)).toBe(true);
    expect(Object.isFrozen(held.symbols)).toBe(true);
    expect(Object.isFrozen(held.symbols.TQQQ)).toBe(true);
    expect(Object.isFrozen(held.symbols.TQQQ?.bar)).toBe(true);
  });
  it('copies a mutable bar it is given, so the caller cannot change stored data', () => {
    const { dm, clock } = harness(SYMS);
    const b = { ...bar('TQQQ', OPEN, 100) };
    dm.update(b);
    (b as { close: number }).close = 1;
    clock.set(OPEN + MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.bar?.close).toBe(100);
  });
  it('never exposes a bar before the clock reaches its end (no look-ahead)', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN, 100));
    clock.set(OPEN + MIN);
    dm.update(bar('TQQQ', OPEN + MIN, 101)); // delivered at its start, as a replay does
    expect(dm.getLatestSnapshot().symbols.TQQQ?.bar?.close).toBe(100);
    expect(dm.getLatestSnapshot(OPEN + 10 * MIN).asOf).toBe(OPEN + MIN); // asOf beyond the clock is clamped
    clock.set(OPEN + 2 * MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.bar?.close).toBe(101);
  });
  it('answers for an earlier asOf from history', () => {
    const h = harness(SYMS);
    replay(h, [0, 1, 2, 3].map((m) => [bar('TQQQ', OPEN + m * MIN, 100 + m)]));
    expect(h.dm.getLatestSnapshot(OPEN + 2 * MIN).symbols.TQQQ?.bar?.close).toBe(101);
    expect(h.dm.getLatestSnapshot(OPEN).symbols.TQQQ?.bar).toBeNull();
  });
  it('can ignore market hours (ALWAYS_OPEN) for 24/7 data', () => {
    const start = ny('2025-04-01', 20, 0);
    const { dm, clock } = harness(SYMS, start, { calendar: ALWAYS_OPEN });
    dm.update(bar('TQQQ', start));
    clock.set(start + 3 * MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.fillCount).toBe(2);
  });
});

describe('slices: semantics.md "Slices"', () => {
  // A slice every symbol delivered is counted once for all symbols (the shortcut of emitSlice); when a
  // later bar is already stored, a symbol's newest bar is not the slice's: the full derivation runs.
  for (const later of ['update', 'warmUp'] as const) {
    it(`a complete boundary with a later bar already stored (${later}, history of one bar) is derived symbol by symbol`, () => {
      for (const listen of [false, true]) {
        const clock = new ManualClock(OPEN);
        const dm = new MultiSymbolDataManager({ symbols: SYMS, clock, historySize: 1 });
        const slices: { tqqq: number | null; sqqq: number | null; valid: number; complete: boolean }[] = [];
        if (listen) dm.on('slice', ({ slice }) => slices.push({ tqqq: slice.price('TQQQ'), sqqq: slice.price('SQQQ'), valid: slice.validCount, complete: slice.complete }));
        dm.update(bar('TQQQ', OPEN, 10));
        dm.update(bar('SQQQ', OPEN, 20));
        // TQQQ's next minute before the clock reaches the first boundary: it evicts TQQQ's first bar.
        if (later === 'update') expect(dm.update(bar('TQQQ', OPEN + MIN, 11)).status).toBe('accepted');
        else expect(dm.warmUp([bar('TQQQ', OPEN + MIN, 11)]).accepted).toBe(1);
        clock.set(OPEN + MIN);
        dm.flush();
        const t = dm.stats().bySymbol.TQQQ;
        // No TQQQ bar ends by the boundary any more: that slice has no TQQQ price and counts invalid for it.
        expect(t?.slices).toBe(1);
        expect(t?.invalidSlices).toBe(1);
        expect(t?.avgAgeMs).toBeNull();
        expect(dm.stats().bySymbol.SQQQ).toMatchObject({ slices: 1, invalidSlices: 0, avgAgeMs: 0 });
        if (listen) expect(slices[0]).toEqual({ tqqq: null, sqqq: 20, valid: 1, complete: false });
      }
    });
  }
  it('emits a boundary once every symbol delivered and the clock reached it', () => {
    const { dm, clock, slices } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    dm.update(bar('SQQQ', OPEN));
    expect(slices).toHaveLength(0); // clock still at the bars' start
    clock.set(OPEN + MIN);
    expect(slices.map((s) => s.asOf)).toEqual([OPEN + MIN]);
    expect(slices[0]?.complete).toBe(true);
  });
  it('live: bars arriving after their end close the boundary on the last symbol', () => {
    const { dm, clock, slices } = harness(SYMS);
    clock.set(OPEN + MIN + 50);
    dm.update(bar('TQQQ', OPEN));
    expect(slices).toHaveLength(0);
    dm.update(bar('SQQQ', OPEN));
    expect(slices.map((s) => s.asOf)).toEqual([OPEN + MIN]);
  });
  it('a burst of bars older than the grace (a gap fill): each minute waits for its other symbols, as in replay', () => {
    const { dm, clock, slices } = harness([...SYMS, 'SVIX']);
    clock.set(OPEN + 10 * MIN);
    // Minutes 0-2 arrive at once, in start order; SVIX skips minute 1.
    for (const b of [bar('TQQQ', OPEN), bar('SQQQ', OPEN), bar('SVIX', OPEN), bar('TQQQ', OPEN + MIN), bar('SQQQ', OPEN + MIN)]) dm.update(b);
    // Minute 0 closed complete when its third bar came; minute 1 is incomplete and still open to SVIX...
    expect(slices.map((s) => [s.asOf, s.complete])).toEqual([[OPEN + MIN, true]]);
    // ...until a later bar shows that no bar of minute 1 can still come in order.
    dm.update(bar('TQQQ', OPEN + 2 * MIN));
    expect(slices.map((s) => s.asOf)).toEqual([OPEN + MIN, OPEN + 2 * MIN]);
    expect(slices[1]?.symbols.SQQQ?.bar?.start).toBe(OPEN + MIN);
    expect(slices[1]?.symbols.SVIX).toMatchObject({ fillCount: 1, bar: { start: OPEN } });
    // The last one closes on the next tick.
    clock.advance(1000);
    expect(slices.map((s) => s.asOf)).toEqual([OPEN + MIN, OPEN + 2 * MIN, OPEN + 3 * MIN]);
  });
  it('emits after the grace when a symbol is missing, with the missing symbol as it stood', () => {
    const { dm, clock, slices } = harness(SYMS);
    replay({ dm, clock, slices }, [[bar('TQQQ', OPEN), bar('SQQQ', OPEN)]]);
    dm.update(bar('TQQQ', OPEN + MIN));
    clock.set(OPEN + 2 * MIN + 4_999);
    expect(slices).toHaveLength(1);
    clock.set(OPEN + 2 * MIN + 5_000);
    expect(slices).toHaveLength(2);
    expect(slices[1]?.symbols.SQQQ).toMatchObject({ fillCount: 1, valid: true, forwardFilled: { isFillForward: true } });
  });
  it('emits each boundary once, in increasing order, even when the clock jumps', () => {
    const h = harness(SYMS);
    h.dm.update(bar('TQQQ', OPEN + MIN)); // delivered early, a minute ahead: allowed
    h.dm.update(bar('SQQQ', OPEN));
    h.clock.set(OPEN + 60 * MIN);
    h.clock.set(OPEN + 61 * MIN);
    h.dm.flush();
    expect(h.slices.map((s) => (s.asOf - OPEN) / MIN)).toEqual([1, 2]);
  });
  it('emits nothing for a minute with no bar at all (as many slices as distinct minutes)', () => {
    const h = harness(SYMS);
    replay(h, [[bar('TQQQ', OPEN)], [bar('TQQQ', OPEN + 2 * MIN)]]);
    h.clock.advance(MIN);
    expect(h.slices.map((s) => (s.asOf - OPEN) / MIN)).toEqual([1, 3]);
  });
  it('a revision after its slice was emitted updates history, not the emitted slice', () => {
    const h = harness(SYMS);
    replay(h, [[bar('TQQQ', OPEN, 100), bar('SQQQ', OPEN, 50)]]);
    expect(h.slices).toHaveLength(1);
    h.clock.advance(30_000);
    expect(h.dm.update(bar('TQQQ', OPEN, 100.5))).toEqual({ status: 'revision' });
    expect(h.slices).toHaveLength(1);
    expect(h.slices[0]?.symbols.TQQQ?.bar?.close).toBe(100);
    expect(h.dm.getLatestSnapshot().symbols.TQQQ?.bar?.close).toBe(100.5);
  });
  it('a bar arriving after its slice is accepted and counted as late', () => {
    const h = harness(SYMS);
    replay(h, [[bar('TQQQ', OPEN)]]);
    h.clock.advance(10_000);
    expect(h.slices).toHaveLength(1);
    expect(h.dm.update(bar('SQQQ', OPEN))).toEqual({ status: 'accepted' });
    expect(h.slices).toHaveLength(1);
    expect(h.dm.stats().bySymbol.SQQQ?.lateBars).toBe(1);
  });
  it('closes an incomplete boundary when a later one completes', () => {
    const { dm, clock, slices } = harness(SYMS);
    clock.set(OPEN + 2 * MIN + 100);
    dm.update(bar('TQQQ', OPEN)); // SQQQ skipped that minute
    dm.update(bar('TQQQ', OPEN + MIN));
    dm.update(bar('SQQQ', OPEN + MIN));
    expect(slices.map((s) => (s.asOf - OPEN) / MIN)).toEqual([1, 2]);
  });
  it('flush() closes what the clock has reached without waiting for the grace', () => {
    const h = harness(SYMS);
    replay(h, [[bar('TQQQ', OPEN)]]);
    h.dm.update(bar('TQQQ', OPEN + MIN)); // not reached by the clock: stays pending
    h.dm.flush();
    expect(h.slices.map((s) => (s.asOf - OPEN) / MIN)).toEqual([1]);
  });
  it('counts forward-filled intervals and average age per symbol from slices', () => {
    const h = harness(SYMS);
    replay(h, [[bar('TQQQ', OPEN), bar('SQQQ', OPEN)], [bar('TQQQ', OPEN + MIN)], [bar('TQQQ', OPEN + 2 * MIN)], [bar('TQQQ', OPEN + 3 * MIN), bar('SQQQ', OPEN + 3 * MIN)]]);
    h.clock.advance(MIN);
    const q = h.dm.stats().bySymbol.SQQQ!;
    expect(q).toMatchObject({ slices: 4, forwardFilledIntervals: 2, invalidSlices: 0 });
    expect(q.avgAgeMs).toBe((0 + 60_000 + 120_000 + 0) / 4);
  });
  it('the same code closes slices on a replay clock', () => {
    const clock = new ReplayClock(OPEN);
    const dm = new MultiSymbolDataManager({ symbols: SYMS, clock });
    const seen: number[] = [];
    dm.on('slice', (e) => seen.push(e.slice.asOf));
    dm.updateAll([bar('TQQQ', OPEN), bar('SQQQ', OPEN)]);
    clock.advanceTo(OPEN + MIN);
    expect(seen).toEqual([OPEN + MIN]);
    dm.dispose();
    dm.updateAll([bar('TQQQ', OPEN + MIN), bar('SQQQ', OPEN + MIN)]);
    clock.advanceTo(OPEN + 2 * MIN);
    expect(seen).toEqual([OPEN + MIN]); // disposed: no longer listening to the clock
  });
});

describe('history', () => {
  it('recent(symbol, n) and history(symbol): oldest to newest, real bars only', () => {
    const h = harness(SYMS);
    replay(h, [0, 1, 2, 3].map((m) => [bar('TQQQ', OPEN + m * MIN, 100 + m)]));
    h.clock.advance(10 * MIN); // fills happen in snapshots, never in history
    expect(h.dm.history('TQQQ').map((b) => b.close)).toEqual([100, 101, 102, 103]);
    expect(h.dm.recent('TQQQ', 2).map((b) => b.close)).toEqual([102, 103]);
    expect(h.dm.recent('TQQQ', 10)).toHaveLength(4);
    expect(h.dm.history('SQQQ')).toEqual([]);
  });
  it('keeps at most historySize bars, evicting the oldest', () => {
    const h = harness(SYMS, OPEN, { historySize: 3 });
    replay(h, [0, 1, 2, 3, 4].map((m) => [bar('TQQQ', OPEN + m * MIN, 100 + m)]));
    expect(h.dm.history('TQQQ').map((b) => b.close)).toEqual([102, 103, 104]);
  });
  it('grows its storage past the first allocations and keeps order across growth and eviction', () => {
    for (const [size, count] of [
      [70, 70],
      [100, 250],
      [500, 1200],
    ] as const) {
      const h = harness(['A'], OPEN, { historySize: size, calendar: ALWAYS_OPEN });
      replay(h, Array.from({ length: count }, (_, m) => [bar('A', OPEN + m * MIN, 10 + m / 100)]));
      const closes = h.dm.history('A').map((b) => b.close);
      expect(closes).toEqual(Array.from({ length: size }, (_, i) => 10 + (count - size + i) / 100));
      expect(h.dm.recent('A', 3).map((b) => b.start)).toEqual([count - 3, count - 2, count - 1].map((m) => OPEN + m * MIN));
    }
  });
  it('returns bars equal to the ones given (vwap and trade count included)', () => {
    const h = harness(SYMS);
    const b = bar('TQQQ', OPEN, 100, { vwap: 100.1, tradeCount: 42 });
    h.dm.update(b);
    expect(h.dm.history('TQQQ')).toEqual([b]);
  });
  it('throws a typed error for an untracked symbol', () => {
    const { dm } = harness(SYMS);
    expect(() => dm.history('AAPL')).toThrowError(/unknown symbol 'AAPL'/);
    try {
      dm.recent('AAPL', 1);
    } catch (e) {
      expect(FeedError.isInstance(e) && e.code).toBe('unknown_symbol');
    }
  });
});

describe('statistics', () => {
  it('per symbol and in total: updates, outcomes, latency', () => {
    const { dm, clock } = harness(SYMS);
    clock.set(OPEN + MIN);
    dm.update(bar('TQQQ', OPEN, 100, { receivedAt: OPEN + MIN + 80 }));
    dm.update(bar('TQQQ', OPEN, 100, { receivedAt: OPEN + MIN + 90 })); // duplicate
    dm.update(bar('SQQQ', OPEN, 100, { receivedAt: OPEN + MIN + 20 }));
    dm.update(bar('SQQQ', OPEN, 99)); // revision
    dm.update({ ...bar('SQQQ', OPEN + MIN), volume: -3 });
    const s = dm.stats();
    expect(s.bySymbol.TQQQ).toMatchObject({ updates: 2, accepted: 1, duplicates: 1, avgLatencyMs: 80, maxLatencyMs: 80 });
    expect(s.bySymbol.SQQQ).toMatchObject({ updates: 3, accepted: 1, revisions: 1, rejected: 1, rejectedByReason: { negative_volume: 1 } });
    expect(s.total).toMatchObject({ updates: 5, accepted: 2, duplicates: 1, revisions: 1, rejected: 1, avgLatencyMs: 50, maxLatencyMs: 80 });
    expect(s.slicesEmitted).toBe(1);
  });
  it('resetStats() zeroes the counters and keeps the data', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    dm.update(bar('NOPE', OPEN));
    dm.resetStats();
    expect(dm.stats().total).toMatchObject({ updates: 0, accepted: 0, rejected: 0, avgLatencyMs: null });
    expect(dm.stats().unknownSymbols).toEqual({});
    expect(dm.history('TQQQ')).toHaveLength(1);
    clock.set(OPEN + MIN);
    expect(dm.getLatestSnapshot().symbols.TQQQ?.valid).toBe(true);
  });
});

describe('attach(feed)', () => {
  it("feeds a BarFeed's bars into the manager until detached", async () => {
    const feed = new ManualBarFeed(SYMS);
    await feed.connect();
    await feed.start();
    const { dm } = harness(SYMS);
    const detach = dm.attach(feed);
    feed.push(bar('TQQQ', OPEN));
    detach();
    feed.push(bar('SQQQ', OPEN));
    expect(dm.stats().total.accepted).toBe(1);
  });
});

describe('listeners', () => {
  it('a slice listener that throws is reported as an error event; the manager carries on', () => {
    const { dm, clock } = harness(SYMS);
    const errors: string[] = [];
    dm.on('error', (e) => errors.push(e.error.message));
    dm.on('slice', () => {
      throw new Error('strategy bug');
    });
    dm.updateAll([bar('TQQQ', OPEN), bar('SQQQ', OPEN)]);
    clock.set(OPEN + MIN);
    expect(errors).toEqual(['strategy bug']);
    expect(dm.stats().slicesEmitted).toBe(1);
  });
  it('slice listeners are called in order; one unsubscribed during a slice is not called by it, one subscribed during it hears the next; a throw stops no other', () => {
    const { dm, clock } = harness(SYMS);
    const seen: string[] = [];
    const errors: string[] = [];
    dm.on('error', (e) => errors.push(e.error.message));
    const minute = (asOf: number): number => (asOf - OPEN) / MIN;
    let offB: Unsubscribe = () => undefined;
    dm.on('slice', (e) => {
      seen.push(`a${minute(e.slice.asOf)}`);
      if (minute(e.slice.asOf) !== 1) return;
      offB();
      dm.on('slice', (later) => seen.push(`c${minute(later.slice.asOf)}`));
      throw new Error('a failed');
    });
    offB = dm.on('slice', (e) => seen.push(`b${minute(e.slice.asOf)}`));
    const offD = dm.on('slice', (e) => seen.push(`d${minute(e.slice.asOf)}`));
    dm.updateAll([bar('TQQQ', OPEN), bar('SQQQ', OPEN)]);
    clock.set(OPEN + MIN);
    offD();
    offD(); // a second call does nothing
    dm.updateAll([bar('TQQQ', OPEN + MIN), bar('SQQQ', OPEN + MIN)]);
    clock.set(OPEN + 2 * MIN);
    expect(seen).toEqual(['a1', 'd1', 'a2', 'c2']);
    expect(errors).toEqual(['a failed']);
  });
  it('counts slices with no listener left as with none ever', () => {
    const run = (listen: boolean): { stats: ReturnType<MultiSymbolDataManager['stats']>; seen: number[] } => {
      const clock = new ManualClock(OPEN);
      const dm = new MultiSymbolDataManager({ symbols: SYMS, clock });
      const seen: number[] = [];
      const off = listen ? dm.on('slice', (e) => seen.push(e.slice.asOf)) : () => undefined;
      dm.updateAll([bar('TQQQ', OPEN), bar('SQQQ', OPEN)]);
      clock.set(OPEN + MIN);
      off();
      dm.updateAll([bar('TQQQ', OPEN + MIN)]); // SQQQ silent: a slice counted symbol by symbol
      clock.set(OPEN + 2 * MIN + 10_000);
      return { stats: dm.stats(), seen };
    };
    const listened = run(true);
    expect(listened.seen).toEqual([OPEN + MIN]);
    expect(listened.stats.slicesEmitted).toBe(2);
    expect(listened.stats.bySymbol.SQQQ?.forwardFilledIntervals).toBe(1);
    expect(listened.stats).toEqual(run(false).stats);
  });
  it('a slice listener may call update(): slices stay in order', () => {
    const { dm, clock, slices } = harness(SYMS);
    dm.on('slice', (e) => {
      if (e.slice.asOf === OPEN + MIN) dm.updateAll([bar('TQQQ', OPEN + MIN), bar('SQQQ', OPEN + MIN)]);
    });
    dm.updateAll([bar('TQQQ', OPEN), bar('SQQQ', OPEN)]);
    clock.set(OPEN + 3 * MIN);
    expect(slices.map((s) => (s.asOf - OPEN) / MIN)).toEqual([1, 2]);
  });
  it('emits rejected bars with their reason', () => {
    const { dm } = harness(SYMS);
    const seen: string[] = [];
    dm.on('rejected', (e) => seen.push(`${e.bar.symbol}:${e.reason}`));
    dm.update(bar('ZZZ', OPEN));
    dm.update({ ...bar('TQQQ', OPEN), volume: -1 });
    expect(seen).toEqual(['ZZZ:unknown_symbol', 'TQQQ:negative_volume']);
  });
});
