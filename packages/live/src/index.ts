/**
 * `@feed/live`: the live machinery every provider's feed shares and no provider owns: the connection
 * and its session (open, handshake promise, connect timeout, retries with backoff and jitter),
 * keep-alive and the no-data watchdog, gap fill with its held buffer and deadline, the per-symbol
 * table, `AbstractLiveFeed` (the one owner of a live feed's lifecycle and bar path), the shared
 * options (one zod shape), the bounded retrying GET of every history client, and the download
 * command. It imports no provider: `@feed/alpaca` and `@feed/polygon` are adapters on it.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/live
 */
export type { ReconnectPolicy, ResolvedReconnectPolicy } from './backoff.js';
export { DEFAULT_RECONNECT_POLICY, backoffDelay, reconnectPolicySchema, resolveReconnectPolicy } from './backoff.js';
export type { WebSocketLike, WebSocketFactory, OutgoingFrame } from './socket.js';
export { defaultWebSocketFactory, frameData, toFrames, jsonFrames, MAX_FRAME_BYTES } from './socket.js';
export { Connection, Session } from './connection.js';
export type { ConnectionOptions, ConnectionEvents } from './connection.js';
export { Heartbeat } from './heartbeat.js';
export type { HeartbeatOptions, HeartbeatFault } from './heartbeat.js';
export { GapFiller } from './gap-fill.js';
export type { GapFillerOptions, GapFillReason, HeldBar } from './gap-fill.js';
export { SymbolTable } from './symbol-table.js';
export type { FeedResources, LatencyStats, LiveFeedEvent, LiveFeedStats, LiveProvider, LiveScalarStats } from './abstract-live-feed.js';
export { AbstractLiveFeed, MAX_HELD_BEFORE_START } from './abstract-live-feed.js';
export type { WireError, WireEvent, WorkerSpec } from './worker-protocol.js';
export type { GapFillOptions, KeepAliveOptions, LiveFeedOptions, ParsedLiveOptions, ResolvedLiveOptions, WatchdogOptions } from './live-options.js';
export { LIVE_DEFAULTS, liveOptionsShape, objectWith, resolveLiveOptions } from './live-options.js';
export type { CallState, RetryInfo, RetryingGetInit, RetryingGetOptions } from './retrying-get.js';
export { RetryingGet, originOf, snippet } from './retrying-get.js';
export type { DownloadOptions, DownloadProgress, DownloadedFile, DownloadReport } from './download.js';
export { downloadBars } from './download.js';
export type { CliIo, DownloadProvider } from './download-cli.js';
export { packageVersion, runCommand, runDownloadCli } from './download-cli.js';
