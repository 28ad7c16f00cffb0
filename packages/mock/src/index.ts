export { MockMultiSymbolFeed } from './mock-feed.js';
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
