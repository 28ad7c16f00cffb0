import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SliceSchedule } from './slice-schedule.js';

/** The rule of `SliceSchedule.close`, on a plain sorted list: the reference the ring must equal. */
class Reference {
  pending: { end: number; count: number }[] = [];
  emitted: [number, boolean][] = [];
  constructor(
    private readonly symbols: number,
    private readonly grace: number,
  ) {}

  count(end: number): void {
    const b = this.pending.find((p) => p.end === end);
    if (b !== undefined) b.count++;
    else {
      this.pending.push({ end, count: 1 });
      this.pending.sort((a, c) => a.end - c.end);
    }
  }

  close(now: number, holdFrom = Number.POSITIVE_INFINITY): void {
    for (;;) {
      let k = -1;
      for (let i = 0; i < this.pending.length; i++) {
        const b = this.pending[i] as { end: number; count: number };
        if (now < b.end) break;
        if (b.count >= this.symbols || (now >= b.end + this.grace && b.end < holdFrom)) k = i;
      }
      if (k < 0) return;
      const b = this.pending.shift() as { end: number; count: number };
      this.emitted.push([b.end, b.count >= this.symbols && this.pending.length === 0]);
    }
  }

  flush(): void {
    while (this.pending.length > 0) {
      const b = this.pending.shift() as { end: number; count: number };
      this.emitted.push([b.end, b.count >= this.symbols && this.pending.length === 0]);
    }
  }
}

describe('SliceSchedule', () => {
  it('closes the same boundaries, in the same order, as the rule on a sorted list (out-of-order counts, more than 16 pending); mayClose never misses a closing', () => {
    let maxPending = 0;
    let closedNothing = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { arbitrary: fc.record({ kind: fc.constant('count' as const), minute: fc.integer({ min: 0, max: 60 }) }), weight: 6 },
            { arbitrary: fc.record({ kind: fc.constant('close' as const), step: fc.integer({ min: 0, max: 4 }), hold: fc.option(fc.integer({ min: 0, max: 65 }), { nil: undefined }) }), weight: 2 },
          ),
          { minLength: 80, maxLength: 200 },
        ),
        (actions) => {
          const ref = new Reference(3, 2);
          const emitted: [number, boolean][] = [];
          const s = new SliceSchedule<[number, boolean][]>(3, 2, emitted, (out, end, complete) => out.push([end, complete]));
          let now = 0;
          for (const a of actions) {
            if (a.kind === 'count') {
              // Bars after their boundary closed are late: the manager does not count them.
              if (a.minute <= s.lastEmitted) continue;
              s.count(a.minute);
              ref.count(a.minute);
              maxPending = Math.max(maxPending, s.pendingCount);
            } else {
              now += a.step;
              const may = s.mayClose(now);
              const before = ref.emitted.length;
              s.close(now, a.hold);
              ref.close(now, a.hold);
              // The manager calls close only when mayClose says so: it must never miss a closing.
              if (ref.emitted.length > before) expect(may).toBe(true);
              else closedNothing++;
            }
            expect(s.pendingCount).toBe(ref.pending.length);
          }
          s.flush(Number.POSITIVE_INFINITY);
          ref.flush();
          expect(emitted).toEqual(ref.emitted);
        },
      ),
      { seed: 1_700_101, numRuns: 300 },
    );
    expect(maxPending).toBeGreaterThan(16);
    expect(closedNothing).toBeGreaterThan(0);
  });
});
