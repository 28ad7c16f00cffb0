import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, ReplayClock, SystemClock, sleep, timeoutSignal } from './clock.js';
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

describe('timers on the clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  it('ManualClock fires due timers in time order, moving time to each, as it is set forward', () => {
    const c = new ManualClock(1000);
    const seen: string[] = [];
    c.onTick((t) => seen.push(`tick ${t}`));
    c.setTimer(300, () => seen.push(`b at ${c.now()}`));
    c.setTimer(100, () => {
      seen.push(`a at ${c.now()}`);
      // A timer set by a timer, due within the same advance, runs in the same advance.
      c.setTimer(50, () => seen.push(`a2 at ${c.now()}`));
    });
    const cancel = c.setTimer(200, () => seen.push('cancelled'));
    c.setTimer(300, () => seen.push(`c at ${c.now()}`));
    cancel();
    cancel();
    expect(c.pendingTimers).toBe(3);
    expect(c.nextTimerAt()).toBe(1100);
    c.advance(1000);
    expect(seen).toEqual(['tick 1100', 'a at 1100', 'tick 1150', 'a2 at 1150', 'tick 1300', 'b at 1300', 'c at 1300', 'tick 2000']);
    expect(c.pendingTimers).toBe(0);
    expect(c.nextTimerAt()).toBeUndefined();
  });
  it('a zero delay fires on the next set or advance, even by 0; runNextTimer jumps to the next one', () => {
    const c = new ManualClock(0);
    let n = 0;
    c.setTimer(0, () => n++);
    expect(n).toBe(0);
    c.advance(0);
    expect(n).toBe(1);
    c.setTimer(5000, () => n++);
    expect(c.runNextTimer()).toBe(true);
    expect(c.now()).toBe(5000);
    expect(n).toBe(2);
    expect(c.runNextTimer()).toBe(false);
    expect(() => c.setTimer(-1, () => undefined)).toThrowError(/>= 0/);
  });
  it('ReplayClock runs the timers its replay passes', () => {
    const c = new ReplayClock(0);
    const at: number[] = [];
    c.setTimer(60_000, () => at.push(c.now()));
    c.advanceTo(30_000);
    expect(at).toEqual([]);
    c.advanceTo(120_000);
    expect(at).toEqual([60_000]);
  });
  it('SystemClock timers are real (they keep the process alive), cancellable, and chain past the 24.8-day limit of Node timers', () => {
    vi.useFakeTimers({ now: 0 });
    const c = new SystemClock();
    let fired = 0;
    const cancel = c.setTimer(100, () => fired++);
    c.setTimer(50, () => fired++);
    cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(1);
    const thirtyDays = 30 * 86_400_000;
    c.setTimer(thirtyDays, () => fired++);
    vi.advanceTimersByTime(2_147_483_647);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(thirtyDays - 2_147_483_647);
    expect(fired).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
  it('sleep resolves after clock time and rejects at once, typed, on abort', async () => {
    const c = new ManualClock(0);
    let done = false;
    const p = sleep(c, 1000).then(() => {
      done = true;
    });
    c.advance(999);
    await Promise.resolve();
    expect(done).toBe(false);
    c.advance(1);
    await p;
    expect(done).toBe(true);
    const ac = new AbortController();
    const q = sleep(c, 1000, ac.signal);
    ac.abort();
    await expect(q).rejects.toMatchObject({ code: 'aborted' });
    expect(c.pendingTimers).toBe(0);
    await expect(sleep(c, 1, ac.signal)).rejects.toMatchObject({ code: 'aborted' });
  });
  it('timeoutSignal aborts with a timeout error on the clock, or with its parent', () => {
    const c = new ManualClock(0);
    const t = timeoutSignal(c, 500, 'request');
    c.advance(500);
    expect(t.signal.aborted).toBe(true);
    expect(t.signal.reason).toMatchObject({ code: 'timeout', message: 'request timed out after 500 ms' });
    const parent = new AbortController();
    const u = timeoutSignal(c, 500, 'request', parent.signal);
    parent.abort(new FeedError({ code: 'aborted', message: 'stop' }));
    expect(u.signal.reason).toMatchObject({ code: 'aborted' });
    u.dispose();
    expect(c.pendingTimers).toBe(0);
  });
});
