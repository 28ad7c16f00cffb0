/** One minute (the default bar interval), in milliseconds. */
export const MINUTE_MS = 60_000;

/**
 * An OHLCV bar covering the half-open interval [start, end). A bar is known only from its `end`:
 * nothing may use it before the clock reaches `end` (semantics.md, "Time").
 */
export interface Bar {
  readonly symbol: string;
  /** Open time, epoch milliseconds. CSV files and Alpaca label a bar by its start. */
  readonly start: number;
  /** Close time, epoch milliseconds: `start + interval`. */
  readonly end: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Volume-weighted average price, when the source has it. */
  readonly vwap?: number;
  /** Number of trades in the bar, when the source has it. */
  readonly tradeCount?: number;
  /** When the feed handed the bar over, on the feed's clock. For latency statistics only. */
  readonly receivedAt: number;
}

/** Fields of a bar as a source produces them; `end` defaults to `start + interval`. */
export interface BarInit {
  symbol: string;
  start: number;
  end?: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap?: number | undefined;
  tradeCount?: number | undefined;
  receivedAt: number;
}

/**
 * Builds a `Bar` with a fixed property order and no `undefined` optional fields, so that every bar
 * has the same hidden class (fast property access) and compares equal field by field across sources.
 */
export function makeBar(init: BarInit, intervalMs: number = MINUTE_MS): Bar {
  const bar: {
    symbol: string;
    start: number;
    end: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    vwap?: number;
    tradeCount?: number;
    receivedAt: number;
  } = {
    symbol: init.symbol,
    start: init.start,
    end: init.end ?? init.start + intervalMs,
    open: init.open,
    high: init.high,
    low: init.low,
    close: init.close,
    volume: init.volume,
    receivedAt: init.receivedAt,
  };
  if (init.vwap !== undefined) bar.vwap = init.vwap;
  if (init.tradeCount !== undefined) bar.tradeCount = init.tradeCount;
  return bar;
}

/**
 * A frozen `Bar` from stored values: the one function that turns columns (a replay's, a history
 * ring's, a CSV or Arrow file's) or a decoded message back into a bar, with `makeBar`'s property order.
 * `vwap` NaN and `tradeCount` < 0 or NaN mean absent.
 */
export function barFromValues(
  symbol: string,
  start: number,
  intervalMs: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
  vwap: number,
  tradeCount: number,
  receivedAt: number,
): Bar {
  return new FrozenBar(symbol, start, start + intervalMs, open, high, low, close, volume, vwap, tradeCount, receivedAt);
}

/**
 * The bars `barFromValues` makes: plain data frozen in the constructor, so that `isFrozenBar` can
 * tell them apart by class (one prototype check) rather than by `Object.isFrozen` (a walk of the
 * properties, ~30 ns). Field by field they equal the plain object of the same bar.
 */
class FrozenBar implements Bar {
  readonly symbol: string;
  readonly start: number;
  readonly end: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly receivedAt: number;
  declare readonly vwap?: number;
  declare readonly tradeCount?: number;

  constructor(
    symbol: string,
    start: number,
    end: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    vwap: number,
    tradeCount: number,
    receivedAt: number,
  ) {
    this.symbol = symbol;
    this.start = start;
    this.end = end;
    this.open = open;
    this.high = high;
    this.low = low;
    this.close = close;
    this.volume = volume;
    this.receivedAt = receivedAt;
    const self = this as { vwap?: number; tradeCount?: number };
    if (vwap === vwap) self.vwap = vwap;
    if (tradeCount >= 0) self.tradeCount = tradeCount;
    Object.freeze(this);
  }
}

/**
 * True when `bar` was made by `barFromValues` (or `withReceivedAt`): frozen by construction, so a
 * holder may keep the object itself rather than a copy. A cheap test (a prototype check); other
 * bars, even frozen ones, answer false.
 */
export function isFrozenBar(bar: Bar): boolean {
  return bar instanceof FrozenBar;
}

/** The same bar with another `receivedAt` (a frozen bar, `isFrozenBar`). */
export function withReceivedAt(bar: Bar, receivedAt: number): Bar {
  return new FrozenBar(
    bar.symbol,
    bar.start,
    bar.end,
    bar.open,
    bar.high,
    bar.low,
    bar.close,
    bar.volume,
    bar.vwap ?? Number.NaN,
    bar.tradeCount ?? -1,
    receivedAt,
  );
}

/** True when two bars carry the same market data (symbol, times, OHLCV, vwap, trade count); `receivedAt` is ignored. */
export function sameBarData(a: Bar, b: Bar): boolean {
  return (
    a.symbol === b.symbol &&
    a.start === b.start &&
    a.end === b.end &&
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.close === b.close &&
    a.volume === b.volume &&
    a.vwap === b.vwap &&
    a.tradeCount === b.tradeCount
  );
}
