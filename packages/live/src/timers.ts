import type { CancelTimer, Clock } from '@feed/core';

/**
 * The timers one module of the feed has set on its clock, so that it can cancel them all at once
 * and a leak check can count them.
 */
export class TimerSet {
  readonly #live = new Set<CancelTimer>();

  constructor(private readonly clock: Pick<Clock, 'setTimer'>) {}

  get size(): number {
    return this.#live.size;
  }

  /** Sets a timer; the returned function cancels it. */
  set(delayMs: number, fn: () => void): CancelTimer {
    const cancel = this.clock.setTimer(delayMs, () => {
      this.#live.delete(stop);
      fn();
    });
    const stop: CancelTimer = () => {
      if (!this.#live.delete(stop)) return;
      cancel();
    };
    this.#live.add(stop);
    return stop;
  }

  clear(): void {
    for (const stop of [...this.#live]) stop();
  }
}
