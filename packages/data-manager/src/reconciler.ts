import type { HistoricalBars, Listener, Unsubscribe } from '@feed/core';
import { FeedError, TypedEmitter, invalidOption } from '@feed/core';
import type { ReconcileReport } from './coverage.js';
import type { MultiSymbolDataManager } from './data-manager.js';
import type { SessionEventCalendar } from './session-events.js';
import { SessionEvents } from './session-events.js';

/** Options of `EndOfDayReconciler`. */
export interface EndOfDayOptions {
  /** The provider's REST history (`AlpacaHistoricalClient`, `PolygonHistoricalClient`) or any `HistoricalBars`. */
  readonly history: HistoricalBars;
  /**
   * How long after the close to ask, in milliseconds of the manager's clock (a provider's history
   * settles a few minutes after the close: late trades, corrections).
   * @default 300000
   */
  readonly delayMs?: number;
  /** @default nyse (from `@feed/core`) */
  readonly calendar?: SessionEventCalendar;
}

/** What the reconciler emits: a session's report, or why it could not be made. */
export type EndOfDayEvent = { readonly type: 'reconciled'; readonly report: ReconcileReport } | { readonly type: 'error'; readonly error: FeedError };

/**
 * The end-of-day reconciliation, opt-in (docs/semantics.md, "Coverage"): `delayMs` after each
 * session's close (on the manager's clock, so in replay too), asks `history` for the session's bars
 * through `dm.reconcile()` and emits the minutes it has that the stream missed (`reconciled`; also in
 * `dm.coverage()` as `missedByStream`). A failed request is an `error` event, never thrown.
 */
export class EndOfDayReconciler {
  readonly #dm: MultiSymbolDataManager;
  readonly #events: SessionEvents;
  readonly #emitter: TypedEmitter<EndOfDayEvent>;
  readonly #reports: ReconcileReport[] = [];
  readonly #timers = new Set<() => void>();
  #pending = 0;
  #idle: (() => void)[] = [];

  constructor(dm: MultiSymbolDataManager, options: EndOfDayOptions) {
    const delay = options.delayMs ?? 300_000;
    if (!Number.isFinite(delay) || delay < 0) throw invalidOption('delayMs', `must be a number of milliseconds >= 0 (got ${String(delay)})`);
    this.#dm = dm;
    this.#emitter = new TypedEmitter<EndOfDayEvent>((error) => {
      queueMicrotask(() => {
        throw error;
      });
    });
    this.#events = new SessionEvents(dm, options.calendar === undefined ? {} : { calendar: options.calendar });
    this.#events.on('sessionClose', ({ session }) => {
      this.#pending++;
      const cancel = dm.options.clock.setTimer(delay, () => {
        this.#timers.delete(cancel);
        void this.#run(options.history, session.open);
      });
      this.#timers.add(cancel);
    });
  }

  /** Subscribes to reports (`reconciled`) or failures (`error`). */
  on<T extends EndOfDayEvent['type']>(type: T, listener: Listener<Extract<EndOfDayEvent, { type: T }>>): Unsubscribe {
    return this.#emitter.on(type, listener);
  }

  /** Every report so far, oldest first. */
  reports(): readonly ReconcileReport[] {
    return this.#reports;
  }

  /** Resolves once every reconciliation asked for so far has ended (for tests and orderly shutdowns). */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops: no further reconciliation; one waiting for its delay is cancelled. */
  dispose(): void {
    this.#events.dispose();
    for (const cancel of this.#timers) cancel();
    this.#pending -= this.#timers.size;
    this.#timers.clear();
    this.#settle();
  }

  async #run(history: HistoricalBars, at: number): Promise<void> {
    try {
      const report = await this.#dm.reconcile(history, { at });
      this.#reports.push(report);
      this.#emitter.emit({ type: 'reconciled', report });
    } catch (error) {
      const e = FeedError.isInstance(error) ? error : new FeedError({ code: 'provider', message: `end-of-day reconciliation failed: ${String(error)}`, cause: error });
      this.#emitter.emit({ type: 'error', error: e });
    } finally {
      this.#pending--;
      this.#settle();
    }
  }

  #settle(): void {
    if (this.#pending > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
  }
}
