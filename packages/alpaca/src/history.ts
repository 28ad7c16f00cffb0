import type { Bar } from '@feed/core';

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
 * A reader of historical minute bars: what a live feed's gap fill needs of a provider (Alpaca's
 * `AlpacaHistoricalClient`, Polygon's, or your own).
 */
export interface HistoricalBars {
  /** Every bar of the request, per symbol, in time order. */
  barsBySymbol(request: HistoryRequest): Promise<Map<string, Bar[]>>;
}

/** A wait before a retry of a history request. */
export interface RetryInfo {
  /** The retry's number for this request (1 = the first). */
  readonly attempt: number;
  /** How long the client waits before it, in milliseconds. */
  readonly delayMs: number;
  /** Why: `server error (503)`, `rate limited (429)`, a network error. */
  readonly reason: string;
  /** The HTTP status that caused it, or 0 for no response. */
  readonly status: number;
}
