import type { Bar } from './bar.js';

/** What any provider's history client takes: symbols and a range of bar starts, abortable. */
export interface HistoryRequest {
  readonly symbols: readonly string[];
  /** First bar start to include (inclusive): epoch ms, a `Date`, or an RFC 3339 string. */
  readonly start: number | Date | string;
  /**
   * Last bar start to include (inclusive).
   * @default now
   */
  readonly end?: number | Date | string;
  /** Aborts the call at once: requests in flight and waits end, and the promise rejects (`aborted`). */
  readonly signal?: AbortSignal;
}

/**
 * A reader of historical minute bars: what a live feed's gap fill, a warm-up or a download needs of
 * a provider (`AlpacaHistoricalClient` in `@feed/alpaca`, `PolygonHistoricalClient` in
 * `@feed/polygon`, or your own). It sits beside `BarFeed`: a history client is to REST what a feed
 * is to a stream.
 */
export interface HistoricalBars {
  /** Every bar of the request, per symbol, in time order. */
  barsBySymbol(request: HistoryRequest): Promise<Map<string, Bar[]>>;
}
