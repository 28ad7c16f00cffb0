/**
 * Bars on NATS JetStream for feed: a publisher that puts any BarFeed's bars on a stream, and NatsBarFeed, a BarFeed that reads them live or replays a stored range, resuming where a program stopped.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/nats
 */
export { BarPublisher, DEFAULT_MAX_AGE_MS, latestStoredStart } from './publisher.js';
export type { PublisherOptions, PublisherEvent, PublisherStats } from './publisher.js';
export { NatsBarFeed } from './feed.js';
export { NatsHistory } from './history.js';
export type { NatsHistoryOptions } from './history.js';
export type { NatsBarFeedOptions, StartFrom } from './feed.js';
export { connectNats } from './connection.js';
export type { NatsConnectOptions } from './connection.js';
export { PAYLOAD_VERSION, SINGLE_BAR_VERSION, STATUS_VERSION, batchId, decodeBar, decodeBars, decodeStatus, encodeBar, encodeBars, encodeStatus, messageId, statusId } from './codec.js';
export type { DecodedBar } from './codec.js';
export { BATCH_TOKEN, STATUS_TOKEN, DEFAULT_PREFIX, DEFAULT_STREAM, subjectOf } from './subjects.js';
export { ConnectionLease, leaseAccount } from './lease.js';
export type { LeaseEvent, LeaseOptions } from './lease.js';
