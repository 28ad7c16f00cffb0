import type { Adjustment, Clock, CorporateAction, CorporateActions, HistoricalBars, MarketCalendar } from '@feed/core';
import { SystemClock, invalidOption, nyse, symbolSchema } from '@feed/core';
import { z } from 'zod';
import type { ReconnectPolicy, ResolvedReconnectPolicy } from './backoff.js';
import { reconnectPolicySchema } from './backoff.js';
import type { WebSocketFactory } from './socket.js';
import { defaultWebSocketFactory } from './socket.js';

/** Pings and the pong timeout of the stream. */
export interface KeepAliveOptions {
  /**
   * Ping the server this often, in milliseconds.
   * @default 10000
   */
  pingIntervalMs?: number;
  /**
   * Reconnect when no pong arrives within this many milliseconds of a ping.
   * @default 5000
   */
  pongTimeoutMs?: number;
}

/** The no-data watchdog: reconnects a connection that delivers nothing while the market is open. */
export interface WatchdogOptions {
  /**
   * Reconnect when an open connection delivers no bar for this long while the market is open, in
   * milliseconds. Quiet symbols skip minutes, so keep it well above one minute.
   * @default 180000
   */
  noDataMs?: number;
  /**
   * The market's hours: the watchdog sleeps outside them (and for `noDataMs` after the open).
   * @default nyse
   */
  calendar?: Pick<MarketCalendar, 'sessionAt'>;
  /**
   * How often the watchdog looks, in milliseconds.
   * @default 10000
   */
  checkIntervalMs?: number;
}

/** Gap fill over a history client, after reconnects and restarts. */
export interface GapFillOptions {
  /**
   * Where missed bars come from: any provider's history client.
   * @default the provider's own history client (on its `restUrl`, with its keys)
   */
  history?: HistoricalBars;
  /**
   * Bars per symbol to deliver on the first `start()`, before the live ones, as recovered `bar`
   * events (a data manager judges their age: older than a week, rejected).
   * @default 0
   * @deprecated use `feed.warmUp({ bars })`: exactly N regular-hours bars, into history without the
   * age limit, with a seam that loses and repeats nothing.
   */
  warmupBars?: number;
  /**
   * The most one gap fill may take, in milliseconds of clock time, requests and retries included.
   * Live bars held behind it are released when it completes, fails or times out; a gap it could
   * not fill is reported (`gap_unfilled`).
   * @default 10000
   */
  timeoutMs?: number;
}

/**
 * The options every live feed takes, whatever its provider: symbols, reconnect, keep-alive, the
 * watchdog, the connect timeout, the socket factory, the clock, jitter and gap fill. A provider's
 * options add its URL, keys and protocol choices.
 */
export interface LiveFeedOptions {
  /** The symbols to subscribe (tickers: see `@feed/core`'s `symbolSchema`). More can be added with `subscribe()`. */
  symbols: readonly string[];
  /**
   * Reconnect policy.
   * @default { initialDelayMs: 1000, maxDelayMs: 64000, multiplier: 2, jitter: 0.2, maxAttempts: 10 }
   */
  reconnect?: ReconnectPolicy;
  /**
   * Pings and pong timeout; `false` turns them off.
   * @default { pingIntervalMs: 10000, pongTimeoutMs: 5000 }
   */
  keepAlive?: KeepAliveOptions | false;
  /**
   * The no-data watchdog; `false` turns it off.
   * @default { noDataMs: 180000, calendar: nyse, checkIntervalMs: 10000 }
   */
  watchdog?: WatchdogOptions | false;
  /**
   * How long one connection attempt (open, auth, subscription reply) may take, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Builds the socket.
   * @default a `ws` WebSocket
   */
  webSocketFactory?: WebSocketFactory;
  /**
   * Stamps `receivedAt`, judges bars ahead of time, and runs every timer of the feed (backoff,
   * timeouts, keep-alive, watchdog, gap fill): a `ManualClock` drives them all in tests.
   * @default new SystemClock()
   */
  clock?: Clock;
  /**
   * Random numbers in [0, 1) for the backoff jitter.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Gap fill over REST: after every reconnect (and on a restart after `stop()`), the bars each symbol
   * missed are fetched and delivered in order before the live bars that arrived meanwhile; `false`
   * turns it off. `warmupBars` also delivers each symbol's last N bars on the first `start()`.
   * @default { warmupBars: 0, timeoutMs: 10000 } with the provider's history client
   */
  gapFill?: GapFillOptions | false;
  /**
   * Run the socket, decoding, validation, dedupe, gap fill and every timer in a `worker_thread`;
   * bars come to this thread in batches (one transferred buffer each), with the same events,
   * statistics and bars as inline. Functions and objects cannot cross threads: `webSocketFactory`,
   * `random`, `gapFill.history` and a custom `watchdog.calendar` are refused with it. A `clock`
   * other than the system's is mirrored (a `ManualClock` drives the worker's timers as inline).
   * @default false
   */
  worker?: boolean;
  /**
   * Corporate actions (splits, dividends): `true` reads them from the provider's own endpoint, or
   * give any `CorporateActions` source or a list. The feed then announces each action
   * (`corporateAction`) before the first bar of its ex-date it delivers, fetches them again once a
   * session (an action found after bars of its ex-date is announced `late`), and adjusts a warm-up's
   * bars as of the seam (docs/semantics.md, "Corporate actions"). Off by default: it costs a REST
   * request at start and once a session.
   * @default false
   */
  corporateActions?: boolean | CorporateActions | readonly CorporateAction[];
  /**
   * Which actions are announced and applied to a warm-up: `split`, `dividend`, `all`, or `raw` (none).
   * @default 'split'
   */
  adjustment?: Adjustment;
}

/** The shared options after defaults and validation: what the live modules read. */
export interface ResolvedLiveOptions {
  readonly symbols: readonly string[];
  readonly reconnect: ResolvedReconnectPolicy;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly watchdog: Required<WatchdogOptions> | false;
  readonly connectTimeoutMs: number;
  readonly webSocketFactory: WebSocketFactory;
  readonly clock: Clock;
  readonly random: () => number;
  readonly gapFill: { readonly history: HistoricalBars | undefined; readonly warmupBars: number; readonly timeoutMs: number } | false;
  readonly corporateActions: boolean | CorporateActions | readonly CorporateAction[];
  readonly adjustment: Adjustment;
  /** With `worker: true`: the shared options as plain data, for the worker thread's feed. */
  readonly worker: Readonly<Record<string, unknown>> | undefined;
}

const ms = (min = 0): z.ZodNumber => z.number('must be a number of milliseconds').min(min, `must be >= ${min}`);
const fn = <T>(what: string): z.ZodType<T> => z.custom<T>((v) => typeof v === 'function', `must be ${what}`);
/** An object with the given check (functions and class instances that zod cannot describe). */
export const objectWith = <T>(what: string, check: (v: Partial<Record<string, unknown>>) => boolean): z.ZodType<T> =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && check(v), `must be ${what}`);

/** The defaults of the shared options, written once (every provider's feed uses them). */
export const LIVE_DEFAULTS = Object.freeze({
  keepAlive: Object.freeze({ pingIntervalMs: 10_000, pongTimeoutMs: 5_000 }),
  watchdog: Object.freeze({ noDataMs: 180_000, checkIntervalMs: 10_000 }),
  connectTimeoutMs: 10_000,
  gapFill: Object.freeze({ warmupBars: 0, timeoutMs: 10_000 }),
});

/**
 * The zod shape of `LiveFeedOptions`: a provider's schema spreads it into its own
 * (`z.object({ ...liveOptionsShape, url: ..., keys: ... })`), so every feed validates and defaults
 * the shared options the same way.
 */
export const liveOptionsShape = {
  symbols: z.array(symbolSchema, 'must be an array of symbols'),
  reconnect: reconnectPolicySchema.default(reconnectPolicySchema.parse({})),
  keepAlive: z
    .union([z.literal(false), z.object({ pingIntervalMs: ms(1).default(LIVE_DEFAULTS.keepAlive.pingIntervalMs), pongTimeoutMs: ms(1).default(LIVE_DEFAULTS.keepAlive.pongTimeoutMs) })])
    .default({ ...LIVE_DEFAULTS.keepAlive }),
  watchdog: z
    .union([
      z.literal(false),
      z.object({
        noDataMs: ms(1).default(LIVE_DEFAULTS.watchdog.noDataMs),
        checkIntervalMs: ms(1).default(LIVE_DEFAULTS.watchdog.checkIntervalMs),
        calendar: objectWith<Pick<MarketCalendar, 'sessionAt'>>('a calendar with sessionAt(t)', (c) => typeof c.sessionAt === 'function').default(nyse),
      }),
    ])
    .default({ ...LIVE_DEFAULTS.watchdog, calendar: nyse }),
  connectTimeoutMs: ms(1).default(LIVE_DEFAULTS.connectTimeoutMs),
  webSocketFactory: fn<WebSocketFactory>('a function (url, init) => socket').default(() => defaultWebSocketFactory),
  clock: objectWith<Clock>('a Clock (now(), onTick(), setTimer())', (c) => typeof c.now === 'function' && typeof c.setTimer === 'function').optional(),
  random: fn<() => number>('a function returning numbers in [0, 1)').default(() => Math.random),
  gapFill: z
    .union([
      z.literal(false),
      z.object({
        history: objectWith<HistoricalBars>('a history client with barsBySymbol()', (h) => typeof h.barsBySymbol === 'function').optional(),
        warmupBars: z.number().int('must be an integer').min(0, 'must be >= 0').default(LIVE_DEFAULTS.gapFill.warmupBars),
        timeoutMs: ms(1).default(LIVE_DEFAULTS.gapFill.timeoutMs),
      }),
    ])
    .default({ ...LIVE_DEFAULTS.gapFill }),
  worker: z.boolean('must be true or false').default(false),
  corporateActions: z
    .union([
      z.boolean(),
      z.array(objectWith<CorporateAction>('a corporate action', (a) => typeof a.symbol === 'string' && typeof a.exDate === 'string')),
      objectWith<CorporateActions>('a corporate-action source with actionsBySymbol()', (c) => typeof c.actionsBySymbol === 'function'),
    ], 'must be true, false, a CorporateActions source or a list of actions')
    .default(false),
  adjustment: z.enum(['raw', 'split', 'dividend', 'all'], "must be 'raw', 'split', 'dividend' or 'all'").default('split'),
};

/** The shared options as a provider's schema parsed them, with defaults filled in. */
export type ParsedLiveOptions = z.output<z.ZodObject<typeof liveOptionsShape>>;

/** The resolved shared options from a parse of a schema that spreads `liveOptionsShape`. */
export function resolveLiveOptions(o: ParsedLiveOptions): ResolvedLiveOptions {
  let worker: Record<string, unknown> | undefined;
  if (o.worker) {
    const refuse = (path: string): never => {
      throw invalidOption(path, 'cannot cross to the worker thread (worker: true): leave it out, or run inline');
    };
    if (o.webSocketFactory !== defaultWebSocketFactory) refuse('webSocketFactory');
    if (o.random !== Math.random) refuse('random');
    if (o.gapFill !== false && o.gapFill.history !== undefined) refuse('gapFill.history');
    if (o.watchdog !== false && o.watchdog.calendar !== nyse) refuse('watchdog.calendar');
    const { calendar: _calendar, ...watchdog } = o.watchdog === false ? { calendar: undefined } : o.watchdog;
    worker = {
      symbols: [...new Set(o.symbols)],
      reconnect: o.reconnect,
      keepAlive: o.keepAlive,
      watchdog: o.watchdog === false ? false : watchdog,
      connectTimeoutMs: o.connectTimeoutMs,
      gapFill: o.gapFill === false ? false : { warmupBars: o.gapFill.warmupBars, timeoutMs: o.gapFill.timeoutMs },
    };
  }
  return {
    worker,
    symbols: [...new Set(o.symbols)],
    reconnect: o.reconnect,
    keepAlive: o.keepAlive,
    watchdog: o.watchdog,
    connectTimeoutMs: o.connectTimeoutMs,
    webSocketFactory: o.webSocketFactory,
    clock: o.clock ?? new SystemClock(),
    random: o.random,
    corporateActions: o.corporateActions,
    adjustment: o.adjustment,
    gapFill: o.gapFill === false ? false : { history: o.gapFill.history, warmupBars: o.gapFill.warmupBars, timeoutMs: o.gapFill.timeoutMs },
  };
}
