/**
 * Alpaca market-data stream and historical bars, implementing BarFeed, with reconnect and gap fill.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/alpaca
 */
export type { AlpacaFeedName } from './urls.js';
export { streamUrl } from './urls.js';
export type { AlpacaFeedOptions, Channels, KeepAliveOptions, WatchdogOptions, GapFillOptions, ResolvedFeedOptions } from './feed-options.js';
export { resolveFeedOptions } from './feed-options.js';
export type { AlpacaFeedStats, AlpacaFeedEvent, LatencyStats, FeedResources } from './stream.js';
export { AlpacaMultiSymbolFeed } from './stream.js';
export { AlpacaError, FATAL_CODES } from './errors.js';
export type { AlpacaKeys } from './credentials.js';
export { Credentials, KEY_VARIABLES, resolveCredentials, missingKeysMessage } from './credentials.js';
export type { StreamEncoding, StreamMessage, Subscription, BarMessageType, DecodedFrame } from './messages.js';
export { alpacaStatusEffect, decodeFrame, parseRfc3339, statusOf } from './messages.js';
export type { HistoricalClientOptions, BarsRequest } from './rest.js';
export { AlpacaHistoricalClient, DATA_URL, SANDBOX_DATA_URL } from './rest.js';
export type { AlpacaDownloadOptions } from './download.js';
export { downloadBars } from './download.js';
export { AlpacaCorporateActionsClient } from './corporate-actions.js';
export type { CorporateActionsClientOptions } from './corporate-actions.js';
