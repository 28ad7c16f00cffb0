import type { Bar } from '@feed/core';
import { barFromValues } from '@feed/core';

// Fields of one stored bar: 9 numbers (72 bytes), against ~130 bytes for a Bar object.
const START = 0;
const OPEN = 1;
const HIGH = 2;
const LOW = 3;
const CLOSE = 4;
const VOLUME = 5;
const VWAP = 6; // NaN when absent
const TRADES = 7; // -1 when absent
const RECEIVED = 8;
const STRIDE = 9;

/** Symbols whose rings share one block. */
const GROUP = 1024;
/** Largest block, in numbers (64 MiB). */
const MAX_BLOCK = 8 * 1024 * 1024;

/**
 * The storage of all history rings: one Float64Array block per group of symbols, allocated when the
 * first symbol of the group stores a bar. Within a block, slot j of every symbol in the group is
 * contiguous ("slot-major"): symbols that advance in step, as a whole market does at the top of a
 * minute, write neighbouring memory instead of one page per symbol.
 */
export class RingStore {
  private readonly blocks: (Float64Array | undefined)[] = [];
  readonly groupSize: number;

  constructor(
    readonly capacity: number,
    private readonly totalRings: number,
  ) {
    this.groupSize = Math.max(1, Math.min(GROUP, totalRings, Math.floor(MAX_BLOCK / (capacity * STRIDE))));
  }

  /** The block of group `g`, allocated on first use (the OS zero-fills its pages as they are touched). */
  block(g: number): Float64Array {
    let b = this.blocks[g];
    if (b === undefined) {
      const rings = Math.min(this.groupSize, this.totalRings - g * this.groupSize);
      b = new Float64Array(rings * this.capacity * STRIDE);
      this.blocks[g] = b;
    }
    return b;
  }

  /** Distance between consecutive slots of one ring in group `g`. */
  slotStride(g: number): number {
    return Math.min(this.groupSize, this.totalRings - g * this.groupSize) * STRIDE;
  }
}

/**
 * A fixed-capacity ring of one symbol's real bars, oldest to newest, O(1) per append. Starts are
 * strictly increasing (the manager rejects out-of-order bars), so a bar is found by binary search.
 */
export class HistoryRing {
  private data: Float64Array | undefined;
  private readonly base: number;
  private readonly stride: number;
  private readonly group: number;
  readonly capacity: number;
  /** Physical slot of the oldest bar. */
  private head = 0;
  private count = 0;
  /**
   * The newest bar's start, kept beside the ring: a slice asks every ring for it, and the ring's own
   * line may have left the cache since the bar was stored.
   */
  private newestStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: RingStore,
    index: number,
    readonly symbol: string,
    private readonly intervalMs: number,
  ) {
    this.group = Math.floor(index / store.groupSize);
    this.base = (index - this.group * store.groupSize) * STRIDE;
    this.stride = store.slotStride(this.group);
    this.capacity = store.capacity;
  }

  /** Bars stored. */
  get size(): number {
    return this.count;
  }

  private offset(i: number): number {
    let p = this.head + i;
    if (p >= this.capacity) p -= this.capacity;
    return this.base + p * this.stride;
  }

  private write(o: number, bar: Bar): void {
    const d = (this.data ??= this.store.block(this.group));
    d[o + START] = bar.start;
    d[o + OPEN] = bar.open;
    d[o + HIGH] = bar.high;
    d[o + LOW] = bar.low;
    d[o + CLOSE] = bar.close;
    d[o + VOLUME] = bar.volume;
    d[o + VWAP] = bar.vwap ?? Number.NaN;
    d[o + TRADES] = bar.tradeCount ?? -1;
    d[o + RECEIVED] = bar.receivedAt;
  }

  /**
   * Appends the newest bar from its numbers (read once by the caller; `vwap` NaN and `trades` -1 when
   * absent), evicting the oldest when full.
   */
  pushValues(start: number, open: number, high: number, low: number, close: number, volume: number, vwap: number, trades: number, receivedAt: number): void {
    let o: number;
    if (this.count < this.capacity) {
      o = this.offset(this.count);
      this.count++;
    } else {
      o = this.base + this.head * this.stride;
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    }
    const d = (this.data ??= this.store.block(this.group));
    this.newestStart = start;
    d[o + START] = start;
    d[o + OPEN] = open;
    d[o + HIGH] = high;
    d[o + LOW] = low;
    d[o + CLOSE] = close;
    d[o + VOLUME] = volume;
    d[o + VWAP] = vwap;
    d[o + TRADES] = trades;
    d[o + RECEIVED] = receivedAt;
  }

  /** Appends the newest bar, evicting the oldest when full. */
  push(bar: Bar): void {
    this.pushValues(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap ?? Number.NaN, bar.tradeCount ?? -1, bar.receivedAt);
  }

  private startAt(i: number): number {
    return (this.data as Float64Array)[this.offset(i) + START] as number;
  }

  /** The logical index (0 = oldest) of the bar starting at `start`, or -1. */
  indexOf(start: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.startAt(mid);
      if (s === start) return mid;
      if (s < start) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The logical index of the newest bar whose end is <= `t`, or -1. O(1) for the newest two. */
  lastEndingBy(t: number): number {
    const latestStart = t - this.intervalMs;
    const n = this.count;
    if (n === 0) return -1;
    if (this.newestStart <= latestStart) return n - 1;
    if (n === 1) return -1;
    if (this.startAt(n - 2) <= latestStart) return n - 2;
    let lo = 0;
    let hi = n - 3;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startAt(mid) <= latestStart) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The close of the bar at logical index `i`. */
  closeAt(i: number): number {
    return (this.data as Float64Array)[this.offset(i) + CLOSE] as number;
  }

  /** The start of the bar at logical index `i`. */
  barStart(i: number): number {
    return i === this.count - 1 ? this.newestStart : this.startAt(i);
  }

  /** True when the stored bar at `i` carries the same market data as `bar` (`receivedAt` ignored). */
  sameAt(i: number, bar: Bar): boolean {
    const o = this.offset(i);
    const d = this.data as Float64Array;
    const vwap = d[o + VWAP] as number;
    const trades = d[o + TRADES] as number;
    return (
      d[o + START] === bar.start &&
      d[o + OPEN] === bar.open &&
      d[o + HIGH] === bar.high &&
      d[o + LOW] === bar.low &&
      d[o + CLOSE] === bar.close &&
      d[o + VOLUME] === bar.volume &&
      (Number.isNaN(vwap) ? bar.vwap === undefined : vwap === bar.vwap) &&
      (trades < 0 ? bar.tradeCount === undefined : trades === bar.tradeCount)
    );
  }

  /** Replaces the bar at logical index `i` (a revision). */
  replace(i: number, bar: Bar): void {
    this.write(this.offset(i), bar);
  }

  /**
   * Multiplies the prices (and vwap) of every stored bar starting before `t` by `price`, and their
   * volumes by `volume` (a corporate action's rebasing). Returns how many bars it changed.
   */
  scaleBefore(t: number, price: number, volume: number): number {
    const d = this.data;
    if (d === undefined) return 0;
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const o = this.offset(i);
      if ((d[o + START] as number) >= t) break;
      d[o + OPEN] = (d[o + OPEN] as number) * price;
      d[o + HIGH] = (d[o + HIGH] as number) * price;
      d[o + LOW] = (d[o + LOW] as number) * price;
      d[o + CLOSE] = (d[o + CLOSE] as number) * price;
      d[o + VWAP] = (d[o + VWAP] as number) * price; // NaN stays NaN
      d[o + VOLUME] = (d[o + VOLUME] as number) * volume;
      n++;
    }
    return n;
  }

  /** The bar at logical index `i` (0 = oldest), as a new frozen object. */
  get(i: number): Bar {
    const o = this.offset(i);
    const d = this.data as Float64Array;
    return barFromValues(
      this.symbol,
      d[o + START] as number,
      this.intervalMs,
      d[o + OPEN] as number,
      d[o + HIGH] as number,
      d[o + LOW] as number,
      d[o + CLOSE] as number,
      d[o + VOLUME] as number,
      d[o + VWAP] as number,
      d[o + TRADES] as number,
      d[o + RECEIVED] as number,
    );
  }

  /** The newest `n` bars (all when `n` >= size), oldest first. */
  recent(n: number): Bar[] {
    const k = Math.max(0, Math.min(n, this.count));
    const out = new Array<Bar>(k);
    for (let j = 0; j < k; j++) out[j] = this.get(this.count - k + j);
    return out;
  }
}
