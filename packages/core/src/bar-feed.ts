import type { Bar } from './bar.js';
import type { Clock } from './clock.js';
import type { FeedError } from './errors.js';
import type { Listener, TypedEvent, Unsubscribe } from './emitter.js';
import type { WarmUpEvent } from './history.js';
import type { TradingStatusEvent } from './trading-status.js';
import type { CorporateActionEvent } from './corporate-actions.js';

/**
 * The lifecycle of a feed:
 * idle -> connecting -> connected -> streaming -> stopped -> (start again) streaming ...
 * streaming -> reconnecting -> streaming (live feeds); any -> closed (after `disconnect()`).
 */
export type FeedState = 'idle' | 'connecting' | 'connected' | 'streaming' | 'reconnecting' | 'stopped' | 'closed';

/** Every lifecycle state, in lifecycle order. */
export const FEED_STATES: readonly FeedState[] = [
  'idle',
  'connecting',
  'connected',
  'streaming',
  'reconnecting',
  'stopped',
  'closed',
];

/** Counters every feed keeps. Feeds may add their own fields in a subtype. */
export interface FeedStats {
  /** Bars handed to listeners, in total. */
  readonly barsReceived: number;
  /** Bars handed to listeners, per symbol. */
  readonly barsBySymbol: Readonly<Record<string, number>>;
  /** Error events emitted, in total. */
  readonly errors: number;
  /** Error events emitted, by `FeedError` code (or the Alpaca code for Alpaca errors). */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Successful reconnects (live feeds; 0 for replay). */
  readonly reconnects: number;
  /** Bars recovered after a gap (live feeds; 0 for replay). */
  readonly barsRecovered: number;
  /** Clock time of the last bar handed over, or `null`. */
  readonly lastBarAt: number | null;
}

/** A bar handed over by a feed (`feed.on('bar', ({ bar }) => ...)`). */
export interface BarEvent {
  readonly type: 'bar';
  readonly bar: Bar;
  /** Present (true) on a bar a live feed recovered by gap fill (REST) rather than received on its stream. */
  readonly recovered?: true;
}

/** A problem a feed reports without stopping (`feed.on('error', ({ error }) => ...)`): a typed `FeedError`. */
export interface ErrorEvent {
  readonly type: 'error';
  readonly error: FeedError;
}

/** A lifecycle change (`feed.on('state', ({ from, to }) => ...)`). */
export interface StateEvent {
  readonly type: 'state';
  readonly from: FeedState;
  readonly to: FeedState;
}

/**
 * The events every feed may emit: bars, errors and state changes always; trading statuses (halts,
 * resumptions, price bands) where the source has them; a warm-up's bars when `warmUp()` is called;
 * a corporate action before the first bar of its ex-date.
 * Feeds add their own (progress, subscription, ...) by extending the union.
 */
export type FeedEvent = BarEvent | ErrorEvent | StateEvent | TradingStatusEvent | WarmUpEvent | CorporateActionEvent;

/** Anything that emits bars: what a consumer such as the data manager needs of a feed. */
export interface BarSource {
  on(type: 'bar', listener: Listener<BarEvent>): Unsubscribe;
}

/**
 * The interface every feed implements, so that a program switches between replay and live by
 * changing only the line that builds the feed.
 *
 * Everything the original design's `IBarFeed` did maps here: connect/disconnect/is_connected,
 * start/stop/is_active, get_type (`type`), get_symbols (`symbols`), set_bar_callback / set_error_callback /
 * set_connection_callback (`on('bar' | 'error' | 'state')`) and get_stats (`stats()`).
 */
export interface BarFeed<E extends TypedEvent = FeedEvent> extends AsyncIterable<Bar> {
  /** What kind of feed this is, e.g. `'mock'` or `'alpaca'`. */
  readonly type: string;
  /** The symbols this feed delivers. */
  readonly symbols: readonly string[];
  /** The clock this feed stamps `receivedAt` with (and, for a replay, drives). */
  readonly clock: Clock;
  /** The current lifecycle state. */
  readonly state: FeedState;

  /** Loads files (replay) or opens and authenticates the connection (live). */
  connect(): Promise<void>;
  /** Starts delivering bars. Resolves once delivery has started, not when it ends. */
  start(): Promise<void>;
  /** Stops delivering bars; `start()` may be called again. */
  stop(): Promise<void>;
  /** Releases everything (files, sockets, timers). The feed is `closed` afterwards. */
  disconnect(): Promise<void>;

  /** True in `connected`, `streaming`, `reconnecting` and `stopped`. */
  isConnected(): boolean;
  /** True while bars are being delivered (`streaming` or `reconnecting`). */
  isActive(): boolean;
  /** A copy of the counters. */
  stats(): FeedStats;

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<T extends E['type']>(type: T, listener: Listener<Extract<E, { type: T }>>): Unsubscribe;
}
