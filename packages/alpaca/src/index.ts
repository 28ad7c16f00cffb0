export type { AlpacaFeedName } from './urls.js';
export { streamUrl } from './urls.js';
export type {
  AlpacaFeedOptions,
  AlpacaFeedStats,
  AlpacaFeedEvent,
  Channels,
  KeepAliveOptions,
  WatchdogOptions,
  LatencyStats,
  FeedResources,
  GapFillOptions,
} from './stream.js';
export { AlpacaMultiSymbolFeed, FATAL_CODES } from './stream.js';
export type { ReconnectPolicy } from './backoff.js';
export { DEFAULT_RECONNECT_POLICY, backoffDelay, resolveReconnectPolicy } from './backoff.js';
export type { AlpacaKeys } from './credentials.js';
export { Credentials, KEY_VARIABLES, resolveCredentials, missingKeysMessage } from './credentials.js';
export type { StreamEncoding, StreamMessage, Subscription, BarMessageType, DecodedFrame } from './messages.js';
export { decodeFrame, parseRfc3339 } from './messages.js';
export type { WebSocketLike, WebSocketFactory } from './socket.js';
export { defaultWebSocketFactory } from './socket.js';
export type { HistoricalClientOptions, BarsRequest, HistoricalBars } from './rest.js';
export { AlpacaHistoricalClient, DATA_URL, SANDBOX_DATA_URL } from './rest.js';
export type { DownloadOptions, DownloadProgress, DownloadedFile, DownloadReport } from './download.js';
export { downloadBars } from './download.js';
