export { BarPublisher, DEFAULT_MAX_AGE_MS } from './publisher.js';
export type { PublisherOptions, PublisherEvent, PublisherStats } from './publisher.js';
export { NatsBarFeed } from './feed.js';
export type { NatsBarFeedOptions, StartFrom } from './feed.js';
export { connectNats } from './connection.js';
export type { NatsConnectOptions } from './connection.js';
export { PAYLOAD_VERSION, SINGLE_BAR_VERSION, batchId, decodeBar, decodeBars, encodeBar, encodeBars, messageId } from './codec.js';
export type { DecodedBar } from './codec.js';
export { BATCH_TOKEN, DEFAULT_PREFIX, DEFAULT_STREAM, subjectOf } from './subjects.js';
