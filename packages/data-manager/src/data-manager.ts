import type { Bar, BarEvent, BarFeed, Clock, BarSource, CorporateAction, HistoricalBars, Listener, RejectReason, ResolvedValidationRules, Subscription, TradingStatus, Unsubscribe, ValidationContext } from '@feed/core';
import { FeedError, REJECT_REASONS, TypedEmitter, actionKey, checkBar, exDateStart, isFrozenBar } from '@feed/core';
import type { CoverageCalendar, CoverageRecord, ReconcileReport, SessionCoverage } from './coverage.js';
import { CoverageTracker, hasBit } from './coverage.js';
import { HaltLog } from './halts.js';
import { HistoryRing, RingStore } from './history-ring.js';
import type { DataManagerOptions, MarketHours, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';
import { SliceSchedule } from './slice-schedule.js';
import type { SnapshotLayout, SnapshotSummary } from './snapshot.js';
import type { Page } from './snapshot.js';
import { PAGE_BITS, SnapshotView, capturePages } from './snapshot.js';

const PAGE_SIZE = 1 << PAGE_BITS;
import {
  ACCEPTED as F_ACCEPTED,
  AGE_COUNT,
  AGE_SUM,
  CORPORATE_ACTIONS,
  DUPLICATES,
  FORWARD_FILLED,
  HALTED_SLICES,
  INVALID_SLICES,
  LATE_BARS,
  LATENCY_MAX,
  LATENCY_SUM,
  LATEST_START,
  NUM_FIELDS,
  RECOVERED,
  REVISIONS,
  SymbolStats,
  WARMUP_OTHER,
  WARMUP_BARS,
} from './symbol-stats.js';
import type { DataManagerEvent, QualityStats, SliceEvent, Snapshot, SymbolQuality, UpdateResult, UpdateSummary } from './types.js';

const ACCEPTED: UpdateResult = Object.freeze({ status: 'accepted' });
const DUPLICATE: UpdateResult = Object.freeze({ status: 'duplicate' });
const REVISION: UpdateResult = Object.freeze({ status: 'revision' });
// One frozen result per reason: update() allocates nothing to report.
const REJECTED = Object.freeze(
  Object.fromEntries(REJECT_REASONS.map((reason) => [reason, Object.freeze({ status: 'rejected', reason })])),
) as Readonly<Record<RejectReason, UpdateResult>>;

/** Keep at most this many distinct unknown symbol names in the statistics (a flood cannot grow memory). */
const MAX_UNKNOWN_NAMES = 1000;



/**
 * Emits the slice closing at `end` (the class sets it: `emitSlice` stays private). One function for
 * every manager, where a closure per manager would make the optimized code of the hot path depend
 * on one manager's closure (and be thrown away with it).
 */
let emitSliceOf: (dm: MultiSymbolDataManager, end: number, complete: boolean) => void;

/**
 * The multi-symbol data manager (semantics.md): never waits for all symbols, weights stale data
 * down, forward-fills missing symbols, keeps a history ring per symbol, tracks data quality, and
 * emits one slice per closed minute boundary. Time comes only from the injected `Clock`, so replay
 * and live run the same code.
 *
 * Layout: a dense index per symbol (one `Map` lookup per bar); the history rings (`history-ring.ts`),
 * the counters (`symbol-stats.ts`, one field table), when slices close (`slice-schedule.ts`) and the
 * snapshot views (`snapshot.ts`) each in their own module.
 */
export class MultiSymbolDataManager {
  static {
    emitSliceOf = (dm, end, complete) => dm.emitSlice(end, complete);
  }

  readonly options: ResolvedOptions;
  private readonly index = new Map<string, number>();
  /** The symbols by index, and the index `update` tries first (the one after the last bar's symbol). */
  private readonly names: string[] = [];
  private nextGuess = 0;
  private readonly rings: HistoryRing[] = [];
  /**
   * Per symbol, the object of its newest stored bar, for snapshots to hold without copying: the
   * caller's when frozen by construction (`isFrozenBar`: every feed's bars are); any other is
   * replaced, on first need, by a frozen copy of what the ring stored (`newest`).
   */
  private readonly latest: (Bar | undefined)[] = [];
  private readonly counters: SymbolStats;
  private readonly num: Float64Array;
  private readonly rules: ResolvedValidationRules;
  private readonly ctx: { now: number } & ValidationContext = { now: 0 };
  private readonly calendar: MarketHours;
  /** `options.clock`, read once a bar: a field, not an option lookup. */
  private readonly clock: Clock;
  private readonly emitter: TypedEmitter<DataManagerEvent>;
  private readonly schedule: SliceSchedule<MultiSymbolDataManager>;
  private readonly layout: SnapshotLayout;
  /** The summary of every complete slice (see `captureComplete`): the same numbers each time, shared by their views. */
  private readonly completeSummary: SnapshotSummary;
  private slicesEmitted = 0;
  /** The latest end of any bar stored (by `update` or `warmUp`): a complete slice at `end` needs it to be `end`. */
  private maxEnd = Number.NEGATIVE_INFINITY;
  /**
   * The slice subscriptions (the emitter's array, taken again at each subscribe and unsubscribe): a
   * closed minute asks whether anyone listens with a field, and delivers with a loop of its own.
   */
  private sliceSubs: readonly Subscription<SliceEvent>[] = [];
  /** Where a listener's throw goes (the emitter's handler too). */
  private readonly listenerError: (error: unknown, event: DataManagerEvent) => void;
  private readonly unknown = new Map<string, number>();
  private unknownTotal = 0;
  private invalidInputs = 0;
  private memoEnd = Number.NaN;
  private memoAsOf = Number.NaN;
  private memoFill = 0;
  private readonly offTick: Unsubscribe;
  /** Per symbol, its trading statuses' halts and resumptions (undefined until its first status). */
  private readonly halts: (HaltLog | undefined)[] = [];
  /** How many symbols have had a status: 0 keeps snapshots free of any halt work. */
  private haltSymbols = 0;
  private unknownStatuses = 0;
  /** Corporate actions applied, by key: each once. */
  private readonly appliedActions = new Set<string>();
  /** Which minutes of each session had a bar (undefined: the calendar has no sessions). */
  private readonly coverageTracker: CoverageTracker;
  /** `maxPriceJump`, read once a bar: a field, not an option lookup. */
  private readonly maxJump: number | undefined;
  /**
   * The value rules as `update` reads them, unboxed: [lowest price (> 0), highest price, 1 + tolerance,
   * 1 - tolerance, interval, oldest age]. The rules object's fields are boxed numbers, a load more each.
   */
  private readonly limits: Float64Array;

  constructor(options: DataManagerOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.rules = {
      intervalMs: o.intervalMs,
      minPrice: o.minPrice,
      maxPrice: o.maxPrice,
      ohlcTolerance: o.ohlcTolerance,
      maxBarAgeMs: o.maxBarAgeMs,
    };
    this.limits = Float64Array.of(o.minPrice > 0 ? o.minPrice : Number.MIN_VALUE, o.maxPrice, 1 + o.ohlcTolerance, 1 - o.ohlcTolerance, o.intervalMs, o.maxBarAgeMs);
    this.calendar = o.calendar;
    this.clock = o.clock;
    const store = new RingStore(o.historySize, o.symbols.length);
    for (const s of o.symbols) {
      this.index.set(s, this.rings.length);
      this.names.push(s);
      this.rings.push(new HistoryRing(store, this.rings.length, s, o.intervalMs));
      this.latest.push(undefined);
    }
    this.counters = new SymbolStats(o.symbols.length);
    this.num = this.counters.num;
    this.layout = {
      symbols: o.symbols,
      indexOf: this.index,
      intervalMs: o.intervalMs,
      stalenessTauMs: o.stalenessTauMs,
      maxForwardFills: o.maxForwardFills,
      maxStalenessMs: o.maxStalenessMs,
    };
    this.completeSummary = { forwardFilled: 0, validCount: o.symbols.length, complete: true, avgAgeMs: 0, usable: o.usableMaxAgeMs > 0 };
    this.schedule = new SliceSchedule<MultiSymbolDataManager>(o.symbols.length, o.sliceGraceMs, this, emitSliceOf);
    this.listenerError = (error, event) => {
      if (event.type !== 'error' && this.emitter.listenerCount('error') > 0) {
        this.emitter.emit({ type: 'error', error: error instanceof Error ? error : new Error(String(error)) });
        return;
      }
      // No one to tell: surface it rather than swallow it. The manager's state is already consistent.
      queueMicrotask(() => {
        throw error;
      });
    };
    this.emitter = new TypedEmitter<DataManagerEvent>(this.listenerError);
    this.offTick = o.clock.onTick((now) => this.schedule.close(now));
    const sessions = o.calendar as Partial<CoverageCalendar>;
    this.coverageTracker = new CoverageTracker(typeof sessions.sessionAt === 'function' ? (sessions as CoverageCalendar) : undefined, o.symbols.length, o.intervalMs, o.coverageSessions);
    this.maxJump = o.maxPriceJump;
  }

  /** The tracked symbols, in order. */
  get symbols(): readonly string[] {
    return this.options.symbols;
  }

  /**
   * Subscribes to slices (`'slice'`), rejected bars (`'rejected'`), revisions (`'revision'`), halts
   * and resumptions (`'halt'`), every trading status (`'tradingStatus'`), warm-ups (`'warmup'`) or
   * listener errors (`'error'`).
   */
  on<T extends DataManagerEvent['type']>(type: T, listener: Listener<Extract<DataManagerEvent, { type: T }>>): Unsubscribe {
    const off = this.emitter.on(type, listener);
    if (type !== 'slice') return off;
    this.sliceSubs = this.emitter.subscriptions('slice');
    return () => {
      off();
      this.sliceSubs = this.emitter.subscriptions('slice');
    };
  }

  /**
   * Feeds every bar of `feed` into the manager. Returns the detach function. Switching a program
   * between replay and live changes only the line that builds the feed. A `BarFeed` (every feed of
   * these packages) also hands over its trading statuses (`updateStatus`), its warm-up
   * (`warmUp`), and which bars a gap fill recovered (counted in `recoveredBars` and `coverage()`).
   */
  attach(feed: BarSource | BarFeed): Unsubscribe {
    const offBar = feed.on('bar', (e: BarEvent) => {
      if (e.recovered === true) this.updateRecovered(e.bar);
      else this.update(e.bar);
    });
    if (!isFeed(feed)) return offBar;
    const offStatus = feed.on('tradingStatus', (e) => this.updateStatus(e.status));
    const offWarmUp = feed.on('warmup', (e) => {
      this.warmUp(e.bars);
    });
    const offAction = feed.on('corporateAction', (e) => {
      this.applyCorporateAction(e.action, { late: e.late });
    });
    return () => {
      offBar();
      offStatus();
      offWarmUp();
      offAction();
    };
  }

  /**
   * Applies a corporate action to a tracked symbol's history (a feed announces it before the first
   * bar of its ex-date, and `attach` applies it): every stored bar before the ex-date is rebased to
   * the new basis (a split: prices divided by the ratio, volumes multiplied; a dividend: prices times
   * `1 - amount / priceBefore`, the close before the ex-date when not given), so indicators over
   * history stay continuous and `maxPriceJump` does not reject the first bar on the new basis. Each
   * action is applied once (a repeat is ignored and returns `undefined`). Counted in
   * `corporateActions`; emits `corporateAction`. `late`: bars of the ex-date were stored before it
   * (they are on the new basis already: only the bars before the ex-date change).
   */
  applyCorporateAction(action: CorporateAction, options: { late?: boolean } = {}): { rebased: number; priceFactor: number; volumeFactor: number; unpriced: boolean } | undefined {
    const i = this.index.get(action.symbol);
    if (i === undefined) return undefined;
    const key = actionKey(action);
    if (this.appliedActions.has(key)) return undefined;
    this.appliedActions.add(key);
    const ring = this.rings[i] as HistoryRing;
    const at = exDateStart(action.exDate);
    let priceFactor = 1;
    let volumeFactor = 1;
    let unpriced = false;
    if (action.kind === 'cash_dividend') {
      let before = action.priceBefore;
      if (before === undefined) {
        const j = ring.lastEndingBy(at);
        if (j >= 0) before = ring.closeAt(j);
      }
      if (before === undefined || !(before > (action.amount as number))) unpriced = true;
      else priceFactor = 1 - (action.amount as number) / before;
    } else {
      priceFactor = 1 / (action.ratio as number);
      volumeFactor = action.ratio as number;
    }
    const rebased = unpriced ? 0 : ring.scaleBefore(at, priceFactor, volumeFactor);
    // The newest bar object a snapshot would hold was rebased: it is rebuilt from the ring on next need.
    if (rebased > 0 && ring.barStart(ring.size - 1) < at) this.latest[i] = undefined;
    const late = options.late === true || (ring.size > 0 && ring.barStart(ring.size - 1) >= at);
    const k = i * NUM_FIELDS + CORPORATE_ACTIONS;
    this.num[k] = (this.num[k] as number) + 1;
    if (this.emitter.listenerCount('corporateAction') > 0) this.emitter.emit({ type: 'corporateAction', action, priceFactor, volumeFactor, rebased, late, unpriced });
    return { rebased, priceFactor, volumeFactor, unpriced };
  }

  /** Applies a bar a gap fill recovered (REST, not the stream): as `update`, and counted as recovered. */
  updateRecovered(bar: Bar): UpdateResult {
    const r = this.update(bar);
    if (r === ACCEPTED) {
      const i = this.index.get(bar.symbol) as number;
      const k = i * NUM_FIELDS + RECOVERED;
      this.num[k] = (this.num[k] as number) + 1;
      this.coverageTracker.mark(i, bar.start, true);
    }
    return r;
  }

  /**
   * Loads history before the live bars (a feed's `warmUp()` hands its bars here through `attach`):
   * each bar is checked as `update` checks it, except for its age (a warm-up reaches back weeks), and
   * stored in the history rings in order; no slice is emitted for it. Bars no newer than a symbol's
   * latest are duplicates, revisions or out of order, as for `update`. Counted in `warmUpBars`; a
   * `warmup` event follows (N-minute aggregators build their bars of the range from it).
   */
  warmUp(bars: Iterable<Bar>): UpdateSummary {
    const summary: UpdateSummary = { accepted: 0, duplicates: 0, revisions: 0, rejected: 0 };
    const counts: Record<string, number> = {};
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    const ctx = { now: 0 };
    for (const bar of bars) {
      const i = typeof bar === 'object' && bar !== null ? this.index.get(bar.symbol) : undefined;
      if (i === undefined) {
        summary.rejected++;
        continue;
      }
      // Its age is not judged: the bar is taken as of its own end.
      ctx.now = bar.end;
      const rejection = checkBar(bar, this.rules, ctx);
      if (rejection !== undefined) {
        this.reject(i, bar, rejection.reason);
        this.num[i * NUM_FIELDS + WARMUP_OTHER] = (this.num[i * NUM_FIELDS + WARMUP_OTHER] as number) + 1;
        summary.rejected++;
        continue;
      }
      const k = i * NUM_FIELDS;
      const ring = this.rings[i] as HistoryRing;
      if (bar.start <= (this.num[k + LATEST_START] as number)) {
        const r = this.updateExisting(i, ring, bar);
        this.num[k + WARMUP_OTHER] = (this.num[k + WARMUP_OTHER] as number) + 1;
        if (r === DUPLICATE) summary.duplicates++;
        else if (r === REVISION) summary.revisions++;
        else summary.rejected++;
        continue;
      }
      ring.push(bar);
      this.latest[i] = isFrozenBar(bar) ? bar : undefined;
      if (bar.end > this.maxEnd) this.maxEnd = bar.end;
      this.num[k + LATEST_START] = bar.start;
      this.num[k + WARMUP_BARS] = (this.num[k + WARMUP_BARS] as number) + 1;
      this.coverageTracker.mark(i, bar.start, true);
      summary.accepted++;
      counts[bar.symbol] = (counts[bar.symbol] ?? 0) + 1;
      if (bar.start < from) from = bar.start;
      if (bar.start > to) to = bar.start;
    }
    if (summary.accepted > 0 && this.emitter.listenerCount('warmup') > 0) this.emitter.emit({ type: 'warmup', from, to, counts });
    return summary;
  }

  /**
   * Files a trading status (a halt, a pause, a resumption, an LULD band) of a tracked symbol by its
   * own time `at`: a snapshot at any `asOf` marks the symbol halted while a halt is in force. Emits
   * `tradingStatus`, and `halt` when it changes the symbol's halted state. A status for an untracked
   * symbol is counted (`stats().unknownStatuses`) and dropped.
   */
  updateStatus(status: TradingStatus): void {
    const i = this.index.get(status.symbol);
    if (i === undefined) {
      this.unknownStatuses++;
      return;
    }
    let log = this.halts[i];
    if (log === undefined) {
      log = new HaltLog();
      this.halts[i] = log;
      this.haltSymbols++;
    }
    const changed = log.add(status);
    if (this.emitter.listenerCount('tradingStatus') > 0) this.emitter.emit({ type: 'tradingStatus', status });
    if (changed && this.emitter.listenerCount('halt') > 0) this.emitter.emit({ type: 'halt', symbol: status.symbol, halted: status.effect === 'halt', status });
  }

  /** The newest trading status of `symbol` (a halt, a resumption, a band), or `undefined`. */
  tradingStatus(symbol: string): TradingStatus | undefined {
    return this.halts[this.indexOf(symbol)]?.last;
  }

  /** Whether a halt of `symbol` is in force at `at` (default: the clock's now). */
  isHalted(symbol: string, at: number = this.options.clock.now()): boolean {
    return this.halts[this.indexOf(symbol)]?.haltedAt(at) ?? false;
  }

  /** Stops listening to the clock. The manager still answers reads. */
  dispose(): void {
    this.offTick();
  }

  /**
   * Applies one bar. Never throws on bad data: returns accepted, duplicate, revision, or rejected
   * with a reason, and counts it. O(1) whatever the number of symbols (a revision of an older bar
   * costs a binary search of its history).
   */
  update(bar: Bar): UpdateResult {
    // The hot path: every branch a bar of a healthy feed does not take calls out, so that this stays
    // small enough for the compiler to inline the ring write and the schedule's count into it.
    if (typeof bar !== 'object' || bar === null) return this.invalidInput();
    // Feeds deliver the symbols of a minute in the same order every minute: the symbol after the
    // last one is tried first (one string comparison), the map otherwise.
    let i: number | undefined = this.nextGuess;
    if (this.names[i] !== bar.symbol) {
      i = this.locate(bar.symbol, i);
      if (i < 0) return this.unknownSymbol(bar);
    }
    const num = this.num;
    const k = i * NUM_FIELDS;
    this.nextGuess = i + 1 < this.names.length ? i + 1 : 0;
    const now = this.clock.now();
    // Every field read once: the check and the ring's copy use the same numbers.
    const start = bar.start;
    const end = bar.end;
    const open = bar.open;
    const high = bar.high;
    const low = bar.low;
    const close = bar.close;
    const volume = bar.volume;
    const vwap = bar.vwap;
    const trades = bar.tradeCount;
    // Every value rule of core's checkBar as one expression, stricter at a few edges (core's
    // passesFast, written out here: inlined as a call it measured 8-17 % slower, its frame state
    // keeping eleven values live). A bar it does not pass goes to checkBar for the verdict and the
    // reason; a property test holds update's verdict to checkBar's on bars with random faults.
    const lim = this.limits;
    const min = lim[0] as number;
    const max = lim[1] as number;
    const interval = lim[4] as number;
    if (
      !(
        typeof open === 'number' &&
        typeof high === 'number' &&
        typeof low === 'number' &&
        typeof close === 'number' &&
        typeof volume === 'number' &&
        typeof start === 'number' &&
        typeof end === 'number' &&
        // In [min, max] with min > 0: finite and positive (a NaN fails every comparison).
        open >= min &&
        open <= max &&
        high >= min &&
        high <= max &&
        low >= min &&
        low <= max &&
        close >= min &&
        close <= max &&
        volume >= 0 &&
        volume < Number.POSITIVE_INFINITY &&
        (vwap === undefined || (typeof vwap === 'number' && vwap - vwap === 0)) &&
        (trades === undefined || (Number.isInteger(trades) && trades >= 0)) &&
        low <= (open < close ? open : close) * (lim[2] as number) &&
        high >= (open > close ? open : close) * (lim[3] as number) &&
        low <= high * (lim[2] as number) &&
        // A finite start on the grid, one interval long, neither ahead of the clock nor too old.
        end - start === interval &&
        start - Math.floor(start / interval) * interval === 0 &&
        start <= now + interval &&
        now - start <= (lim[5] as number)
      )
    ) {
      const rejected = this.checkSlow(i, bar, now);
      if (rejected !== undefined) return rejected;
    }
    if (start <= (num[k + LATEST_START] as number)) return this.updateExisting(i, this.rings[i] as HistoryRing, bar);
    if (this.maxJump !== undefined && this.jumps(i, bar)) return this.reject(i, bar, 'price_jump');

    // The ring copies the numbers: later changes to the caller's object cannot reach stored data.
    const receivedAt = bar.receivedAt;
    (this.rings[i] as HistoryRing).pushValues(start, open, high, low, close, volume, vwap ?? Number.NaN, trades ?? -1, receivedAt);
    this.latest[i] = isFrozenBar(bar) ? bar : undefined;
    num[k + LATEST_START] = start;
    // Accepted bars: their count is also the latency's count.
    num[k + F_ACCEPTED] = (num[k + F_ACCEPTED] as number) + 1;
    const latency = receivedAt - end;
    num[k + LATENCY_SUM] = (num[k + LATENCY_SUM] as number) + latency;
    if (latency > (num[k + LATENCY_MAX] as number)) num[k + LATENCY_MAX] = latency;

    if (end > this.maxEnd) this.maxEnd = end;
    const schedule = this.schedule;
    if (end <= schedule.lastEmitted) this.lateBar(i, start);
    else schedule.count(end);
    // The bar's own boundary waits for the other symbols' bars of the same minute even when its grace
    // has passed (a burst of late bars, a gap fill): they come next, in the same synchronous run. A
    // later bar or the next tick closes it. Without this, live and replay slices differ after a gap.
    if (schedule.mayClose(now)) schedule.close(now, end);
    return ACCEPTED;
  }

  /**
   * The index of `symbol` when it is not the guessed one: the symbol after it first (a replay skips a
   * symbol without a bar that minute), then the map; -1 when untracked.
   */
  private locate(symbol: string, guess: number): number {
    const next = guess + 1 < this.names.length ? guess + 1 : 0;
    if (this.names[next] === symbol) return next;
    return this.index.get(symbol) ?? -1;
  }

  /** Not an object: counted in the total only. */
  private invalidInput(): UpdateResult {
    this.invalidInputs++;
    return REJECTED.invalid_shape;
  }

  /** A bar of an untracked symbol: counted by name (at most `MAX_UNKNOWN_NAMES` names kept). */
  private unknownSymbol(bar: Bar): UpdateResult {
    this.unknownTotal++;
    const name = String(bar.symbol);
    const n = this.unknown.get(name);
    if (n !== undefined) this.unknown.set(name, n + 1);
    else if (this.unknown.size < MAX_UNKNOWN_NAMES) this.unknown.set(name, 1);
    this.emitReject(bar, 'unknown_symbol');
    return REJECTED.unknown_symbol;
  }

  /** The full check, when the fast one said no: the rejection (counted), or undefined when the bar passes after all. */
  private checkSlow(i: number, bar: Bar, now: number): UpdateResult | undefined {
    this.ctx.now = now;
    const rejection = checkBar(bar, this.rules, this.ctx);
    return rejection === undefined ? undefined : this.reject(i, bar, rejection.reason);
  }

  /** Whether `bar` opens further from symbol `i`'s last close than `maxPriceJump` allows. */
  private jumps(i: number, bar: Bar): boolean {
    const ring = this.rings[i] as HistoryRing;
    if (ring.size === 0) return false;
    const last = ring.closeAt(ring.size - 1);
    return Math.abs(bar.open / last - 1) > (this.maxJump as number);
  }

  /** A bar whose slice was already emitted: counted late, and its minute marked covered now. */
  private lateBar(i: number, start: number): void {
    const k = i * NUM_FIELDS + LATE_BARS;
    this.num[k] = (this.num[k] as number) + 1;
    // Coverage is marked as slices close; a bar after its slice is marked now.
    this.coverageTracker.mark(i, start, false);
  }

  /** Applies a batch in order; returns how many of each outcome. */
  updateAll(bars: Iterable<Bar>): UpdateSummary {
    const summary: UpdateSummary = { accepted: 0, duplicates: 0, revisions: 0, rejected: 0 };
    for (const bar of bars) {
      const r = this.update(bar);
      if (r === ACCEPTED) summary.accepted++;
      else if (r === DUPLICATE) summary.duplicates++;
      else if (r === REVISION) summary.revisions++;
      else summary.rejected++;
    }
    return summary;
  }

  /** A bar whose start is not after the latest: a duplicate, a revision, or out of order. */
  private updateExisting(i: number, ring: HistoryRing, bar: Bar): UpdateResult {
    const k = i * NUM_FIELDS;
    const at = bar.start === this.num[k + LATEST_START] ? ring.size - 1 : ring.indexOf(bar.start);
    if (at < 0) return this.reject(i, bar, 'out_of_order');
    if (ring.sameAt(at, bar)) {
      this.num[k + DUPLICATES] = (this.num[k + DUPLICATES] as number) + 1;
      return DUPLICATE;
    }
    // A revision (Alpaca's updatedBars, ~30 s after the minute): it replaces the stored bar in
    // place. A slice already emitted is not emitted again (it holds a copy of the old numbers).
    ring.replace(at, bar);
    if (at === ring.size - 1) this.latest[i] = isFrozenBar(bar) ? bar : undefined;
    this.num[k + REVISIONS] = (this.num[k + REVISIONS] as number) + 1;
    if (this.emitter.listenerCount('revision') > 0) this.emitter.emit({ type: 'revision', bar: ring.get(at) });
    return REVISION;
  }

  private reject(i: number, bar: Bar, reason: RejectReason): UpdateResult {
    this.counters.reject(i, reason);
    this.emitReject(bar, reason);
    return REJECTED[reason];
  }

  private emitReject(bar: Bar, reason: RejectReason): void {
    if (this.emitter.listenerCount('rejected') > 0) this.emitter.emit({ type: 'rejected', bar, reason });
  }

  /**
   * Counts the slice in every symbol's statistics and, when someone listens, emits it as a view.
   * `complete` (the schedule counted every symbol's bar ending at `end`): with `maxEnd === end` and
   * no halt on record, every symbol's newest bar ends at `end` (fill 0, age 0, valid): the slice is
   * counted once for all symbols (`SymbolStats.completeSlices`) rather than symbol by symbol.
   */
  private emitSlice(end: number, complete: boolean): void {
    this.slicesEmitted++;
    this.counters.slices++;
    const fast = complete && this.maxEnd === end && this.haltSymbols === 0;
    // One pass either way: with a listener, the capture counts as it goes.
    if (this.sliceSubs.length > 0) this.deliverSlice(fast ? this.captureComplete(end) : this.capture(end, true));
    else if (fast) this.countComplete(end);
    else this.countSlice(end);
  }

  /**
   * Calls the slice listeners, as the emitter's `emit` would: in order, skipping one unsubscribed
   * meanwhile, a throw sent to `listenerError`. A loop of the manager's own: its call site sees only
   * slice listeners, so that the compiler can inline one (`emit`'s sees every emitter's listeners).
   */
  private deliverSlice(slice: Snapshot): void {
    const subs = this.sliceSubs;
    const event: SliceEvent = { type: 'slice', slice };
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Subscription<SliceEvent>;
      if (!sub.active) continue;
      try {
        sub.fn(event);
      } catch (error) {
        this.listenerError(error, event);
      }
    }
  }

  /** Counts a complete slice at `end` (see `emitSlice`): one counter, and every symbol's minute covered. */
  private countComplete(end: number): void {
    this.counters.completeSlices++;
    this.coverageTracker.markAll(end - this.options.intervalMs);
  }

  /**
   * `capture(end, true)` of a complete slice (see `emitSlice`): every cell the symbol's newest bar,
   * no fill, every symbol valid and fresh, average age 0; counted as `countComplete` counts.
   */
  private captureComplete(end: number): Snapshot {
    this.countComplete(end);
    const n = this.rings.length;
    const s = this.completeSummary;
    if (n <= PAGE_SIZE) {
      // One page of bars alone (every fill is 0): a copy of `latest` once each entry is the ring's
      // newest bar. A copy into a new array needs no write barrier per element; six stores of bars
      // into a new page each did (~45 ns a minute at six symbols, a third of a listener's cost).
      const latest = this.latest;
      for (let i = 0; i < n; i++) if (latest[i] === undefined) this.newest(i, this.rings[i] as HistoryRing);
      return new SnapshotView(this.layout, end, latest.slice() as Page, s, null);
    }
    const pages = capturePages(n) as Page[];
    let cells = pages[0] as Page;
    let half = cells.length >> 1;
    for (let i = 0; i < n; i++) {
      const c = i & (PAGE_SIZE - 1);
      if (c === 0 && i > 0) {
        cells = pages[i >> PAGE_BITS] as Page;
        half = cells.length >> 1;
      }
      cells[c] = this.newest(i, this.rings[i] as HistoryRing);
      cells[half + c] = 0;
    }
    return new SnapshotView(this.layout, end, pages, s, null);
  }

  /** Counts a slice at `end` in every symbol's statistics (the same derivation as `capture`). */
  private countSlice(end: number): void {
    const o = this.options;
    const interval = o.intervalMs;
    const maxFills = o.maxForwardFills;
    const maxAge = o.maxStalenessMs;
    const num = this.num;
    const cov = this.coverageTracker.minuteWord(end - interval);
    for (let i = 0; i < this.rings.length; i++) {
      const ring = this.rings[i] as HistoryRing;
      const k = i * NUM_FIELDS;
      // A halt is not missing data: its slices are counted as halted, not as filled or invalid.
      const halted = this.haltSymbols > 0 && (this.halts[i]?.haltedAt(end) ?? false);
      if (halted) num[k + HALTED_SLICES] = (num[k + HALTED_SLICES] as number) + 1;
      const j = ring.lastEndingBy(end);
      if (j < 0) {
        if (!halted) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        continue;
      }
      const barEnd = ring.barStart(j) + interval;
      const ageMs = end - barEnd;
      if (barEnd === end) this.markCovered(i, cov, end - interval);
      const fill = barEnd === end ? 0 : this.fillCount(barEnd, end);
      if (!halted && fill > 0 && fill <= maxFills) num[k + FORWARD_FILLED] = (num[k + FORWARD_FILLED] as number) + 1;
      if (!halted && !(fill <= maxFills && ageMs <= maxAge)) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
      if (ageMs !== 0) num[k + AGE_SUM] = (num[k + AGE_SUM] as number) + ageMs;
      num[k + AGE_COUNT] = (num[k + AGE_COUNT] as number) + 1;
    }
  }

  /**
   * Coverage: symbol `i` had a bar for the minute starting at `start` (marked as each slice closes,
   * once per symbol and minute; the symbols of a minute set neighbouring words). `word`: the minute's
   * `coverageTracker.minuteWord(start)`, computed once a slice (-1 outside the current session).
   */
  private markCovered(i: number, word: number, start: number): void {
    const cov = this.coverageTracker;
    if (word >= 0) cov.bits[word + i] = (cov.bits[word + i] as number) | cov.minuteBit;
    else cov.mark(i, start, false);
  }

  /** Whole open-market intervals in [end, asOf); memoized for the last pair (most symbols share it). */
  private fillCount(end: number, asOf: number): number {
    if (end === this.memoEnd && asOf === this.memoAsOf) return this.memoFill;
    this.memoEnd = end;
    this.memoAsOf = asOf;
    this.memoFill = Math.floor(this.calendar.openMsBetween(end, asOf) / this.options.intervalMs);
    return this.memoFill;
  }

  /**
   * Every symbol's state at `asOf` as a view: per symbol its bar object and fill count, and the
   * summary. With `count`, also what `countSlice` counts, from the same reads.
   */
  private capture(asOf: number, count: boolean): Snapshot {
    const num = this.num;
    const o = this.options;
    const interval = o.intervalMs;
    const maxFills = o.maxForwardFills;
    const maxAge = o.maxStalenessMs;
    const usableAge = o.usableMaxAgeMs;
    const n = this.rings.length;
    const pages = capturePages(n);
    const paged = n > PAGE_SIZE;
    let cells = paged ? ((pages as Page[])[0] as Page) : (pages as Page);
    let half = cells.length >> 1;
    let forwardFilled = 0;
    let validCount = 0;
    let fresh = 0;
    let ageSum = 0;
    let ageCount = 0;
    // Halt flags only when some symbol has had a trading status (most programs: none, no work).
    const haltedFlags = this.haltSymbols > 0 ? new Uint8Array(n) : null;
    const cov = this.coverageTracker.minuteWord(asOf - interval);
    for (let i = 0; i < n; i++) {
      const c = i & (PAGE_SIZE - 1);
      let halted = false;
      if (haltedFlags !== null && this.halts[i]?.haltedAt(asOf) === true) {
        haltedFlags[i] = 1;
        halted = true;
        if (count) num[i * NUM_FIELDS + HALTED_SLICES] = (num[i * NUM_FIELDS + HALTED_SLICES] as number) + 1;
      }
      if (c === 0 && i > 0) {
        cells = (pages as Page[])[i >> PAGE_BITS] as Page;
        half = cells.length >> 1;
      }
      const ring = this.rings[i] as HistoryRing;
      const k = i * NUM_FIELDS;
      const j = ring.lastEndingBy(asOf);
      if (j < 0) {
        if (count && !halted) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        cells[c] = null;
        cells[half + c] = 0;
        continue;
      }
      const barEnd = ring.barStart(j) + interval;
      const ageMs = asOf - barEnd;
      if (count && barEnd === asOf) this.markCovered(i, cov, asOf - interval);
      const fill = barEnd === asOf ? 0 : this.fillCount(barEnd, asOf);
      const filled = fill > 0 && fill <= maxFills;
      const valid = fill <= maxFills && ageMs <= maxAge;
      if (count) {
        if (filled && !halted) num[k + FORWARD_FILLED] = (num[k + FORWARD_FILLED] as number) + 1;
        if (!valid && !halted) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        if (ageMs !== 0) num[k + AGE_SUM] = (num[k + AGE_SUM] as number) + ageMs;
        num[k + AGE_COUNT] = (num[k + AGE_COUNT] as number) + 1;
      }
      // The newest bar (almost always): the object the manager already holds. An older one (the
      // clock behind the newest bar) is rebuilt from the ring.
      cells[c] = j === ring.size - 1 ? this.newest(i, ring) : ring.get(j);
      cells[half + c] = fill;
      if (filled) forwardFilled++;
      if (valid) {
        validCount++;
        if (ageMs < usableAge) fresh++;
      }
      ageSum += ageMs;
      ageCount++;
    }
    const s: SnapshotSummary = {
      forwardFilled,
      validCount,
      complete: validCount === n && forwardFilled === 0,
      avgAgeMs: ageCount === 0 ? null : ageSum / ageCount,
      usable: fresh * 2 >= n,
    };
    return new SnapshotView(this.layout, asOf, pages, s, haltedFlags);
  }

  /** Symbol `i`'s newest stored bar as a frozen object (its ring is not empty). */
  private newest(i: number, ring: HistoryRing): Bar {
    // Checked when stored (the bar is in cache then): a capture of 10 000 symbols touches no bar.
    const bar = this.latest[i];
    if (bar !== undefined) return bar;
    const copy = ring.get(ring.size - 1);
    this.latest[i] = copy;
    return copy;
  }

  /**
   * Closes every pending boundary the clock has reached, without waiting for the grace (for example
   * at the end of a replay). Boundaries after the clock stay pending: they are not known yet.
   */
  flush(): void {
    this.schedule.flush(this.options.clock.now());
  }

  /**
   * Every symbol's state at `asOf` (default: the clock's now). A pure read: the same answer twice,
   * no counter changed. `asOf` later than the clock is clamped to it: a bar is never exposed before
   * the clock reaches its end.
   */
  getLatestSnapshot(asOf?: number): Snapshot {
    const now = this.options.clock.now();
    return this.capture(asOf === undefined || asOf > now ? now : asOf, false);
  }

  private indexOf(symbol: string): number {
    const i = this.index.get(symbol);
    if (i === undefined) {
      throw new FeedError({ code: 'unknown_symbol', message: `unknown symbol '${symbol}' (tracked: ${this.options.symbols.slice(0, 20).join(', ')}${this.options.symbols.length > 20 ? ', ...' : ''})` });
    }
    return i;
  }

  /** The newest `n` real bars of `symbol`, oldest first. Throws a `FeedError` for an untracked symbol. */
  recent(symbol: string, n: number): Bar[] {
    return (this.rings[this.indexOf(symbol)] as HistoryRing).recent(n);
  }

  /** The stored real bars of `symbol` starting in [from, to), oldest first (revisions applied). */
  barsBetween(symbol: string, from: number, to: number): Bar[] {
    const ring = this.rings[this.indexOf(symbol)] as HistoryRing;
    const out: Bar[] = [];
    for (let j = ring.size - 1; j >= 0; j--) {
      const s = ring.barStart(j);
      if (s < from) break;
      if (s < to) out.push(ring.get(j));
    }
    return out.reverse();
  }

  /** Every stored real bar of `symbol` (at most `historySize`), oldest first. */
  history(symbol: string): Bar[] {
    const ring = this.rings[this.indexOf(symbol)] as HistoryRing;
    return ring.recent(ring.size);
  }

  /** The newest real bar of `symbol` accepted so far (even if the clock has not reached its end), or `undefined`. */
  latestBar(symbol: string): Bar | undefined {
    const i = this.indexOf(symbol);
    const ring = this.rings[i] as HistoryRing;
    return ring.size === 0 ? undefined : this.newest(i, ring);
  }

  /** Data-quality statistics per symbol and in total. */
  stats(): QualityStats {
    const bySymbol: Record<string, SymbolQuality> = {};
    const syms = this.options.symbols;
    for (let i = 0; i < syms.length; i++) bySymbol[syms[i] as string] = this.counters.quality(i);
    return {
      // Bars for unknown symbols and non-objects count in the total only.
      total: this.counters.total({ unknown_symbol: this.unknownTotal, invalid_shape: this.invalidInputs }),
      bySymbol,
      unknownSymbols: Object.fromEntries(this.unknown),
      slicesEmitted: this.slicesEmitted,
      unknownStatuses: this.unknownStatuses,
    };
  }

  /**
   * Per symbol, the coverage of each kept session (`coverageSessions`, default 10), oldest first:
   * every regular-hours minute counted once as with a bar (and of those, recovered from history),
   * forward-filled, halted, or never seen; and, once `reconcile()` ran for the session, the minutes
   * REST had that the manager never received. Sessions in which no symbol had a bar are not listed.
   */
  coverage(): Readonly<Record<string, readonly SessionCoverage[]>> {
    const out: Record<string, SessionCoverage[]> = {};
    const syms = this.options.symbols;
    for (let i = 0; i < syms.length; i++) out[syms[i] as string] = [];
    const t = this.coverageTracker;
    if (!t.enabled) return out;
    for (const rec of t.records) for (let i = 0; i < syms.length; i++) (out[syms[i] as string] as SessionCoverage[]).push(this.sessionCoverage(rec, i));
    return out;
  }

  private sessionCoverage(rec: CoverageRecord, i: number): SessionCoverage {
    const o = this.options;
    const n = this.rings.length;
    const interval = o.intervalMs;
    const open = rec.session.open;
    const ring = this.rings[i] as HistoryRing;
    const log = this.halts[i];
    // The end of the symbol's last bar before the session: forward fill carries it into the open.
    const j = ring.lastEndingBy(open);
    let lastEnd: number | undefined = j < 0 ? undefined : ring.barStart(j) + interval;
    let withBar = 0;
    let recovered = 0;
    let forwardFilled = 0;
    let halted = 0;
    let neverSeen = 0;
    for (let m = 0; m < rec.minutes; m++) {
      const end = open + (m + 1) * interval;
      if (hasBit(rec.bars, n, i, m)) {
        withBar++;
        if (rec.recovered !== null && hasBit(rec.recovered, n, i, m)) recovered++;
        lastEnd = end;
        continue;
      }
      if (log?.haltedAt(end) === true) {
        halted++;
        continue;
      }
      if (lastEnd === undefined) {
        neverSeen++;
        continue;
      }
      const fill = lastEnd >= open ? (end - lastEnd) / interval : Math.floor(o.calendar.openMsBetween(lastEnd, end) / interval);
      if (fill > 0 && fill <= o.maxForwardFills) forwardFilled++;
      else neverSeen++;
    }
    const missed = rec.missed === null ? null : (rec.missed.get(i)?.length ?? 0);
    return { date: rec.session.date, minutes: rec.minutes, withBar, recovered, forwardFilled, halted, neverSeen, missedByStream: missed };
  }

  /**
   * End-of-day reconciliation (opt-in): asks `history` (a provider's REST client) for the regular-hours
   * bars of the session at `at` (default: the last session that began before the clock) and reports
   * every minute it has that the manager never received. The report is kept in `coverage()` too
   * (`missedByStream`). Nothing is added to the history: what the stream missed stays visible.
   */
  async reconcile(history: HistoricalBars, options: { at?: number; signal?: AbortSignal } = {}): Promise<ReconcileReport> {
    const t = this.coverageTracker;
    const n = this.rings.length;
    if (!t.enabled) throw new FeedError({ code: 'invalid_config', message: 'reconcile() needs a calendar with sessions (the default nyse); this manager counts no coverage' });
    const at = options.at ?? this.options.clock.now() - 1;
    const cal = this.options.calendar as unknown as CoverageCalendar & { previousSession?(t: number): { open: number } };
    const session = cal.sessionAt(at) ?? (typeof cal.previousSession === 'function' ? cal.sessionAt(cal.previousSession(at).open) : undefined);
    if (session === undefined) throw new FeedError({ code: 'invalid_config', message: `no session at or before ${new Date(at).toISOString()} to reconcile` });
    const rec = t.recordAt(session.open);
    const interval = this.options.intervalMs;
    const fetched = await history.barsBySymbol({
      symbols: this.options.symbols,
      start: session.open,
      end: session.close - interval,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const missed: Record<string, number[]> = {};
    const byIndex = new Map<number, number[]>();
    let restBars = 0;
    let missedTotal = 0;
    for (const [symbol, list] of fetched) {
      const i = this.index.get(symbol);
      if (i === undefined) continue;
      const out: number[] = [];
      for (const b of list) {
        if (b.start < session.open || b.start >= session.close) continue;
        restBars++;
        const m = Math.round((b.start - session.open) / interval);
        if (rec === undefined || !hasBit(rec.bars, n, i, m)) out.push(b.start);
      }
      out.sort((a, b) => a - b);
      byIndex.set(i, out);
      if (out.length > 0) missed[symbol] = out;
      missedTotal += out.length;
    }
    if (rec !== undefined) rec.missed = byIndex;
    return { date: session.date, missed, restBars, missedTotal };
  }

  /** Zeroes every counter; the data (history, latest bars, pending slices) is kept. */
  resetStats(): void {
    for (let i = 0; i < this.rings.length; i++) this.counters.reset(i);
    this.counters.completeSlices = 0;
    this.counters.slices = 0;
    this.unknown.clear();
    this.unknownTotal = 0;
    this.invalidInputs = 0;
    this.slicesEmitted = 0;
    this.unknownStatuses = 0;
  }
}

/** A whole feed (not a bare `BarSource`): it may emit trading statuses and a warm-up too. */
function isFeed(source: BarSource | BarFeed): source is BarFeed {
  const f = source as Partial<BarFeed>;
  return typeof f.connect === 'function' && typeof f.start === 'function' && typeof f.stats === 'function';
}
