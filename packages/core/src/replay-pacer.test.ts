import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ReplayPacer } from './replay-pacer.js';

const MIN = 60_000;

describe('ReplayPacer: the pacing every replay shares', () => {
  it('waits the gap over the speed, a night or a weekend counting one interval (maxGapMs)', async () => {
    const clock = new ManualClock(0);
    const pacer = new ReplayPacer({ speed: 2, maxGapMs: MIN, yieldEvery: 256, pacingClock: clock });
    await pacer.before(0); // the first step: no wait
    const waits: number[] = [];
    for (const start of [MIN, 2 * MIN, 2 * MIN + 3 * 86_400_000]) {
      const t0 = clock.now();
      const done = pacer.before(start);
      expect(clock.pendingTimers).toBe(1);
      clock.runNextTimer();
      await done;
      waits.push(clock.now() - t0);
    }
    // 30 s each (a minute at 2x); the weekend counts one minute.
    expect(waits).toEqual([30_000, 30_000, 30_000]);
    // A step at the same start does not wait.
    await pacer.before(2 * MIN + 3 * 86_400_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancel() ends a wait at once; reset() starts a pass without one', async () => {
    const clock = new ManualClock(0);
    const pacer = new ReplayPacer({ speed: 1, maxGapMs: MIN, yieldEvery: 256, pacingClock: clock });
    await pacer.before(0);
    const waiting = pacer.before(MIN);
    pacer.cancel();
    await waiting;
    expect(clock.pendingTimers).toBe(0);
    pacer.reset();
    await pacer.before(10 * MIN);
    expect(clock.pendingTimers).toBe(0);
  });

  it('at speed 0 never waits on the clock', async () => {
    const clock = new ManualClock(0);
    const pacer = new ReplayPacer({ speed: 0, maxGapMs: MIN, yieldEvery: 2, pacingClock: clock });
    for (let m = 0; m < 5; m++) await pacer.before(m * MIN);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.now()).toBe(0);
  });
});
