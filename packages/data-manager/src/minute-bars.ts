import type { Bar, Listener, MarketSession, Unsubscribe } from '@feed/core';
import { TypedEmitter, invalidOption, nyse } from '@feed/core';
import type { MultiSymbolDataManager } from './data-manager.js';
import type { Snapshot } from './types.js';

/** The sessions an aggregator aligns to: `nyse` of `@feed/core`, or a calendar of the same shape. */
export interface SessionCalendar {
  /** The regular session a bar starting at `start` belongs to (its open <= start <= its close), if any. */
  sessionOfBar(start: number): MarketSession | undefined;
}

/**
 * One N-minute bar of one symbol, built from the one-minute bars the data manager accepted: the
 * `Bar` fields (`start` aligned to the session open: 09:30, 09:35, ... for 5 minutes; `end` is
 * `start` + N minutes, or the session's close when it comes first, then `partial`), and what it is made of.
 */
export interface MinutesBar extends Pick<Bar, 'symbol' | 'start' | 'end' | 'open' | 'high' | 'low' | 'close' | 'volume'> {
  /** Minutes of the bar that had a real one-minute bar. */
  readonly minutes: number;
  /** Minutes that had no bar and were forward-filled (counted, priced at the previous close, volume 0). */
  readonly filledMinutes: number;
  /** Minutes with neither a bar nor a forward fill (the symbol was stale or never seen), a halt aside. */
  readonly missingMinutes: number;
  /** Minutes without a bar while a trading halt or pause was in force (counted here, not as filled or missing). */
  readonly haltedMinutes: number;
  /**
   * Shorter than N minutes: the session closed first (a 13:00 close, or N does not divide the
   * session), or it is the closing-auction minute's own bar (a bar starting at the close).
   */
  readonly partial: boolean;
  /** A re-emission: a one-minute bar in it was revised after it was first emitted. */
  readonly revised: boolean;
  /**
   * Built from a warm-up's minutes (`dm.warmUp`, a feed's `warmUp()`), emitted when the warm-up was
   * loaded, before any live bar: for indicators to start warm. Only buckets complete at the seam.
   */
  readonly warmUp: boolean;
}

/** `aggregator.on('bar', ({ bar }) => ...)`: an N-minute bar is final (or revised). */
export interface MinutesBarEvent {
  readonly type: 'bar';
  readonly bar: MinutesBar;
}

/** Options of `MinuteBarAggregator`. */
export interface MinuteBarOptions {
  /** N: from 2 to 390. */
  readonly minutes: number;
  /** @default nyse (from `@feed/core`) */
  readonly calendar?: SessionCalendar;
}

interface Bucket {
  start: number;
  end: number;
  partial: boolean;
  filled: number;
  missing: number;
  halted: number;
  emitted: boolean;
}

/**
 * N-minute bars from a data manager's one-minute bars (docs/semantics.md, "N-minute bars"):
 * aligned to each session's open, emitted once, at the slice of their last minute (the same
 * boundary rule as slices, so replay and live agree), re-emitted with `revised` when a minute in
 * them is revised. Forward-filled minutes are counted in the bar; bars outside regular hours are
 * not aggregated.
 */
export class MinuteBarAggregator {
  readonly minutes: number;
  readonly #dm: MultiSymbolDataManager;
  readonly #calendar: SessionCalendar;
  readonly #spanMs: number;
  readonly #intervalMs: number;
  readonly #emitter: TypedEmitter<MinutesBarEvent>;
  /** Per symbol: the bucket being filled, and the emitted ones that a revision may reopen. */
  readonly #open = new Map<string, Bucket>();
  readonly #done = new Map<string, Bucket[]>();
  readonly #off: Unsubscribe[];
  #emitted = 0;

  constructor(dm: MultiSymbolDataManager, options: MinuteBarOptions) {
    if (!Number.isInteger(options.minutes) || options.minutes < 2 || options.minutes > 390) throw invalidOption('minutes', `must be a whole number from 2 to 390 (got ${String(options.minutes)})`);
    this.minutes = options.minutes;
    this.#dm = dm;
    this.#calendar = options.calendar ?? nyse;
    this.#intervalMs = dm.options.intervalMs;
    this.#spanMs = options.minutes * this.#intervalMs;
    this.#emitter = new TypedEmitter<MinutesBarEvent>((error) => {
      queueMicrotask(() => {
        throw error;
      });
    });
    const grace = dm.options.sliceGraceMs;
    this.#off = [
      dm.on('slice', ({ slice }) => this.#onSlice(slice)),
      dm.on('revision', ({ bar }) => this.#onRevision(bar)),
      dm.on('warmup', ({ from, to }) => this.#onWarmUp(from, to)),
      // A bucket whose last minutes have no bar for any symbol (no slice) closes as a slice would:
      // when the clock passes its end plus the grace.
      dm.options.clock.onTick((now) => {
        for (const [symbol, open] of this.#open) {
          if (now < open.end + grace) continue;
          this.#emit(symbol, open, false);
          this.#open.delete(symbol);
        }
      }),
    ];
  }

  /** Subscribes to N-minute bars. */
  on(type: 'bar', listener: Listener<MinutesBarEvent>): Unsubscribe {
    return this.#emitter.on(type, listener);
  }

  /** N-minute bars emitted so far (re-emissions included). */
  get emitted(): number {
    return this.#emitted;
  }

  /** Stops listening to the data manager. */
  dispose(): void {
    for (const off of this.#off) off();
  }

  /** The bucket a minute starting at `start` belongs to, or undefined outside regular hours. */
  #bucketOf(start: number): Bucket | undefined {
    const session = this.#calendar.sessionOfBar(start);
    if (session === undefined) return undefined;
    if (start >= session.close) return { start, end: start + this.#intervalMs, partial: true, filled: 0, missing: 0, halted: 0, emitted: false };
    const b = session.open + Math.floor((start - session.open) / this.#spanMs) * this.#spanMs;
    const end = Math.min(b + this.#spanMs, session.close);
    return { start: b, end, partial: end - b < this.#spanMs, filled: 0, missing: 0, halted: 0, emitted: false };
  }

  #onSlice(slice: Snapshot): void {
    const minuteStart = slice.asOf - this.#intervalMs;
    const bucket = this.#bucketOf(minuteStart);
    for (const entry of slice.entries) {
      const symbol = entry.symbol;
      let open = this.#open.get(symbol);
      // A bucket whose last minute had no slice closes at the first slice after it.
      if (open !== undefined && (bucket === undefined || open.start !== bucket.start)) {
        this.#emit(symbol, open, false);
        open = undefined;
        this.#open.delete(symbol);
      }
      if (bucket === undefined) continue;
      if (open === undefined) {
        open = { ...bucket };
        this.#open.set(symbol, open);
      }
      if (slice.asOf >= open.end) {
        this.#emit(symbol, open, false);
        this.#open.delete(symbol);
      }
    }
  }

  #onRevision(bar: Bar): void {
    const done = this.#done.get(bar.symbol);
    const b = done?.find((x) => bar.start >= x.start && bar.start < x.end);
    if (b !== undefined) this.#emit(bar.symbol, b, true);
  }

  /**
   * A warm-up was loaded (minutes `from`..`to`): the buckets its minutes fall in that are complete at
   * the seam (end <= `to` + one interval) are emitted now, `warmUp: true`, in time order; the bucket
   * the seam cuts is left open for the live minutes that complete it.
   */
  #onWarmUp(from: number, to: number): void {
    const seam = to + this.#intervalMs;
    const out: { symbol: string; order: number; bucket: Bucket }[] = [];
    const symbols = this.#dm.symbols;
    for (let order = 0; order < symbols.length; order++) {
      const symbol = symbols[order] as string;
      let last: Bucket | undefined;
      for (const bar of this.#dm.barsBetween(symbol, from, seam)) {
        if (last !== undefined && bar.start < last.end) continue;
        const b = this.#bucketOf(bar.start);
        if (b === undefined || b.end > seam) continue;
        last = b;
        out.push({ symbol, order, bucket: b });
      }
    }
    out.sort((a, b) => a.bucket.start - b.bucket.start || a.order - b.order);
    for (const x of out) this.#emit(x.symbol, x.bucket, false, true);
  }

  #emit(symbol: string, b: Bucket, revised: boolean, warmUp = false): void {
    const bars = this.#dm.barsBetween(symbol, b.start, b.end);
    // The minutes without a bar: forward-filled or not, as a snapshot at each minute's end says
    // (a minute with no bar for any symbol has no slice, so slices cannot count them).
    b.filled = 0;
    b.missing = 0;
    b.halted = 0;
    let j = 0;
    for (let m = b.start; m < b.end; m += this.#intervalMs) {
      while (j < bars.length && (bars[j] as Bar).start < m) j++;
      if (j < bars.length && (bars[j] as Bar).start === m) continue;
      const entry = this.#dm.getLatestSnapshot(m + this.#intervalMs).entry(symbol);
      if (entry?.halted === true) b.halted++;
      else if (entry?.forwardFilled) b.filled++;
      else b.missing++;
    }
    const first = bars[0];
    if (first === undefined) {
      // No real minute: a bar only when forward fill priced it, or a halt held it (the close carried forward).
      const before = this.#dm.barsBetween(symbol, Number.NEGATIVE_INFINITY, b.start).at(-1);
      if ((b.filled === 0 && b.halted === 0) || before === undefined) return this.#keep(symbol, b);
      const p = before.close;
      this.#send({ symbol, start: b.start, end: b.end, open: p, high: p, low: p, close: p, volume: 0, minutes: 0, filledMinutes: b.filled, missingMinutes: b.missing, haltedMinutes: b.halted, partial: b.partial, revised, warmUp });
      return this.#keep(symbol, b);
    }
    let high = first.high;
    let low = first.low;
    let volume = 0;
    for (const x of bars) {
      if (x.high > high) high = x.high;
      if (x.low < low) low = x.low;
      volume += x.volume;
    }
    const last = bars[bars.length - 1] as Bar;
    this.#send({ symbol, start: b.start, end: b.end, open: first.open, high, low, close: last.close, volume, minutes: bars.length, filledMinutes: b.filled, missingMinutes: b.missing, haltedMinutes: b.halted, partial: b.partial, revised, warmUp });
    this.#keep(symbol, b);
  }

  /** Emitted buckets stay reachable for revisions for one session's worth of buckets. */
  #keep(symbol: string, b: Bucket): void {
    if (b.emitted) return;
    b.emitted = true;
    const list = this.#done.get(symbol) ?? [];
    list.push(b);
    if (list.length > Math.ceil(391 / this.minutes) + 1) list.shift();
    this.#done.set(symbol, list);
  }

  #send(bar: MinutesBar): void {
    this.#emitted++;
    this.#emitter.emit({ type: 'bar', bar: Object.freeze(bar) });
  }
}
