/**
 * Polygon (now Massive) minute bars for feed: the per-minute aggregates stream as a BarFeed, historical aggregates over REST behind the same history interface as Alpaca, the download command and a fake Polygon server for tests.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/polygon
 */
export { PolygonHistoricalClient, POLYGON_URL, KEY_VARIABLE, aggregateOf } from './history.js';
export type { PolygonHistoryOptions, PolygonBarsRequest } from './history.js';
export { PolygonMultiSymbolFeed, REALTIME_URL, DELAYED_URL, luldOf, polygonLuldEffect } from './feed.js';
export type { PolygonFeedOptions, PolygonFeedStats, PolygonFeedEvent } from './feed.js';
export { PolygonCorporateActionsClient } from './corporate-actions.js';
export type { PolygonCorporateActionsOptions } from './corporate-actions.js';
