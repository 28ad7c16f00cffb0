export { PolygonHistoricalClient, POLYGON_URL, KEY_VARIABLE, aggregateOf } from './history.js';
export type { PolygonHistoryOptions, PolygonBarsRequest } from './history.js';
