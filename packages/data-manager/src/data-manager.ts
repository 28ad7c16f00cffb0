import type { Bar, BarSource, Listener, RejectReason, ResolvedValidationRules, Unsubscribe, ValidationContext } from '@feed/core';
import { FeedError, REJECT_REASONS, TypedEmitter, checkBar } from '@feed/core';
import { HistoryRing, RingStore } from './history-ring.js';
import type { DataManagerOptions, MarketHours, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';
import { stalenessWeight } from './staleness.js';
import type {
  DataManagerEvent,
  ForwardFilledBar,
  QualityStats,
  Snapshot,
  SymbolQuality,
  SymbolSnapshot,
  UpdateResult,
  UpdateSummary,
} from './types.js';

const ACCEPTED: UpdateResult = Object.freeze({ status: 'accepted' });
const DUPLICATE: UpdateResult = Object.freeze({ status: 'duplicate' });
const REVISION: UpdateResult = Object.freeze({ status: 'revision' });
// One frozen result per reason: update() allocates nothing to report.
const REJECTED = Object.freeze(
  Object.fromEntries(REJECT_REASONS.map((reason) => [reason, Object.freeze({ status: 'rejected', reason })])),
) as Readonly<Record<RejectReason, UpdateResult>>;
const REASON_INDEX = new Map<RejectReason, number>(REJECT_REASONS.map((r, i) => [r, i]));

/** Keep at most this many distinct unknown symbol names in the statistics (a flood cannot grow memory). */
const MAX_UNKNOWN_NAMES = 1000;

/** Numbers kept per symbol, in one Float64Array for all symbols (see `SymbolState`). */
const NUM_FIELDS = 15;

/**
 * One symbol: its history ring (the base class) and its counters. The counters live in one
 * Float64Array shared by all symbols: object fields holding doubles would each be a separate heap
 * number, scattered in memory, which with 10 000 symbols costs a cache miss per field per update.
 * The manager keeps no bar object alive either (bars live in the ring), so a young-generation GC
 * never copies thousands of retained bars.
 */
class SymbolState extends HistoryRing {
  private readonly k: number;
  /** Allocated on the first rejection: most symbols never need it. */
  rejectedByReason: Uint32Array | undefined;

  constructor(
    store: RingStore,
    index: number,
    symbol: string,
    intervalMs: number,
    private readonly num: Float64Array,
  ) {
    super(store, index, symbol, intervalMs);
    this.k = index * NUM_FIELDS;
    this.latestStart = Number.NEGATIVE_INFINITY;
    this.resetStats();
  }

  get latestStart(): number {
    return this.num[this.k + 0] as number;
  }
  set latestStart(v: number) {
    this.num[this.k + 0] = v;
  }
  get updates(): number {
    return this.num[this.k + 1] as number;
  }
  set updates(v: number) {
    this.num[this.k + 1] = v;
  }
  get accepted(): number {
    return this.num[this.k + 2] as number;
  }
  set accepted(v: number) {
    this.num[this.k + 2] = v;
  }
  get duplicates(): number {
    return this.num[this.k + 3] as number;
  }
  set duplicates(v: number) {
    this.num[this.k + 3] = v;
  }
  get revisions(): number {
    return this.num[this.k + 4] as number;
  }
  set revisions(v: number) {
    this.num[this.k + 4] = v;
  }
  get rejected(): number {
    return this.num[this.k + 5] as number;
  }
  set rejected(v: number) {
    this.num[this.k + 5] = v;
  }
  get lateBars(): number {
    return this.num[this.k + 6] as number;
  }
  set lateBars(v: number) {
    this.num[this.k + 6] = v;
  }
  get slices(): number {
    return this.num[this.k + 7] as number;
  }
  set slices(v: number) {
    this.num[this.k + 7] = v;
  }
  get forwardFilledIntervals(): number {
    return this.num[this.k + 8] as number;
  }
  set forwardFilledIntervals(v: number) {
    this.num[this.k + 8] = v;
  }
  get invalidSlices(): number {
    return this.num[this.k + 9] as number;
  }
  set invalidSlices(v: number) {
    this.num[this.k + 9] = v;
  }
  get latencySum(): number {
    return this.num[this.k + 10] as number;
  }
  set latencySum(v: number) {
    this.num[this.k + 10] = v;
  }
  get latencyCount(): number {
    return this.num[this.k + 11] as number;
  }
  set latencyCount(v: number) {
    this.num[this.k + 11] = v;
  }
  get latencyMax(): number {
    return this.num[this.k + 12] as number;
  }
  set latencyMax(v: number) {
    this.num[this.k + 12] = v;
  }
  get ageSum(): number {
    return this.num[this.k + 13] as number;
  }
  set ageSum(v: number) {
    this.num[this.k + 13] = v;
  }
  get ageCount(): number {
    return this.num[this.k + 14] as number;
  }
  set ageCount(v: number) {
    this.num[this.k + 14] = v;
  }

  /** Zeroes the counters; `latestStart` (data, not a statistic) is kept. */
  resetStats(): void {
    this.num.fill(0, this.k + 1, this.k + NUM_FIELDS);
    this.latencyMax = Number.NEGATIVE_INFINITY;
    this.rejectedByReason = undefined;
  }
}

/** A minute boundary (a bar end) that has bars but no slice yet, and how many symbols delivered it. */
interface PendingBoundary {
  readonly end: number;
  count: number;
}

/**
 * The multi-symbol data manager (semantics.md): never waits for all symbols, weights stale data
 * down, forward-fills missing symbols, keeps a history ring per symbol, tracks data quality, and
 * emits one slice per closed minute boundary. Time comes only from the injected `Clock`, so replay
 * and live run the same code.
 */
export class MultiSymbolDataManager {
  readonly options: ResolvedOptions;
  private readonly states = new Map<string, SymbolState>();
  private readonly ordered: SymbolState[] = [];
  private readonly rules: ResolvedValidationRules;
  private readonly ctx: { now: number } & ValidationContext = { now: 0 };
  private readonly calendar: MarketHours;
  private readonly emitter: TypedEmitter<DataManagerEvent>;
  private readonly pending: PendingBoundary[] = [];
  private lastEmitted = Number.NEGATIVE_INFINITY;
  private emitting = false;
  private slicesEmitted = 0;
  private readonly unknown = new Map<string, number>();
  private unknownTotal = 0;
  private invalidInputs = 0;
  private memoEnd = Number.NaN;
  private memoAsOf = Number.NaN;
  private memoFill = 0;
  private readonly offTick: Unsubscribe;
  private readonly rings: RingStore;

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
    this.rings = new RingStore(o.historySize, o.symbols.length);
    const num = new Float64Array(o.symbols.length * NUM_FIELDS);
    for (const s of o.symbols) {
      const st = new SymbolState(this.rings, this.ordered.length, s, o.intervalMs, num);
      this.states.set(s, st);
      this.ordered.push(st);
    }
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
    this.offTick = o.clock.onTick((now) => this.closeBoundaries(now));
  }

  /** The tracked symbols, in order. */
  get symbols(): readonly string[] {
    return this.options.symbols;
  }

  /** Subscribes to slices (`'slice'`), rejected bars (`'rejected'`) or listener errors (`'error'`). */
  on<T extends DataManagerEvent['type']>(type: T, listener: Listener<Extract<DataManagerEvent, { type: T }>>): Unsubscribe {
    return this.emitter.on(type, listener);
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
    const st = this.states.get(bar.symbol);
    if (st === undefined) {
      this.unknownTotal++;
      const name = String(bar.symbol);
      const n = this.unknown.get(name);
      if (n !== undefined) this.unknown.set(name, n + 1);
      else if (this.unknown.size < MAX_UNKNOWN_NAMES) this.unknown.set(name, 1);
      this.emitReject(bar, 'unknown_symbol');
      return REJECTED.unknown_symbol;
    }
    st.updates++;
    const now = this.options.clock.now();
    this.ctx.now = now;
    const rejection = checkBar(bar, this.rules, this.ctx);
    if (rejection !== undefined) return this.reject(st, bar, rejection.reason);

    if (bar.start <= st.latestStart) return this.updateExisting(st, bar);

    // The ring copies the numbers: later changes to the caller's object cannot reach stored data.
    st.push(bar);
    st.latestStart = bar.start;
    st.accepted++;
    const latency = bar.receivedAt - bar.end;
    st.latencySum += latency;
    st.latencyCount++;
    if (latency > st.latencyMax) st.latencyMax = latency;

    if (bar.end <= this.lastEmitted) st.lateBars++;
    else this.countBoundary(bar.end);
    // The bar's own boundary waits for the other symbols' bars of the same minute even when its grace
    // has passed (a burst of late bars, a gap fill): they come next, in the same synchronous run. A
    // later bar or the next tick closes it. Without this, live and replay slices differ after a gap.
    this.closeBoundaries(now, bar.end);
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
  private updateExisting(st: SymbolState, bar: Bar): UpdateResult {
    const index = bar.start === st.latestStart ? st.size - 1 : st.indexOf(bar.start);
    if (index < 0) return this.reject(st, bar, 'out_of_order');
    if (st.sameAt(index, bar)) {
      st.duplicates++;
      return DUPLICATE;
    }
    // A revision (Alpaca's updatedBars, ~30 s after the minute): it replaces the stored bar in
    // place. A slice already emitted is not emitted again.
    st.replace(index, bar);
    st.revisions++;
    return REVISION;
  }

  private reject(st: SymbolState, bar: Bar, reason: RejectReason): UpdateResult {
    st.rejected++;
    const i = REASON_INDEX.get(reason) as number;
    const counts = (st.rejectedByReason ??= new Uint32Array(REJECT_REASONS.length));
    counts[i] = (counts[i] as number) + 1;
    this.emitReject(bar, reason);
    return REJECTED[reason];
  }

  private emitReject(bar: Bar, reason: RejectReason): void {
    if (this.emitter.listenerCount('rejected') > 0) this.emitter.emit({ type: 'rejected', bar, reason });
  }

  /** Counts one more symbol for the boundary `end` (kept sorted; almost always the last one). */
  private countBoundary(end: number): void {
    const p = this.pending;
    let i = p.length - 1;
    while (i >= 0 && (p[i] as PendingBoundary).end > end) i--;
    if (i >= 0 && (p[i] as PendingBoundary).end === end) (p[i] as PendingBoundary).count++;
    else p.splice(i + 1, 0, { end, count: 1 });
  }

  /**
   * Emits, in order, every pending boundary that has closed at `now`: the clock has reached it and
   * either every symbol has delivered its bar or the grace has passed. A boundary before one that
   * closed closes too (no symbol can still deliver it in order). Boundaries at or after `holdFrom`
   * close only when complete.
   */
  private closeBoundaries(now: number, holdFrom = Number.POSITIVE_INFINITY): void {
    const first = this.pending[0];
    if (first === undefined || now < first.end || this.emitting) return; // the common case: nothing closes
    this.emitting = true; // a listener that calls update() is picked up by this loop, in order
    try {
      for (;;) {
        const p = this.pending;
        let k = -1;
        for (let i = 0; i < p.length; i++) {
          const b = p[i] as PendingBoundary;
          if (now < b.end) break;
          if (b.count >= this.ordered.length || (now >= b.end + this.options.sliceGraceMs && b.end < holdFrom)) k = i;
        }
        if (k < 0) return;
        const b = p.shift() as PendingBoundary;
        this.emitSlice(b.end);
      }
    } finally {
      this.emitting = false;
    }
  }

  /**
   * Counts the slice in every symbol's statistics and emits it. The snapshot objects are built only
   * when someone listens to slices; the statistics come from the same per-symbol reads either way.
   */
  private emitSlice(end: number): void {
    this.lastEmitted = end;
    this.slicesEmitted++;
    const max = this.options.maxForwardFills;
    const maxAge = this.options.maxStalenessMs;
    const interval = this.options.intervalMs;
    for (const st of this.ordered) {
      st.slices++;
      const i = st.lastEndingBy(end);
      if (i < 0) {
        st.invalidSlices++;
        continue;
      }
      const barEnd = st.barStart(i) + interval;
      const ageMs = end - barEnd;
      const fill = this.fillCount(barEnd, end);
      if (fill > 0 && fill <= max) st.forwardFilledIntervals++;
      if (fill > max || ageMs > maxAge) st.invalidSlices++;
      st.ageSum += ageMs;
      st.ageCount++;
    }
    if (this.emitter.listenerCount('slice') > 0) this.emitter.emit({ type: 'slice', slice: this.snapshotAt(end) });
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
   * Closes every pending boundary the clock has reached, without waiting for the grace (for example
   * at the end of a replay). Boundaries after the clock stay pending: they are not known yet.
   */
  flush(): void {
    const now = this.options.clock.now();
    while (this.pending.length > 0 && (this.pending[0] as PendingBoundary).end <= now) {
      const b = this.pending.shift() as PendingBoundary;
      this.emitSlice(b.end);
    }
  }

  /**
   * Every symbol's state at `asOf` (default: the clock's now). A pure read: the same answer twice,
   * no counter changed. `asOf` later than the clock is clamped to it: a bar is never exposed before
   * the clock reaches its end.
   */
  getLatestSnapshot(asOf?: number): Snapshot {
    const now = this.options.clock.now();
    return this.snapshotAt(asOf === undefined || asOf > now ? now : asOf);
  }

  private snapshotAt(asOf: number): Snapshot {
    const o = this.options;
    const interval = o.intervalMs;
    const n = this.ordered.length;
    const entries = new Array<SymbolSnapshot>(n);
    const bySymbol: Record<string, SymbolSnapshot> = {};
    const missing: string[] = [];
    let forwardFilled = 0;
    let validCount = 0;
    let fresh = 0;
    let ageSum = 0;
    let ageCount = 0;
    const lastBoundary = Math.floor(asOf / interval) * interval;
    for (let i = 0; i < n; i++) {
      const st = this.ordered[i] as SymbolState;
      const index = st.lastEndingBy(asOf);
      const bar = index < 0 ? undefined : st.get(index);
      let entry: SymbolSnapshot;
      if (bar === undefined) {
        entry = Object.freeze({
          symbol: st.symbol,
          bar: null,
          ageMs: null,
          stalenessWeight: 0,
          fillCount: 0,
          forwardFilled: null,
          valid: false,
          price: null,
        });
        missing.push(st.symbol);
      } else {
        const ageMs = asOf - bar.end;
        const fillCount = this.fillCount(bar.end, asOf);
        const valid = fillCount <= o.maxForwardFills && ageMs <= o.maxStalenessMs;
        let ff: ForwardFilledBar | null = null;
        if (fillCount > 0 && fillCount <= o.maxForwardFills) {
          ff = Object.freeze({
            symbol: st.symbol,
            start: lastBoundary - interval,
            end: lastBoundary,
            open: bar.close,
            high: bar.close,
            low: bar.close,
            close: bar.close,
            volume: 0,
            receivedAt: asOf,
            isFillForward: true,
            sourceEnd: bar.end,
          });
          forwardFilled++;
        }
        entry = Object.freeze({
          symbol: st.symbol,
          bar,
          ageMs,
          stalenessWeight: stalenessWeight(ageMs, o.stalenessTauMs),
          fillCount,
          forwardFilled: ff,
          valid,
          price: bar.close,
        });
        ageSum += ageMs;
        ageCount++;
        if (valid) {
          validCount++;
          if (ageMs < o.usableMaxAgeMs) fresh++;
        } else missing.push(st.symbol);
      }
      entries[i] = entry;
      bySymbol[st.symbol] = entry;
    }
    return Object.freeze({
      asOf,
      symbols: Object.freeze(bySymbol),
      entries: Object.freeze(entries),
      missing: Object.freeze(missing),
      forwardFilled,
      validCount,
      complete: missing.length === 0 && forwardFilled === 0,
      avgAgeMs: ageCount === 0 ? null : ageSum / ageCount,
      usable: fresh * 2 >= n,
    });
  }

  private state(symbol: string): SymbolState {
    const st = this.states.get(symbol);
    if (st === undefined) {
      throw new FeedError({ code: 'unknown_symbol', message: `unknown symbol '${symbol}' (tracked: ${this.options.symbols.slice(0, 20).join(', ')}${this.options.symbols.length > 20 ? ', ...' : ''})` });
    }
    return st;
  }

  /** The newest `n` real bars of `symbol`, oldest first. Throws a `FeedError` for an untracked symbol. */
  recent(symbol: string, n: number): Bar[] {
    return this.state(symbol).recent(n);
  }

  /** Every stored real bar of `symbol` (at most `historySize`), oldest first. */
  history(symbol: string): Bar[] {
    const st = this.state(symbol);
    return st.recent(st.size);
  }

  /** The newest real bar of `symbol` accepted so far (even if the clock has not reached its end), or `undefined`. */
  latestBar(symbol: string): Bar | undefined {
    const st = this.state(symbol);
    return st.size === 0 ? undefined : st.get(st.size - 1);
  }

  /** Data-quality statistics per symbol and in total. */
  stats(): QualityStats {
    const bySymbol: Record<string, SymbolQuality> = {};
    const total = new SymbolState(this.rings, 0, '*', this.options.intervalMs, new Float64Array(NUM_FIELDS));
    const totalByReason = (total.rejectedByReason = new Uint32Array(REJECT_REASONS.length));
    for (const st of this.ordered) {
      bySymbol[st.symbol] = quality(st);
      total.updates += st.updates;
      total.accepted += st.accepted;
      total.duplicates += st.duplicates;
      total.revisions += st.revisions;
      total.rejected += st.rejected;
      const counts = st.rejectedByReason;
      if (counts !== undefined) for (let i = 0; i < counts.length; i++) totalByReason[i] = (totalByReason[i] as number) + (counts[i] as number);
      total.lateBars += st.lateBars;
      total.slices += st.slices;
      total.forwardFilledIntervals += st.forwardFilledIntervals;
      total.invalidSlices += st.invalidSlices;
      total.latencySum += st.latencySum;
      total.latencyCount += st.latencyCount;
      if (st.latencyMax > total.latencyMax) total.latencyMax = st.latencyMax;
      total.ageSum += st.ageSum;
      total.ageCount += st.ageCount;
    }
    // Bars for unknown symbols and non-objects count in the total only.
    const extra = this.unknownTotal + this.invalidInputs;
    total.updates += extra;
    total.rejected += extra;
    const ui = REASON_INDEX.get('unknown_symbol') as number;
    totalByReason[ui] = (totalByReason[ui] as number) + this.unknownTotal;
    const si = REASON_INDEX.get('invalid_shape') as number;
    totalByReason[si] = (totalByReason[si] as number) + this.invalidInputs;
    return {
      total: quality(total),
      bySymbol,
      unknownSymbols: Object.fromEntries(this.unknown),
      slicesEmitted: this.slicesEmitted,
    };
  }

  /** Zeroes every counter; the data (history, latest bars, pending slices) is kept. */
  resetStats(): void {
    for (const st of this.ordered) st.resetStats();
    this.unknown.clear();
    this.unknownTotal = 0;
    this.invalidInputs = 0;
    this.slicesEmitted = 0;
  }
}

function quality(st: SymbolState): SymbolQuality {
  const byReason: Partial<Record<RejectReason, number>> = {};
  const counts = st.rejectedByReason;
  for (let i = 0; counts !== undefined && i < counts.length; i++) {
    const n = counts[i] as number;
    if (n > 0) byReason[REJECT_REASONS[i] as RejectReason] = n;
  }
  return {
    updates: st.updates,
    accepted: st.accepted,
    duplicates: st.duplicates,
    revisions: st.revisions,
    rejected: st.rejected,
    rejectedByReason: byReason,
    lateBars: st.lateBars,
    slices: st.slices,
    forwardFilledIntervals: st.forwardFilledIntervals,
    invalidSlices: st.invalidSlices,
    avgLatencyMs: st.latencyCount === 0 ? null : st.latencySum / st.latencyCount,
    maxLatencyMs: st.latencyCount === 0 ? null : st.latencyMax,
    avgAgeMs: st.ageCount === 0 ? null : st.ageSum / st.ageCount,
  };
}
