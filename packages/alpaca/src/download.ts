import type { DownloadOptions, DownloadReport } from '@feed/live';
import { downloadBars as download } from '@feed/live';
import type { HistoricalClientOptions } from './rest.js';
import { AlpacaHistoricalClient } from './rest.js';

/** Options of Alpaca's `downloadBars`: the shared download's, with an Alpaca history client by default. */
export interface AlpacaDownloadOptions extends Omit<DownloadOptions, 'history'>, Omit<HistoricalClientOptions, 'feed'> {
  /**
   * The feed to read.
   * @default 'iex'
   */
  feed?: 'iex' | 'sip' | 'delayed_sip';
  /**
   * Where the bars come from.
   * @default an AlpacaHistoricalClient with the other options
   */
  history?: DownloadOptions['history'];
}

/**
 * `@feed/live`'s `downloadBars` from Alpaca: minute bars for `symbols` over the sessions from `from`
 * to `to`, one file per symbol in the real-data format, regular hours only.
 */
export function downloadBars(options: AlpacaDownloadOptions): Promise<DownloadReport> {
  const feed = options.feed ?? 'iex';
  // With its own client, the bars are Alpaca's raw ones: recorded as such.
  const basis = options.basis ?? (options.history === undefined ? { provider: 'alpaca', feed, adjustment: 'raw' as const } : undefined);
  return download({ ...options, ...(basis === undefined ? {} : { basis }), history: options.history ?? new AlpacaHistoricalClient({ ...options, feed }) });
}
