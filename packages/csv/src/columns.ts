import type { AdjustmentSegment, Bar } from '@feed/core';
import { barFromValues } from '@feed/core';

/**
 * One symbol's bars as columns: no object per bar until replay. `vwap` and `trades` exist only
 * when a row carried them (the real-data files have neither), so a bar costs 48 bytes, or 64 with both.
 */
export class BarColumns {
  start: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** NaN where a row has none; undefined when no row has one. */
  vwap: Float64Array | undefined;
  /** -1 where a row has none; undefined when no row has one. */
  trades: Float64Array | undefined;
  length = 0;

  constructor(capacity = 1024) {
    const z = new Float64Array(0);
    this.start = this.open = this.high = this.low = this.close = this.volume = z;
    this.resize(Math.max(1, capacity));
  }

  /** Columns over existing arrays (an Arrow file's, a slice): no copy. */
  static of(c: Pick<BarColumns, 'start' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'vwap' | 'trades'>): BarColumns {
    const b = new BarColumns(1);
    b.start = c.start;
    b.open = c.open;
    b.high = c.high;
    b.low = c.low;
    b.close = c.close;
    b.volume = c.volume;
    b.vwap = c.vwap;
    b.trades = c.trades;
    b.length = c.start.length;
    return b;
  }

  /** Bytes held by the columns. */
  get byteLength(): number {
    let n = 0;
    for (const a of [this.start, this.open, this.high, this.low, this.close, this.volume, this.vwap, this.trades]) n += a?.byteLength ?? 0;
    return n;
  }

  /** Reallocates every column to `capacity` rows, keeping the first `length`. */
  private resize(capacity: number): void {
    const r = (a: Float64Array, fill?: number): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, Math.min(this.length, capacity)));
      if (fill !== undefined && capacity > this.length) b.fill(fill, this.length);
      return b;
    };
    this.start = r(this.start);
    this.open = r(this.open);
    this.high = r(this.high);
    this.low = r(this.low);
    this.close = r(this.close);
    this.volume = r(this.volume);
    if (this.vwap !== undefined) this.vwap = r(this.vwap, Number.NaN);
    if (this.trades !== undefined) this.trades = r(this.trades, -1);
  }

  /** Appends a row; `vw` NaN and `n` < 0 mean absent. */
  push(start: number, o: number, h: number, l: number, c: number, v: number, vw: number, n: number): void {
    if (this.length === this.start.length) this.resize(this.length * 2);
    const i = this.length++;
    this.start[i] = start;
    this.open[i] = o;
    this.high[i] = h;
    this.low[i] = l;
    this.close[i] = c;
    this.volume[i] = v;
    if (vw === vw) (this.vwap ??= new Float64Array(this.start.length).fill(Number.NaN))[i] = vw;
    if (n >= 0) (this.trades ??= new Float64Array(this.start.length).fill(-1))[i] = n;
  }

  /** Releases unused capacity. */
  trim(): void {
    if (this.start.length !== this.length) this.resize(this.length);
  }

  /** Rows [from, to) as views of the same memory. */
  slice(from: number, to: number): BarColumns {
    return BarColumns.of({
      start: this.start.subarray(from, to),
      open: this.open.subarray(from, to),
      high: this.high.subarray(from, to),
      low: this.low.subarray(from, to),
      close: this.close.subarray(from, to),
      volume: this.volume.subarray(from, to),
      vwap: this.vwap?.subarray(from, to),
      trades: this.trades?.subarray(from, to),
    });
  }

  /**
   * A copy with prices (and vwap) and volumes scaled by `segments` (core's `adjustmentSegments`): a
   * row starting before a segment's `before` (and not before the previous one's) gets its factors,
   * multiplied in the same way `adjustBars` does, so both give the same numbers to the last bit.
   * The stored columns are never changed.
   */
  adjusted(segments: readonly AdjustmentSegment[]): BarColumns {
    if (segments.length === 0) return this;
    const n = this.length;
    const copy = (a: Float64Array): Float64Array => a.slice(0, n);
    const out = BarColumns.of({ start: this.start.subarray(0, n), open: copy(this.open), high: copy(this.high), low: copy(this.low), close: copy(this.close), volume: copy(this.volume), vwap: this.vwap === undefined ? undefined : copy(this.vwap), trades: this.trades?.subarray(0, n) });
    let from = 0;
    for (const seg of segments) {
      const to = this.lowerBound(seg.before);
      for (let i = from; i < to; i++) {
        out.open[i] = (out.open[i] as number) * seg.price;
        out.high[i] = (out.high[i] as number) * seg.price;
        out.low[i] = (out.low[i] as number) * seg.price;
        out.close[i] = (out.close[i] as number) * seg.price;
        out.volume[i] = (out.volume[i] as number) * seg.volume;
        if (out.vwap !== undefined) out.vwap[i] = (out.vwap[i] as number) * seg.price;
      }
      if (to > from) from = to;
    }
    return out;
  }

  /** The first row whose start is >= `t` (binary search; rows are in start order). */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.start[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Row `i` as a frozen `Bar` (core's `barFromValues`). */
  bar(i: number, symbol: string, intervalMs: number, receivedAt: number, shift = 0): Bar {
    return barFromValues(
      symbol,
      (this.start[i] as number) + shift,
      intervalMs,
      this.open[i] as number,
      this.high[i] as number,
      this.low[i] as number,
      this.close[i] as number,
      this.volume[i] as number,
      this.vwap === undefined ? Number.NaN : (this.vwap[i] as number),
      this.trades === undefined ? -1 : (this.trades[i] as number),
      receivedAt,
    );
  }
}
