import type { CancelTimer, Clock } from './clock.js';
import { yieldToEventLoop } from './clock.js';

/** How a replay paces its steps (each step: the bars of one start). */
export interface ReplayPacing {
  /** 0: as fast as possible (a yield to the event loop every `yieldEvery` steps); 1: real time; 39: 39x. */
  readonly speed: number;
  /** A gap between steps counts at most this much (one interval: nights and weekends do not sleep). */
  readonly maxGapMs: number;
  /** At speed 0, steps between yields to the event loop. */
  readonly yieldEvery: number;
  /** Runs the waits. */
  readonly pacingClock: Clock;
}

/**
 * The pacing of every replay (`MockMultiSymbolFeed`'s files, `NatsBarFeed`'s stored bars): before
 * the step of a start, waits the gap since the previous step's start, capped at `maxGapMs`, divided
 * by the speed; at speed 0 yields to the event loop every `yieldEvery` steps. `cancel()` ends a
 * wait at once (a stop), `reset()` starts a new pass (no wait before its first step).
 */
export class ReplayPacer {
  #prev: number | undefined;
  #steps = 0;
  #cancelTimer: CancelTimer | undefined;
  #wake: (() => void) | undefined;

  constructor(private readonly pacing: ReplayPacing) {}

  /** Waits before the step of `start` (a start equal to the previous one does not wait). */
  async before(start: number): Promise<void> {
    const wait = this.wait(start);
    if (wait !== undefined) await wait;
  }

  /**
   * `before` without a promise when there is nothing to wait for (most steps at speed 0): the wait,
   * or `undefined` to go on at once. A replay loop that awaits only a real wait saves a turn of the
   * microtask queue per step.
   */
  wait(start: number): Promise<void> | undefined {
    const { speed, maxGapMs, yieldEvery } = this.pacing;
    const prev = this.#prev;
    if (prev === undefined || start > prev) this.#prev = start;
    if (speed > 0) {
      if (prev === undefined || start <= prev) return undefined;
      const gap = Math.min(start - prev, maxGapMs);
      return gap > 0 ? this.#sleep(gap / speed) : undefined;
    }
    return ++this.#steps % yieldEvery === 0 ? yieldToEventLoop() : undefined;
  }

  /** A new pass: its first step does not wait. */
  reset(): void {
    this.#prev = undefined;
  }

  /** Ends a wait in progress at once (its `before()` resolves). */
  cancel(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#cancelTimer = this.pacing.pacingClock.setTimer(ms, () => {
        this.#cancelTimer = undefined;
        this.#wake = undefined;
        resolve();
      });
    });
  }
}
