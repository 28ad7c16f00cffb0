import { FeedError } from './errors.js';

/** A listener told the new time whenever a clock moves forward. */
export type TickListener = (now: number) => void;

/**
 * The only source of time in the core packages (semantics.md, "Time"). Live: `SystemClock`.
 * Replay: `ReplayClock`, advanced by the replay to each bar's end. Tests: `ManualClock`.
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
  /**
   * Subscribes to time moving forward; returns the unsubscribe function. Manual and replay clocks
   * tick on every advance; the system clock ticks on a timer while anyone listens. Consumers such as
   * the data manager close minute boundaries on ticks, with the same code for every clock.
   */
  onTick(listener: TickListener): () => void;
}

class TickListeners {
  // Copy-on-write: a tick iterates the current array without allocating, and a listener that
  // subscribes or unsubscribes during a tick does not disturb it.
  private listeners: readonly TickListener[] = [];

  get size(): number {
    return this.listeners.length;
  }

  add(listener: TickListener): () => void {
    // Wrap so that the same function subscribed twice gets two independent subscriptions.
    const entry: TickListener = (now) => listener(now);
    this.listeners = [...this.listeners, entry];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== entry);
    };
  }

  emit(now: number): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) (ls[i] as TickListener)(now);
  }
}

export interface SystemClockOptions {
  /**
   * How often the clock ticks its listeners, in milliseconds.
   * @default 1000
   */
  tickIntervalMs?: number;
}

/** Wall-clock time. Its tick timer runs only while it has listeners, and never keeps the process alive. */
export class SystemClock implements Clock {
  private readonly listeners = new TickListeners();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tickIntervalMs: number;

  constructor(options: SystemClockOptions = {}) {
    this.tickIntervalMs = options.tickIntervalMs ?? 1000;
  }

  now(): number {
    // eslint-disable-next-line no-restricted-syntax -- the one place wall-clock time enters the packages
    return Date.now();
  }

  onTick(listener: TickListener): () => void {
    const off = this.listeners.add(listener);
    if (this.timer === undefined) {
      // eslint-disable-next-line no-restricted-globals -- the system clock's own tick
      this.timer = setInterval(() => this.listeners.emit(this.now()), this.tickIntervalMs);
      this.timer.unref();
    }
    return () => {
      off();
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }
}

/** A clock that moves only when told to. Time never goes backwards: that throws. */
export class ManualClock implements Clock {
  protected t: number;
  private readonly listeners = new TickListeners();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Sets the time; ticks listeners when it moved. Throws a `FeedError` if `t` is in the past. */
  set(t: number): void {
    if (!Number.isFinite(t)) throw new FeedError('invalid_option', `clock time must be finite (got ${t})`);
    if (t < this.t) {
      throw new FeedError('invalid_state', `clock cannot go backwards (from ${this.t} to ${t})`);
    }
    if (t === this.t) return;
    this.t = t;
    this.listeners.emit(t);
  }

  /** Moves the time forward by `ms` (>= 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new FeedError('invalid_option', `clock can only advance by ms >= 0 (got ${ms})`);
    this.set(this.t + ms);
  }

  onTick(listener: TickListener): () => void {
    return this.listeners.add(listener);
  }
}

/**
 * The clock a replay drives: it advances to each bar's end as the replay delivers bars. Unlike a
 * `ManualClock` it ignores a request to go backwards (a replay that loops restarts from the
 * beginning of its files and calls `reset`).
 */
export class ReplayClock extends ManualClock {
  private startTime: number;

  constructor(start = 0) {
    super(start);
    this.startTime = start;
  }

  /** Advances to `t` when `t` is later than now; returns whether time moved. */
  advanceTo(t: number): boolean {
    if (t <= this.now()) return false;
    this.set(t);
    return true;
  }

  /** Where the clock started (or was last reset to). */
  get origin(): number {
    return this.startTime;
  }

  /**
   * Starts a new timeline at `t` (a looping replay). Consumers that keep per-timeline state must be
   * reset too; the clock itself does not tick on reset.
   */
  reset(t: number): void {
    this.startTime = t;
    this.t = t;
  }
}
