import type { Listener, MarketSession, Unsubscribe } from '@feed/core';
import { MINUTE_MS, TypedEmitter, invalidOption, nyse } from '@feed/core';
import type { MultiSymbolDataManager } from './data-manager.js';

/** The sessions the events follow: `nyse` of `@feed/core`, or a calendar of the same shape. */
export interface SessionEventCalendar {
  /** The session open at `t` (open <= t < close), if any. */
  sessionAt(t: number): MarketSession | undefined;
  /** The first session that opens after `t` (strictly). */
  nextSession(t: number): MarketSession;
}

/** A clock move longer than this is a jump: the events in between are not emitted (four days: longer than any weekend). */
const JUMP_MS = 4 * 24 * 60 * MINUTE_MS;

/** A session event: the open, the configured time before the close, the close. */
export interface SessionEvent {
  readonly type: 'sessionOpen' | 'beforeClose' | 'sessionClose';
  readonly session: MarketSession;
  /** The instant it stands for (09:30, 15:58, 16:00 New York; 12:58 and 13:00 on an early close). */
  readonly at: number;
  /** Whole minutes from the open to `at`. */
  readonly minutesSinceOpen: number;
  /** Whole minutes from `at` to the close. */
  readonly minutesToClose: number;
}

/** Options of `SessionEvents`. */
export interface SessionEventsOptions {
  /** How long before the close `beforeClose` comes. @default 120000 (15:58; 12:58 on an early close) */
  readonly beforeCloseMs?: number;
  /** @default nyse (from `@feed/core`) */
  readonly calendar?: SessionEventCalendar;
}

/**
 * The session's open, `beforeClose` and close as events, at the data manager's boundaries so that
 * replay and live order them the same way against bars and slices (docs/semantics.md, "Session
 * events"): an event at instant E comes right after the slice whose boundary is at or after E, or
 * when the clock passes E plus the slice grace, whichever is first. Events before the first instant
 * the manager sees (a program started mid-session) are not emitted; `current()` says where in the
 * session that is. A replay across days emits each day's events, in order.
 */
export class SessionEvents {
  readonly #dm: MultiSymbolDataManager;
  readonly #calendar: SessionEventCalendar;
  readonly #beforeCloseMs: number;
  readonly #graceMs: number;
  readonly #emitter: TypedEmitter<SessionEvent>;
  readonly #off: Unsubscribe[];
  /** Events to come, in time order; filled a session at a time. */
  #queue: SessionEvent[] = [];
  /** The last instant seen (construction, a tick, a slice). */
  #seen: number;
  #lastSession: MarketSession | undefined;

  constructor(dm: MultiSymbolDataManager, options: SessionEventsOptions = {}) {
    const before = options.beforeCloseMs ?? 2 * MINUTE_MS;
    if (!Number.isFinite(before) || before < 0 || before > 390 * MINUTE_MS) throw invalidOption('beforeCloseMs', `must be from 0 to 23400000 ms (got ${String(before)})`);
    this.#dm = dm;
    this.#calendar = options.calendar ?? nyse;
    this.#beforeCloseMs = before;
    this.#graceMs = dm.options.sliceGraceMs;
    this.#emitter = new TypedEmitter<SessionEvent>((error) => {
      queueMicrotask(() => {
        throw error;
      });
    });
    this.#seen = dm.options.clock.now();
    this.#off = [dm.on('slice', ({ slice }) => this.#advance(slice.asOf)), dm.options.clock.onTick((now) => this.#advance(now - this.#graceMs))];
  }

  /** Subscribes to one kind of session event. */
  on(type: SessionEvent['type'], listener: Listener<SessionEvent>): Unsubscribe {
    return this.#emitter.on(type, listener);
  }

  /** Where the clock is in the session now: the session open at this instant, and the minutes since its open and to its close. */
  current(): { session: MarketSession; minutesSinceOpen: number; minutesToClose: number } | undefined {
    const now = this.#dm.options.clock.now();
    const s = this.#calendar.sessionAt(now);
    return s === undefined ? undefined : { session: s, minutesSinceOpen: Math.floor((now - s.open) / MINUTE_MS), minutesToClose: Math.ceil((s.close - now) / MINUTE_MS) };
  }

  /** Stops listening to the data manager and its clock. */
  dispose(): void {
    for (const off of this.#off) off();
  }

  #eventsOf(s: MarketSession): SessionEvent[] {
    const make = (type: SessionEvent['type'], at: number): SessionEvent =>
      Object.freeze({ type, session: s, at, minutesSinceOpen: Math.round((at - s.open) / MINUTE_MS), minutesToClose: Math.round((s.close - at) / MINUTE_MS) });
    return [make('sessionOpen', s.open), make('beforeClose', Math.max(s.open, s.close - this.#beforeCloseMs)), make('sessionClose', s.close)];
  }

  /** Emits every event due at or before `limit`. */
  #advance(limit: number): void {
    const now = this.#dm.options.clock.now();
    if (this.#lastSession === undefined || now - this.#seen > JUMP_MS) {
      // The first instant, or a clock that jumped (a replay's clock moving from 0 to its first bar,
      // weeks without data): events from here on. Landing within the first minute of a session
      // counts its open (a replay's clock lands on the first bar's start or on its end, both
      // before that bar is delivered).
      let from = this.#lastSession === undefined && now - this.#seen <= JUMP_MS ? this.#seen : now;
      const landed = this.#calendar.sessionAt(from);
      if (landed !== undefined && from - landed.open <= this.#dm.options.intervalMs) from = landed.open;
      const s = landed ?? this.#calendar.nextSession(from);
      this.#lastSession = s;
      this.#queue = this.#eventsOf(s).filter((e) => e.at >= from);
    }
    this.#seen = Math.max(this.#seen, now);
    for (;;) {
      if (this.#queue.length === 0) {
        const s = this.#calendar.nextSession(this.#lastSession.open);
        if (s.open > limit) return;
        this.#lastSession = s;
        this.#queue = this.#eventsOf(s);
      }
      const e = this.#queue[0] as SessionEvent;
      if (e.at > limit) return;
      this.#queue.shift();
      this.#emitter.emit(e);
    }
  }
}
