/**
 * Multi-symbol CSV replay feed, synchronized by timestamp, implementing BarFeed.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/mock
 */
export { AUTO_THREAD_FILES, MockMultiSymbolFeed } from './mock-feed.js';
export type {
  MockFeedOptions,
  MockFeedEvent,
  MockFeedStats,
  ProgressEvent,
  CompleteEvent,
  LoadedEvent,
  WarningEvent,
  DateFilter,
} from './mock-feed.js';
