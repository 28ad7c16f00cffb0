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
  const bar: { -readonly [K in keyof Bar]: Bar[K] } = { symbol, start, end: start + intervalMs, open, high, low, close, volume, receivedAt };
  if (vwap === vwap) bar.vwap = vwap;
  if (tradeCount >= 0) bar.tradeCount = tradeCount;
  return Object.freeze(bar);
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
