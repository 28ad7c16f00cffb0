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
  /**
   * Calls `fn` once, `delayMs` from now on this clock; returns the function that cancels it (a no-op
   * once it ran). Every timer of the feed packages goes through here, so a `ManualClock` drives
   * backoff, keep-alive, watchdog and timeouts in tests without real waiting. `SystemClock` timers
   * are Node timers: a pending one keeps the process alive, as `setTimeout` does (a paced replay, a
   * backoff between two connection attempts).
   */
  setTimer(delayMs: number, fn: () => void): CancelTimer;
}

/** Cancels a timer set with `Clock.setTimer`; calling it again, or after the timer ran, does nothing. */
export type CancelTimer = () => void;

/**
 * Resolves after `ms` of `clock` time, or rejects with a `FeedError` `aborted` as soon as `signal`
 * aborts (at once when it already has). The timer is cancelled on abort.
 */
export function sleep(clock: Pick<Clock, 'setTimer'>, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(abortError(signal as AbortSignal));
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): FeedError {
  const reason: unknown = signal.reason;
  if (FeedError.isInstance(reason)) return reason;
  return new FeedError({ code: 'aborted', message: 'aborted', cause: reason });
}

/**
 * An `AbortSignal` that aborts after `ms` of `clock` time (with a `FeedError` `timeout` naming what
 * timed out), or when `parent` aborts. `dispose()` cancels the timer and detaches from the parent.
 */
export function timeoutSignal(
  clock: Pick<Clock, 'setTimer'>,
  ms: number,
  what: string,
  parent?: AbortSignal,
): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onParent = (): void => controller.abort(parent?.reason);
  const cancel = Number.isFinite(ms)
    ? clock.setTimer(ms, () => {
        parent?.removeEventListener('abort', onParent);
        controller.abort(new FeedError({ code: 'timeout', message: `${what} timed out after ${ms} ms` }));
      })
    : () => undefined;
  if (parent !== undefined) {
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      cancel();
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/**
 * Lets the event loop run I/O and other callbacks before continuing (a replay at full speed yields
 * every few thousand bars so `stop()` still gets in). Not a timer: it waits for no time.
 */
export function yieldToEventLoop(): Promise<void> {
  // eslint-disable-next-line no-restricted-globals -- a turn of the event loop, not a wait for time
  return new Promise((resolve) => setImmediate(resolve));
}

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * The timers of a clock whose time is moved by hand, due in (time, creation) order. A binary heap:
 * a reconnect storm or a soak sets thousands of timers, most of them cancelled.
 */
class TimerQueue {
  private heap: PendingTimer[] = [];
  private seq = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  add(at: number, fn: () => void): CancelTimer {
    const t: PendingTimer = { at, seq: this.seq++, fn, cancelled: false };
    this.push(t);
    this.live++;
    return () => {
      if (t.cancelled) return;
      t.cancelled = true;
      this.live--;
    };
  }

  /** The due time of the earliest live timer. */
  peek(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Removes and returns the earliest live timer due at or before `t`. */
  takeDue(t: number): PendingTimer | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.at > t) return undefined;
    this.pop();
    top.cancelled = true;
    this.live--;
    return top;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && (this.heap[0] as PendingTimer).cancelled) this.pop();
  }

  private less(a: PendingTimer, b: PendingTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: PendingTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as PendingTimer, h[p] as PendingTimer)) break;
      [h[i], h[p]] = [h[p] as PendingTimer, h[i] as PendingTimer];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as PendingTimer;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as PendingTimer, h[m] as PendingTimer)) m = l;
      if (r < h.length && this.less(h[r] as PendingTimer, h[m] as PendingTimer)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as PendingTimer, h[i] as PendingTimer];
      i = m;
    }
  }
}

function checkDelay(delayMs: number): number {
  if (!(delayMs >= 0)) throw new FeedError({ code: 'invalid_option', message: `timer delay must be a number >= 0 (got ${delayMs})` });
  return delayMs;
}

/** Node's timers overflow past 2^31-1 ms (about 24.8 days) and fire at once; longer waits are chained. */
const MAX_NODE_DELAY_MS = 2_147_483_647;

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

/** Options of `SystemClock`. */
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

  setTimer(delayMs: number, fn: () => void): CancelTimer {
    const due = this.now() + checkDelay(delayMs);
    let handle: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number): void => {
      // eslint-disable-next-line no-restricted-globals -- the system clock's own timers
      handle = setTimeout(() => {
        const left = due - this.now();
        if (left > 0 && ms >= MAX_NODE_DELAY_MS) arm(Math.min(left, MAX_NODE_DELAY_MS));
        else {
          handle = undefined;
          fn();
        }
      }, ms);
    };
    arm(Math.min(delayMs, MAX_NODE_DELAY_MS));
    return () => {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    };
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

/**
 * A clock that moves only when told to. Time never goes backwards: that throws. Its timers fire in
 * time order as time is set forward: for each due timer the clock first moves to the timer's time
 * (ticking its listeners), so a callback reads the time it was due at.
 */
export class ManualClock implements Clock {
  protected t: number;
  private readonly listeners = new TickListeners();
  private readonly timers = new TimerQueue();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Sets the time; ticks listeners when it moved. Throws a `FeedError` if `t` is in the past. */
  set(t: number): void {
    if (!Number.isFinite(t)) throw new FeedError({ code: 'invalid_option', message: `clock time must be finite (got ${t})` });
    if (t < this.t) {
      throw new FeedError({ code: 'invalid_state', message: `clock cannot go backwards (from ${this.t} to ${t})` });
    }
    this.fireUntil(t);
    if (t === this.t) return;
    this.t = t;
    this.listeners.emit(t);
  }

  /** Runs the timers due at or before `t` in order, moving time to each; a timer may set more. */
  private fireUntil(t: number): void {
    for (let due = this.timers.takeDue(t); due !== undefined; due = this.timers.takeDue(t)) {
      if (due.at > this.t) {
        this.t = due.at;
        this.listeners.emit(due.at);
      }
      due.fn();
    }
  }

  setTimer(delayMs: number, fn: () => void): CancelTimer {
    return this.timers.add(this.t + checkDelay(delayMs), fn);
  }

  /** Timers set and neither run nor cancelled (for tests and leak checks). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the next timer is due, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    return this.timers.peek();
  }

  /** Moves to the next timer's time and runs it (and any due with it); false when none is pending. */
  runNextTimer(): boolean {
    const at = this.timers.peek();
    if (at === undefined) return false;
    this.set(Math.max(at, this.t));
    return true;
  }

  /** Moves the time forward by `ms` (>= 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new FeedError({ code: 'invalid_option', message: `clock can only advance by ms >= 0 (got ${ms})` });
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
