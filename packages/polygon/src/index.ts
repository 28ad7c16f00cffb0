export { PolygonHistoricalClient, POLYGON_URL, KEY_VARIABLE, aggregateOf } from './history.js';
export type { PolygonHistoryOptions, PolygonBarsRequest } from './history.js';
export { PolygonMultiSymbolFeed, REALTIME_URL, DELAYED_URL } from './feed.js';
export type { PolygonFeedOptions, PolygonFeedStats, PolygonFeedEvent } from './feed.js';
