/**
 * The building blocks of a live feed, provider-neutral, for another provider's feed (`@feed/polygon`)
 * to reuse rather than copy: the connection with its retries and handshake promise, keep-alive and
 * the no-data watchdog, the bounded gap fill with its held buffer, the per-symbol table. Alpaca's
 * feed is these wired to Alpaca's protocol (`stream.ts`).
 */
export { Connection, Session } from './connection.js';
export type { ConnectionOptions, ConnectionEvents } from './connection.js';
export { Heartbeat } from './heartbeat.js';
export type { HeartbeatOptions, HeartbeatFault } from './heartbeat.js';
export { GapFiller } from './gap-fill.js';
export type { GapFillerOptions, HeldBar } from './gap-fill.js';
export { SymbolTable } from './symbol-table.js';
export { LiveCore } from './live-core.js';
export type { LiveCoreHooks } from './live-core.js';
export { frameData } from './socket.js';
export type { KeepAliveOptions, WatchdogOptions } from './feed-options.js';
