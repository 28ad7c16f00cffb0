import type { TradingStatus } from '@feed/core';

/** Halt and resume transitions kept per symbol: enough for weeks of statuses; older ones are dropped. */
const MAX_TRANSITIONS = 1024;

/**
 * One symbol's trading statuses as they bear on trading: the instants a halt (or pause) began and
 * trading resumed, in time order, so that a snapshot at any `asOf` knows whether a halt was in force
 * (by the statuses' own times, not when they arrived), and the last status of any kind (bands).
 */
export class HaltLog {
  readonly #at: number[] = [];
  readonly #halted: boolean[] = [];
  /** The newest status of any kind (a band, an imbalance, a halt). */
  last: TradingStatus | undefined;

  /** Files a status; returns whether it changed the halted state at its time. */
  add(status: TradingStatus): boolean {
    if (this.last === undefined || status.at >= this.last.at) this.last = status;
    if (status.effect === 'none') return false;
    const halted = status.effect === 'halt';
    const before = this.haltedAt(status.at);
    // Statuses nearly always come in time order: the usual insert is a push.
    let k = this.#at.length;
    while (k > 0 && (this.#at[k - 1] as number) > status.at) k--;
    this.#at.splice(k, 0, status.at);
    this.#halted.splice(k, 0, halted);
    if (this.#at.length > MAX_TRANSITIONS) {
      this.#at.shift();
      this.#halted.shift();
    }
    return before !== halted;
  }

  /** Whether a halt was in force at `t`: the last transition at or before `t` was a halt. */
  haltedAt(t: number): boolean {
    const at = this.#at;
    for (let k = at.length - 1; k >= 0; k--) if ((at[k] as number) <= t) return this.#halted[k] as boolean;
    return false;
  }

  /** Whether any halt overlaps [from, to): halted at `from`, or a halt begins inside. */
  haltedDuring(from: number, to: number): boolean {
    if (this.haltedAt(from)) return true;
    const at = this.#at;
    for (let k = at.length - 1; k >= 0; k--) {
      const t = at[k] as number;
      if (t < from) break;
      if (t < to && this.#halted[k] === true) return true;
    }
    return false;
  }
}
