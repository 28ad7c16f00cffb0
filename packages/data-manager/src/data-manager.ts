import type { Bar, BarSource, Listener, RejectReason, ResolvedValidationRules, Unsubscribe, ValidationContext } from '@feed/core';
import { FeedError, REJECT_REASONS, TypedEmitter, checkBar, isFrozenBar } from '@feed/core';
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
  DUPLICATES,
  FORWARD_FILLED,
  INVALID_SLICES,
  LATE_BARS,
  LATENCY_COUNT,
  LATENCY_MAX,
  LATENCY_SUM,
  LATEST_START,
  NUM_FIELDS,
  REVISIONS,
  SLICES,
  SymbolStats,
  UPDATES,
} from './symbol-stats.js';
import type { DataManagerEvent, QualityStats, Snapshot, SymbolQuality, UpdateResult, UpdateSummary } from './types.js';

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
  readonly options: ResolvedOptions;
  private readonly index = new Map<string, number>();
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
  private readonly emitter: TypedEmitter<DataManagerEvent>;
  private readonly schedule: SliceSchedule;
  private readonly layout: SnapshotLayout;
  private readonly summary: SnapshotSummary = { forwardFilled: 0, validCount: 0, complete: false, avgAgeMs: null, usable: false };
  private slicesEmitted = 0;
  private sliceListeners = 0;
  private readonly unknown = new Map<string, number>();
  private unknownTotal = 0;
  private invalidInputs = 0;
  private memoEnd = Number.NaN;
  private memoAsOf = Number.NaN;
  private memoFill = 0;
  private readonly offTick: Unsubscribe;

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
    this.calendar = o.calendar;
    const store = new RingStore(o.historySize, o.symbols.length);
    for (const s of o.symbols) {
      this.index.set(s, this.rings.length);
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
    this.schedule = new SliceSchedule(o.symbols.length, o.sliceGraceMs, (end) => this.emitSlice(end));
    this.emitter = new TypedEmitter<DataManagerEvent>((error, event) => {
      if (event.type !== 'error' && this.emitter.listenerCount('error') > 0) {
        this.emitter.emit({ type: 'error', error: error instanceof Error ? error : new Error(String(error)) });
        return;
      }
      // No one to tell: surface it rather than swallow it. The manager's state is already consistent.
      queueMicrotask(() => {
        throw error;
      });
    });
    this.offTick = o.clock.onTick((now) => this.schedule.close(now));
  }

  /** The tracked symbols, in order. */
  get symbols(): readonly string[] {
    return this.options.symbols;
  }

  /** Subscribes to slices (`'slice'`), rejected bars (`'rejected'`), revisions (`'revision'`) or listener errors (`'error'`). */
  on<T extends DataManagerEvent['type']>(type: T, listener: Listener<Extract<DataManagerEvent, { type: T }>>): Unsubscribe {
    const off = this.emitter.on(type, listener);
    if (type !== 'slice') return off;
    // Counted here: every closed minute asks whether anyone listens, and a field is cheaper than the emitter's map.
    this.sliceListeners++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.sliceListeners--;
      off();
    };
  }

  /**
   * Feeds every bar of `feed` into the manager. Returns the detach function. Switching a program
   * between replay and live changes only the line that builds the feed.
   */
  attach(feed: BarSource): Unsubscribe {
    return feed.on('bar', (e) => {
      this.update(e.bar);
    });
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
    if (typeof bar !== 'object' || bar === null) {
      this.invalidInputs++;
      return REJECTED.invalid_shape;
    }
    const i = this.index.get(bar.symbol);
    if (i === undefined) {
      this.unknownTotal++;
      const name = String(bar.symbol);
      const n = this.unknown.get(name);
      if (n !== undefined) this.unknown.set(name, n + 1);
      else if (this.unknown.size < MAX_UNKNOWN_NAMES) this.unknown.set(name, 1);
      this.emitReject(bar, 'unknown_symbol');
      return REJECTED.unknown_symbol;
    }
    const num = this.num;
    const k = i * NUM_FIELDS;
    num[k + UPDATES] = (num[k + UPDATES] as number) + 1;
    const now = this.options.clock.now();
    this.ctx.now = now;
    const rejection = checkBar(bar, this.rules, this.ctx);
    if (rejection !== undefined) return this.reject(i, bar, rejection.reason);

    const ring = this.rings[i] as HistoryRing;
    if (bar.start <= (num[k + LATEST_START] as number)) return this.updateExisting(i, ring, bar);

    // The ring copies the numbers: later changes to the caller's object cannot reach stored data.
    ring.push(bar);
    this.latest[i] = isFrozenBar(bar) ? bar : undefined;
    num[k + LATEST_START] = bar.start;
    num[k + F_ACCEPTED] = (num[k + F_ACCEPTED] as number) + 1;
    const latency = bar.receivedAt - bar.end;
    num[k + LATENCY_SUM] = (num[k + LATENCY_SUM] as number) + latency;
    num[k + LATENCY_COUNT] = (num[k + LATENCY_COUNT] as number) + 1;
    if (latency > (num[k + LATENCY_MAX] as number)) num[k + LATENCY_MAX] = latency;

    if (bar.end <= this.schedule.lastEmitted) num[k + LATE_BARS] = (num[k + LATE_BARS] as number) + 1;
    else this.schedule.count(bar.end);
    // The bar's own boundary waits for the other symbols' bars of the same minute even when its grace
    // has passed (a burst of late bars, a gap fill): they come next, in the same synchronous run. A
    // later bar or the next tick closes it. Without this, live and replay slices differ after a gap.
    this.schedule.close(now, bar.end);
    return ACCEPTED;
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

  /** Counts the slice in every symbol's statistics and, when someone listens, emits it as a view. */
  private emitSlice(end: number): void {
    this.slicesEmitted++;
    // One pass either way: with a listener, the capture counts as it goes.
    if (this.sliceListeners > 0) this.emitter.emit({ type: 'slice', slice: this.capture(end, true) });
    else this.countSlice(end);
  }

  /** Counts a slice at `end` in every symbol's statistics (the same derivation as `capture`). */
  private countSlice(end: number): void {
    const o = this.options;
    const interval = o.intervalMs;
    const maxFills = o.maxForwardFills;
    const maxAge = o.maxStalenessMs;
    const num = this.num;
    for (let i = 0; i < this.rings.length; i++) {
      const ring = this.rings[i] as HistoryRing;
      const k = i * NUM_FIELDS;
      num[k + SLICES] = (num[k + SLICES] as number) + 1;
      const j = ring.lastEndingBy(end);
      if (j < 0) {
        num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        continue;
      }
      const barEnd = ring.barStart(j) + interval;
      const ageMs = end - barEnd;
      const fill = barEnd === end ? 0 : this.fillCount(barEnd, end);
      if (fill > 0 && fill <= maxFills) num[k + FORWARD_FILLED] = (num[k + FORWARD_FILLED] as number) + 1;
      if (!(fill <= maxFills && ageMs <= maxAge)) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
      num[k + AGE_SUM] = (num[k + AGE_SUM] as number) + ageMs;
      num[k + AGE_COUNT] = (num[k + AGE_COUNT] as number) + 1;
    }
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
    for (let i = 0; i < n; i++) {
      const c = i & (PAGE_SIZE - 1);
      if (c === 0 && i > 0) {
        cells = (pages as Page[])[i >> PAGE_BITS] as Page;
        half = cells.length >> 1;
      }
      const ring = this.rings[i] as HistoryRing;
      const k = i * NUM_FIELDS;
      if (count) num[k + SLICES] = (num[k + SLICES] as number) + 1;
      const j = ring.lastEndingBy(asOf);
      if (j < 0) {
        if (count) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        cells[c] = null;
        cells[half + c] = 0;
        continue;
      }
      const barEnd = ring.barStart(j) + interval;
      const ageMs = asOf - barEnd;
      const fill = barEnd === asOf ? 0 : this.fillCount(barEnd, asOf);
      const filled = fill > 0 && fill <= maxFills;
      const valid = fill <= maxFills && ageMs <= maxAge;
      if (count) {
        if (filled) num[k + FORWARD_FILLED] = (num[k + FORWARD_FILLED] as number) + 1;
        if (!valid) num[k + INVALID_SLICES] = (num[k + INVALID_SLICES] as number) + 1;
        num[k + AGE_SUM] = (num[k + AGE_SUM] as number) + ageMs;
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
    const s = this.summary;
    s.forwardFilled = forwardFilled;
    s.validCount = validCount;
    s.complete = validCount === n && forwardFilled === 0;
    s.avgAgeMs = ageCount === 0 ? null : ageSum / ageCount;
    s.usable = fresh * 2 >= n;
    return new SnapshotView(this.layout, asOf, pages, s);
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
    };
  }

  /** Zeroes every counter; the data (history, latest bars, pending slices) is kept. */
  resetStats(): void {
    for (let i = 0; i < this.rings.length; i++) this.counters.reset(i);
    this.unknown.clear();
    this.unknownTotal = 0;
    this.invalidInputs = 0;
    this.slicesEmitted = 0;
  }
}
