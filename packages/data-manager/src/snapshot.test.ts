import { describe, expect, it } from 'vitest';
import { MIN, OPEN, bar, harness } from '../test/scenario.js';
import type { Snapshot } from './index.js';

const SYMS = ['TQQQ', 'SQQQ', 'UPRO', 'SDS'];

/** Every reader of a view, next to the entry it must agree with. */
function readersAgree(s: Snapshot): void {
  expect(s.size).toBe(s.entries.length);
  // Collected, then compared once: thousands of symbols stay fast.
  const fromEntries: unknown[] = [];
  const fromReaders: unknown[] = [];
  s.entries.forEach((e, i) => {
    for (const key of [i, e.symbol]) {
      fromEntries.push([i, e.price, e.ageMs, e.stalenessWeight, e.valid, true]);
      fromReaders.push([s.indexOf(e.symbol), s.price(key), s.ageMs(key), s.weight(key), s.isValid(key), s.entry(key) === e]);
    }
  });
  expect(fromReaders).toEqual(fromEntries);
}

describe('snapshots are views: numbers captured at asOf, objects built on first read', () => {
  it('the readers give what the entries say, for fresh, forward-filled, stale and never-seen symbols', () => {
    const { dm, clock } = harness(SYMS, OPEN, { maxForwardFills: 2 });
    dm.update(bar('TQQQ', OPEN, 100));
    dm.update(bar('SQQQ', OPEN, 50));
    clock.set(OPEN + MIN);
    dm.update(bar('TQQQ', OPEN + MIN, 101));
    dm.update(bar('UPRO', OPEN + MIN, 70));
    clock.set(OPEN + 5 * MIN);
    dm.update(bar('UPRO', OPEN + 4 * MIN, 71));
    const s = dm.getLatestSnapshot();
    expect(s.entries.map((e) => [e.symbol, e.valid, e.fillCount])).toEqual([
      ['TQQQ', false, 3],
      ['SQQQ', false, 4],
      ['UPRO', true, 0],
      ['SDS', false, 0],
    ]);
    readersAgree(s);
    expect(s.missing).toEqual(['TQQQ', 'SQQQ', 'SDS']);
    expect(s.price('SDS')).toBeNull();
    const later = dm.getLatestSnapshot(OPEN + 2 * MIN);
    expect(later.symbols.SQQQ?.forwardFilled?.close).toBe(50);
    readersAgree(later);
  });

  it('answers an untracked symbol or a bad index with null, false, 0, -1 and undefined', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN));
    clock.set(OPEN + MIN);
    const s = dm.getLatestSnapshot();
    for (const key of ['NOPE', -1, 4, 1.5, Number.NaN]) {
      expect(s.price(key)).toBeNull();
      expect(s.ageMs(key)).toBeNull();
      expect(s.weight(key)).toBe(0);
      expect(s.isValid(key)).toBe(false);
      expect(s.entry(key)).toBeUndefined();
    }
    expect(s.indexOf('NOPE')).toBe(-1);
  });

  it('a view never read keeps the numbers of its asOf through revisions and a ring that wraps', () => {
    const { dm, clock, slices } = harness(SYMS.slice(0, 1), OPEN, { historySize: 2 });
    dm.update(bar('TQQQ', OPEN, 100));
    clock.set(OPEN + MIN);
    const held = dm.getLatestSnapshot();
    expect(slices).toHaveLength(1);
    dm.update(bar('TQQQ', OPEN, 105)); // a revision of the bar both hold
    for (let m = 1; m < 4; m++) {
      dm.update(bar('TQQQ', OPEN + m * MIN, 110 + m)); // overwrites the ring's slots
      clock.set(OPEN + (m + 1) * MIN);
    }
    for (const s of [held, slices[0] as Snapshot]) {
      expect(s.price('TQQQ')).toBe(100);
      expect(s.symbols.TQQQ?.bar?.close).toBe(100);
      expect(s.symbols.TQQQ?.bar?.high).toBe(100.5);
    }
    expect(dm.history('TQQQ').map((b) => b.close)).toEqual([112, 113]);
  });

  it('thousands of small slices each keep their own numbers', () => {
    const { dm, clock, slices } = harness(SYMS);
    for (let m = 0; m < 2000; m++) {
      for (const [i, s] of SYMS.entries()) dm.update(bar(s, OPEN + m * MIN, 100 + m + i / 10));
      clock.set(OPEN + (m + 1) * MIN);
    }
    expect(slices).toHaveLength(2000);
    for (const m of [0, 1, 999, 1638, 1639, 1999]) {
      expect(slices[m]?.entries.map((e) => e.price)).toEqual(SYMS.map((_, i) => 100 + m + i / 10));
    }
  });

  it('compares by its entries (toEqual), serializes every field (JSON), iterates its entries, and is read-only', () => {
    const { dm, clock } = harness(SYMS);
    dm.update(bar('TQQQ', OPEN, 100));
    clock.set(OPEN + MIN);
    const a = dm.getLatestSnapshot();
    const b = dm.getLatestSnapshot();
    dm.update(bar('TQQQ', OPEN, 101)); // a revision: a later snapshot differs in one price
    const c = dm.getLatestSnapshot();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(JSON.parse(JSON.stringify(a.toJSON())));
    expect((JSON.parse(JSON.stringify(a)) as { symbols: Record<string, { price: number }> }).symbols.TQQQ?.price).toBe(100);
    expect([...a]).toEqual(a.entries);
    // Read-only by accessors, not frozen (semantics.md, "Snapshot"): an assignment throws, the lists are frozen.
    expect(() => {
      (a as unknown as { asOf: number }).asOf = 0;
    }).toThrow(TypeError);
    expect(a.asOf).toBe(OPEN + MIN);
    expect(Object.isFrozen(a)).toBe(false);
    expect(Object.isFrozen(a.entries)).toBe(true);
    expect(Object.isFrozen(a.symbols)).toBe(true);
    expect(Object.isFrozen(a.missing)).toBe(true);
  });
});

describe('snapshots of thousands of symbols', () => {
  it('every symbol reads back right across capture pages (4096 symbols a page)', () => {
    const syms = Array.from({ length: 9000 }, (_, i) => `S${i}`);
    const { dm, clock, slices } = harness(syms);
    syms.forEach((s, i) => {
      if (i % 3 !== 0) dm.update(bar(s, OPEN, 10 + i / 100));
    });
    clock.set(OPEN + MIN);
    dm.flush(); // a third of the symbols never deliver: close the minute without waiting for the grace
    const s = dm.getLatestSnapshot();
    expect(slices).toHaveLength(1);
    for (const view of [s, slices[0] as Snapshot]) {
      for (const i of [0, 1, 4095, 4096, 4097, 8191, 8192, 8999]) {
        expect(view.price(i)).toBe(i % 3 === 0 ? null : 10 + i / 100);
        expect(view.isValid(syms[i] as string)).toBe(i % 3 !== 0);
      }
      expect(view.validCount).toBe(6000);
      expect(view.missing).toHaveLength(3000);
    }
    readersAgree(s);
  });
});
