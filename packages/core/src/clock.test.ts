import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, ReplayClock, SystemClock } from './clock.js';
import { FeedError } from './errors.js';

describe('ManualClock', () => {
  it('moves only when told, and ticks its listeners', () => {
    const c = new ManualClock(1000);
    const seen: number[] = [];
    const off = c.onTick((t) => seen.push(t));
    c.advance(500);
    c.set(2000);
    c.set(2000); // no movement, no tick
    off();
    c.advance(1);
    expect(seen).toEqual([1500, 2000]);
    expect(c.now()).toBe(2001);
  });
  it('refuses to go backwards with a typed error', () => {
    const c = new ManualClock(1000);
    expect(() => c.set(999)).toThrowError(/cannot go backwards/);
    try {
      c.advance(-1);
    } catch (e) {
      expect(FeedError.isInstance(e)).toBe(true);
    }
  });
});

describe('ReplayClock', () => {
  it('advances only forward, and reset starts a new timeline', () => {
    const c = new ReplayClock(100);
    expect(c.advanceTo(200)).toBe(true);
    expect(c.advanceTo(150)).toBe(false);
    expect(c.now()).toBe(200);
    c.reset(50);
    expect(c.now()).toBe(50);
    expect(c.origin).toBe(50);
  });
});

describe('SystemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  it('reads wall time, ticks on a timer only while listened to', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const c = new SystemClock({ tickIntervalMs: 1000 });
    expect(c.now()).toBe(1_000_000);
    const seen: number[] = [];
    const off = c.onTick((t) => seen.push(t));
    vi.advanceTimersByTime(3000);
    expect(seen).toEqual([1_001_000, 1_002_000, 1_003_000]);
    off();
    expect(vi.getTimerCount()).toBe(0);
  });
});
