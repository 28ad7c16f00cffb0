import type { Clock, MarketCalendar } from '@feed/core';
import { SystemClock, invalidOption, nyse, parseOptions } from '@feed/core';
import { z } from 'zod';
import type { ReconnectPolicy, ResolvedReconnectPolicy } from './backoff.js';
import { reconnectPolicySchema } from './backoff.js';
import type { AlpacaKeys } from './credentials.js';
import { Credentials, resolveCredentials } from './credentials.js';
import type { HistoricalBars } from './history.js';
import type { StreamEncoding } from './messages.js';
import { DATA_URL, SANDBOX_DATA_URL } from './rest.js';
import type { WebSocketFactory } from './socket.js';
import { defaultWebSocketFactory } from './socket.js';
import type { AlpacaFeedName } from './urls.js';
import { FEEDS, streamUrl } from './urls.js';

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

/** The channels to subscribe for every symbol. */
export interface Channels {
  /**
   * Minute bars.
   * @default true
   */
  bars?: boolean;
  /**
   * Updated minute bars (late trades, ~30 s after the minute), delivered as revisions of the bar with
   * the same start.
   * @default false
   */
  updatedBars?: boolean;
  /**
   * Daily bars, emitted as `dailyBar` events (not `bar`: they are not minute bars).
   * @default false
   */
  dailyBars?: boolean;
}

/** Gap fill over a history client, after reconnects and restarts. */
export interface GapFillOptions {
  /**
   * Where missed bars come from: any provider's history client.
   * @default new AlpacaHistoricalClient({ baseUrl: restUrl, keys, feed, clock })
   */
  history?: HistoricalBars;
  /**
   * Bars per symbol to deliver on the first `start()`, before the live ones.
   * @default 0
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

/** Options of `AlpacaMultiSymbolFeed`; each field has its default. */
export interface AlpacaFeedOptions {
  /** The symbols to subscribe. More can be added with `subscribe()`. */
  symbols: readonly string[];
  /**
   * Alpaca's feed: `iex` (free), `sip`, `delayed_sip` or `test` (always open, symbol `FAKEPACA`).
   * @default 'iex'
   */
  feed?: AlpacaFeedName;
  /**
   * Use Alpaca's sandbox host.
   * @default false
   */
  sandbox?: boolean;
  /**
   * A full stream URL instead of `feed` and `sandbox` (a proxy, or a fake server in tests).
   * @default streamUrl(feed, { sandbox })
   */
  url?: string;
  /**
   * The key pair.
   * @default read from APCA_API_KEY_ID / APCA_API_SECRET_KEY, else ALPACA_PAPER_API_KEY / ALPACA_PAPER_SECRET_KEY
   */
  keys?: AlpacaKeys | Credentials;
  /**
   * Where the keys are read from when `keys` is not given.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Authenticate with an `auth` message after connecting, or with headers on the upgrade request.
   * @default 'message'
   */
  auth?: 'message' | 'headers';
  /**
   * Frame encoding. `msgpack` is what Alpaca's own SDKs use; both carry the same data.
   * @default 'json'
   */
  encoding?: StreamEncoding;
  /**
   * Channels subscribed for every symbol.
   * @default { bars: true, updatedBars: false, dailyBars: false }
   */
  channels?: Channels;
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
   * @default { warmupBars: 0, timeoutMs: 10000 } with an AlpacaHistoricalClient on `restUrl`
   */
  gapFill?: GapFillOptions | false;
  /**
   * The data API's base URL for gap fill.
   * @default 'https://data.alpaca.markets' (or the sandbox host with `sandbox`)
   */
  restUrl?: string;
  /**
   * Run the socket, decoding, validation, dedupe, gap fill and every timer in a `worker_thread`;
   * bars come to this thread in batches (one transferred buffer each), with the same events,
   * statistics and bars as inline. A burst of 100 000 bars then holds this thread's event loop for
   * milliseconds instead of the whole decode. Functions and objects cannot cross threads:
   * `webSocketFactory`, `random`, `gapFill.history` and a custom `watchdog.calendar` are refused
   * with it. A `clock` other than the system's is mirrored (a `ManualClock` drives the worker's
   * timers as it drives an inline feed's).
   * @default false
   */
  worker?: boolean;
}

/** The options after defaults and validation: what the feed's modules read. */
export interface ResolvedFeedOptions {
  readonly symbols: readonly string[];
  readonly url: string;
  readonly feed: AlpacaFeedName;
  readonly encoding: StreamEncoding;
  readonly credentials: Credentials | undefined;
  readonly auth: 'message' | 'headers';
  readonly channels: Required<Channels>;
  readonly reconnect: ResolvedReconnectPolicy;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly watchdog: Required<WatchdogOptions> | false;
  readonly connectTimeoutMs: number;
  readonly webSocketFactory: WebSocketFactory;
  readonly clock: Clock;
  readonly random: () => number;
  readonly gapFill: { readonly history: HistoricalBars | undefined; readonly warmupBars: number; readonly timeoutMs: number } | false;
  readonly restUrl: string;
  /** With `worker: true`: the options the worker thread builds its inline feed from. */
  readonly worker: AlpacaFeedOptions | undefined;
}

const ms = (min = 0): z.ZodNumber => z.number('must be a number of milliseconds').min(min, `must be >= ${min}`);
const fn = <T>(what: string): z.ZodType<T> => z.custom<T>((v) => typeof v === 'function', `must be ${what}`);
const object = <T>(what: string, check: (v: Partial<Record<string, unknown>>) => boolean): z.ZodType<T> =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && check(v), `must be ${what}`);

const schema = z.object({
  symbols: z.array(z.string().min(1, 'must not be empty'), 'must be an array of symbols'),
  feed: z.enum(['iex', 'sip', 'delayed_sip', 'test']).default('iex'),
  keys: z
    .union([z.instanceof(Credentials), z.object({ keyId: z.string(), secretKey: z.string() })], 'must be { keyId, secretKey } or Credentials')
    .optional(),
  env: z.record(z.string(), z.string().optional(), 'must be an object of environment variables').optional(),
  sandbox: z.boolean().default(false),
  url: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').optional(),
  auth: z.enum(['message', 'headers']).default('message'),
  encoding: z.enum(['json', 'msgpack'], "must be 'json' or 'msgpack'").default('json'),
  channels: z.object({ bars: z.boolean().default(true), updatedBars: z.boolean().default(false), dailyBars: z.boolean().default(false) }).default({ bars: true, updatedBars: false, dailyBars: false }),
  reconnect: reconnectPolicySchema.default(reconnectPolicySchema.parse({})),
  keepAlive: z
    .union([z.literal(false), z.object({ pingIntervalMs: ms(1).default(10_000), pongTimeoutMs: ms(1).default(5_000) })])
    .default({ pingIntervalMs: 10_000, pongTimeoutMs: 5_000 }),
  watchdog: z
    .union([
      z.literal(false),
      z.object({
        noDataMs: ms(1).default(180_000),
        checkIntervalMs: ms(1).default(10_000),
        calendar: object<Pick<MarketCalendar, 'sessionAt'>>('a calendar with sessionAt(t)', (c) => typeof c.sessionAt === 'function').default(nyse),
      }),
    ])
    .default({ noDataMs: 180_000, checkIntervalMs: 10_000, calendar: nyse }),
  connectTimeoutMs: ms(1).default(10_000),
  webSocketFactory: fn<WebSocketFactory>('a function (url, init) => socket').default(() => defaultWebSocketFactory),
  clock: object<Clock>('a Clock (now(), onTick(), setTimer())', (c) => typeof c.now === 'function' && typeof c.setTimer === 'function').optional(),
  random: fn<() => number>('a function returning numbers in [0, 1)').default(() => Math.random),
  gapFill: z
    .union([
      z.literal(false),
      z.object({
        history: object<HistoricalBars>('a history client with barsBySymbol()', (h) => typeof h.barsBySymbol === 'function').optional(),
        warmupBars: z.number().int('must be an integer').min(0, 'must be >= 0').default(0),
        timeoutMs: ms(1).default(10_000),
      }),
    ])
    .default({ warmupBars: 0, timeoutMs: 10_000 }),
  restUrl: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
  worker: z.boolean('must be true or false').default(false),
});

/** Validates the feed's options once, at construction, and fills in every default. */
export function resolveFeedOptions(options: AlpacaFeedOptions): ResolvedFeedOptions {
  const o = parseOptions(schema, options, 'AlpacaMultiSymbolFeed options');
  const url = o.url ?? streamUrl(o.feed, { sandbox: o.sandbox });
  // The feed that gap fill reads: the URL's last segment when it names one.
  const last = url.replace(/\/+$/, '').split('/').pop() ?? '';
  const feed = o.url === undefined ? o.feed : (FEEDS.find((f) => f === last) ?? o.feed);
  const credentials = resolveCredentials(o.keys, o.env ?? process.env);
  const restUrl = o.restUrl ?? (o.sandbox ? SANDBOX_DATA_URL : DATA_URL);
  let worker: AlpacaFeedOptions | undefined;
  if (o.worker) {
    const refuse = (path: string): never => {
      throw invalidOption(path, 'cannot cross to the worker thread (worker: true): leave it out, or run inline');
    };
    if (options.webSocketFactory !== undefined) refuse('webSocketFactory');
    if (options.random !== undefined) refuse('random');
    if (o.gapFill !== false && o.gapFill.history !== undefined) refuse('gapFill.history');
    if (o.watchdog !== false && o.watchdog.calendar !== nyse) refuse('watchdog.calendar');
    const { calendar: _calendar, ...watchdog } = o.watchdog === false ? { calendar: undefined } : o.watchdog;
    worker = {
      symbols: [...new Set(o.symbols)],
      url,
      feed: o.feed,
      ...(credentials === undefined ? { env: {} } : { keys: { keyId: credentials.keyId, secretKey: credentials.secretKey } }),
      auth: o.auth,
      encoding: o.encoding,
      channels: o.channels,
      reconnect: o.reconnect,
      keepAlive: o.keepAlive,
      watchdog: o.watchdog === false ? false : watchdog,
      connectTimeoutMs: o.connectTimeoutMs,
      gapFill: o.gapFill === false ? false : { warmupBars: o.gapFill.warmupBars, timeoutMs: o.gapFill.timeoutMs },
      restUrl,
    };
  }
  return {
    worker,
    symbols: [...new Set(o.symbols)],
    url,
    feed,
    encoding: o.encoding,
    credentials,
    auth: o.auth,
    channels: o.channels,
    reconnect: o.reconnect,
    keepAlive: o.keepAlive,
    watchdog: o.watchdog,
    connectTimeoutMs: o.connectTimeoutMs,
    webSocketFactory: o.webSocketFactory,
    clock: o.clock ?? new SystemClock(),
    random: o.random,
    gapFill: o.gapFill === false ? false : { history: o.gapFill.history, warmupBars: o.gapFill.warmupBars, timeoutMs: o.gapFill.timeoutMs },
    restUrl,
  };
}
