import { encode } from '@msgpack/msgpack';
import type { Bar, Clock, FeedStats, MarketCalendar } from '@feed/core';
import { AbstractBarFeed, AlpacaError, ConfigError, ConnectionError, FeedError, MINUTE_MS, SystemClock, nyse, redact } from '@feed/core';
import type { ReconnectPolicy, ResolvedReconnectPolicy } from './backoff.js';
import { backoffDelay, resolveReconnectPolicy } from './backoff.js';
import type { AlpacaKeys, Credentials } from './credentials.js';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import type { BarMessageType, StreamEncoding, StreamMessage, Subscription } from './messages.js';
import { ALPACA_ERROR_TEXT, DAY_MS, barOf, decodeRaw, toMessage } from './messages.js';
import type { HistoricalBars } from './rest.js';
import { AlpacaHistoricalClient, DATA_URL, SANDBOX_DATA_URL } from './rest.js';
import type { WebSocketFactory, WebSocketLike } from './socket.js';
import { defaultWebSocketFactory, frameData } from './socket.js';
import type { AlpacaFeedName } from './urls.js';
import { streamUrl } from './urls.js';

/** The largest frame the feed sends; longer messages are fragmented (alpaca-py uses the same size). */
const MAX_FRAME_BYTES = 32_768;

/** Bars kept between connect() and the first start(); beyond this they are counted as ignored. */
const MAX_HELD_BEFORE_START = 100_000;

/** Alpaca error codes after which retrying cannot help. */
export const FATAL_CODES: ReadonlySet<number> = new Set([402, 409, 410]);


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
   * Stamps `receivedAt` and drives the watchdog.
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
   * @default { warmupBars: 0 } with an AlpacaHistoricalClient on `restUrl`
   */
  gapFill?: GapFillOptions | false;
  /**
   * The data API's base URL for gap fill.
   * @default 'https://data.alpaca.markets' (or the sandbox host with `sandbox`)
   */
  restUrl?: string;
}

export interface GapFillOptions {
  /**
   * Where missed bars come from.
   * @default new AlpacaHistoricalClient({ baseUrl: restUrl, keys, feed })
   */
  history?: HistoricalBars;
  /**
   * Bars per symbol to deliver on the first `start()`, before the live ones.
   * @default 0
   */
  warmupBars?: number;
}

/** Latency from a bar's end to its receipt, in milliseconds. */
export interface LatencyStats {
  readonly count: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

export interface AlpacaFeedStats extends FeedStats {
  /** Frames received. */
  readonly frames: number;
  /** Messages received (a frame holds one or more). */
  readonly messages: number;
  /** Frames or messages that could not be read, dropped and reported. */
  readonly malformed: number;
  /** Messages of types this feed does not handle (trades, quotes, ...), ignored. */
  readonly unknownMessages: number;
  /** Updated bars received (delivered as revisions). */
  readonly updatedBars: number;
  /** Daily bars received (emitted as `dailyBar`). */
  readonly dailyBars: number;
  /** Bars that arrived while the feed was stopped and were not delivered. */
  readonly ignoredWhileStopped: number;
  /** Connection attempts, successful or not. */
  readonly connectAttempts: number;
  /** Times the pong timeout fired. */
  readonly pongTimeouts: number;
  /** Times the no-data watchdog reconnected. */
  readonly watchdogTrips: number;
  /** Bars that arrived both live and by gap fill (or twice live), delivered once: the extra copies. */
  readonly duplicatesDropped: number;
  /** Gap fills run, and those that failed (the error was reported; the gap stays). */
  readonly gapFills: number;
  readonly gapFillFailures: number;
  /** Latency from bar end to receipt (live bars only), in total and per symbol. */
  readonly latency: LatencyStats;
  readonly latencyBySymbol: Readonly<Record<string, LatencyStats>>;
}

/** Events the Alpaca feed adds to `bar`, `error` and `state`. */
export type AlpacaFeedEvent =
  | { readonly type: 'open'; readonly attempt: number }
  | { readonly type: 'authenticated' }
  | { readonly type: 'subscription'; readonly subscription: Subscription }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly type: 'reconnected'; readonly attempts: number }
  | { readonly type: 'gapFill'; readonly reason: 'reconnect' | 'restart' | 'warmup'; readonly recovered: number; readonly from: number; readonly to: number }
  | { readonly type: 'dailyBar'; readonly bar: Bar };

/** Diagnostic counts for leak checks: live timers and listeners on the current socket. */
export interface FeedResources {
  readonly timers: number;
  readonly socketListeners: number;
  readonly sockets: number;
}

interface Pending {
  resolve(): void;
  reject(error: FeedError): void;
}

/** One connection: its socket, its timers, and where its handshake stands. */
interface Session {
  readonly socket: WebSocketLike;
  readonly attempt: number;
  phase: 'opening' | 'auth' | 'subscribe' | 'ready' | 'ended';
  handshake: Pending | undefined;
  lastDataAt: number;
  pongTimer: ReturnType<typeof setTimeout> | undefined;
}

class Aborted extends FeedError {
  constructor() {
    super('aborted', 'the feed was disconnected');
  }
}

/**
 * Alpaca's market-data stream as a `BarFeed`: all symbols on one connection; auth, subscribe,
 * reconnect with backoff and resubscription, keep-alive, a no-data watchdog that knows market hours;
 * JSON or msgpack. See the package README for the events and statistics.
 */
export class AlpacaMultiSymbolFeed extends AbstractBarFeed<AlpacaFeedEvent> {
  readonly type = 'alpaca';
  /** The stream URL (never holds credentials). */
  readonly url: string;
  readonly encoding: StreamEncoding;
  readonly #credentials: Credentials | undefined;
  readonly #auth: 'message' | 'headers';
  readonly #channels: Required<Channels>;
  readonly #policy: ResolvedReconnectPolicy;
  readonly #keepAlive: Required<KeepAliveOptions> | false;
  readonly #watchdog: Required<WatchdogOptions> | false;
  readonly #connectTimeoutMs: number;
  readonly #factory: WebSocketFactory;
  readonly #random: () => number;

  #session: Session | undefined;
  #closing = false;
  #retry = 0;
  #reconnecting: Promise<void> | undefined;
  #sleep: { timer: ReturnType<typeof setTimeout>; reject(e: FeedError): void } | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #confirmed: Subscription = { bars: [], updatedBars: [], dailyBars: [] };
  readonly #subscriptionWaiters: Pending[] = [];

  readonly #gapFill: { history: HistoricalBars | undefined; warmupBars: number } | false;
  readonly #restUrl: string;
  #startedAt: number | undefined;
  readonly #subscribedAt = new Map<string, number>();
  #holding = false;
  #held: { type: 'b' | 'u'; bar: Bar }[] = [];
  #gapRun: Promise<void> | undefined;
  #gapAgain = false;
  #duplicates = 0;
  #gapFills = 0;
  #gapFillFailures = 0;

  #frames = 0;
  #messages = 0;
  #malformed = 0;
  #unknown = 0;
  #updated = 0;
  #daily = 0;
  #ignored = 0;
  #attempts = 0;
  #pongTimeouts = 0;
  #watchdogTrips = 0;
  /** Per symbol: the start of the last minute bar delivered, and latency sums (one lookup per bar). */
  readonly #perSymbol = new Map<string, { lastStart: number | undefined; count: number; sum: number; max: number }>();

  constructor(options: AlpacaFeedOptions) {
    const symbols = [...new Set(options.symbols)];
    super(symbols, options.clock ?? new SystemClock());
    this.url = options.url ?? streamUrl(options.feed ?? 'iex', { sandbox: options.sandbox ?? false });
    if (!/^wss?:\/\//.test(this.url)) {
      throw new ConfigError(`stream URL must start with ws:// or wss:// (got '${this.url}')`, [{ path: 'url', message: 'must be a ws:// or wss:// URL' }], undefined, { code: 'invalid_option' });
    }
    this.encoding = options.encoding ?? 'json';
    if (this.encoding !== 'json' && this.encoding !== 'msgpack') {
      throw new ConfigError(`unknown encoding '${String(this.encoding)}'`, [{ path: 'encoding', message: "must be 'json' or 'msgpack'" }], undefined, { code: 'invalid_option' });
    }
    this.#credentials = resolveCredentials(options.keys, options.env ?? process.env);
    this.#auth = options.auth ?? 'message';
    this.#channels = { bars: true, updatedBars: false, dailyBars: false, ...options.channels };
    this.#policy = resolveReconnectPolicy(options.reconnect);
    this.#keepAlive = options.keepAlive === false ? false : { pingIntervalMs: 10_000, pongTimeoutMs: 5_000, ...options.keepAlive };
    this.#watchdog = options.watchdog === false ? false : { noDataMs: 180_000, calendar: nyse, checkIntervalMs: 10_000, ...options.watchdog };
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#factory = options.webSocketFactory ?? defaultWebSocketFactory;
    this.#random = options.random ?? Math.random;
    this.#restUrl = options.restUrl ?? (options.sandbox === true ? SANDBOX_DATA_URL : DATA_URL);
    this.#gapFill = options.gapFill === false ? false : { history: options.gapFill?.history, warmupBars: options.gapFill?.warmupBars ?? 0 };
  }

  /** The server's last subscription reply. */
  get subscription(): Subscription {
    return this.#confirmed;
  }

  /**
   * Adds symbols. While connected the subscribe message is sent at once and the promise resolves on
   * the server's reply; otherwise they are subscribed on connect. Every reconnect subscribes them again.
   */
  subscribe(symbols: readonly string[]): Promise<void> {
    const add = symbols.filter((s) => !this.symbols.includes(s));
    if (add.length === 0) return Promise.resolve();
    this.setSymbols([...this.symbols, ...add]);
    // A gap fill recovers a symbol's bars from its subscription on, not from before it.
    const now = this.clock.now();
    for (const s of add) this.#subscribedAt.set(s, now);
    return this.#sendSubscription('subscribe', add);
  }

  /** Removes symbols; resolves on the server's reply when connected. */
  unsubscribe(symbols: readonly string[]): Promise<void> {
    const remove = symbols.filter((s) => this.symbols.includes(s));
    if (remove.length === 0) return Promise.resolve();
    this.setSymbols(this.symbols.filter((s) => !remove.includes(s)));
    return this.#sendSubscription('unsubscribe', remove);
  }

  override stats(): AlpacaFeedStats {
    let count = 0;
    let sum = 0;
    let max = 0;
    const bySymbol: Record<string, LatencyStats> = {};
    for (const [symbol, l] of this.#perSymbol) {
      if (l.count === 0) continue;
      bySymbol[symbol] = { count: l.count, avgMs: l.count > 0 ? l.sum / l.count : 0, maxMs: l.max };
      count += l.count;
      sum += l.sum;
      if (l.max > max) max = l.max;
    }
    return {
      ...super.stats(),
      frames: this.#frames,
      messages: this.#messages,
      malformed: this.#malformed,
      unknownMessages: this.#unknown,
      updatedBars: this.#updated,
      dailyBars: this.#daily,
      ignoredWhileStopped: this.#ignored,
      duplicatesDropped: this.#duplicates,
      gapFills: this.#gapFills,
      gapFillFailures: this.#gapFillFailures,
      connectAttempts: this.#attempts,
      pongTimeouts: this.#pongTimeouts,
      watchdogTrips: this.#watchdogTrips,
      latency: { count, avgMs: count > 0 ? sum / count : 0, maxMs: max },
      latencyBySymbol: bySymbol,
    };
  }

  /** Live timers and socket listeners, for leak checks. */
  resources(): FeedResources {
    const s = this.#session;
    let socketListeners = 0;
    if (s !== undefined) {
      for (const e of ['open', 'message', 'close', 'error', 'pong']) socketListeners += s.socket.listenerCount(e);
    }
    return {
      timers: this.#timers.size + (this.#heartbeat === undefined ? 0 : 1) + (this.#sleep === undefined ? 0 : 1),
      socketListeners,
      sockets: s === undefined ? 0 : 1,
    };
  }

  override toString(): string {
    return `AlpacaMultiSymbolFeed(${this.url}, ${this.symbols.length} symbols, ${this.state}, ${String(this.#credentials ?? 'no keys')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    return { type: this.type, url: this.url, symbols: this.symbols, state: this.state };
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  protected async doConnect(): Promise<void> {
    if (this.#credentials === undefined) {
      throw new ConfigError(missingKeysMessage(), [{ path: 'keys', message: 'not given and not in the environment' }], 'environment', {
        code: 'invalid_option',
      });
    }
    this.#closing = false;
    this.#retry = 0;
    try {
      await this.#connectWithRetry(0);
    } catch (error) {
      this.#endSession('connect failed');
      throw error;
    }
    this.#startHeartbeat();
  }

  protected async doStart(): Promise<void> {
    const first = this.#startedAt === undefined;
    this.#startedAt ??= this.clock.now();
    if (this.#gapFill === false || (first && this.#gapFill.warmupBars === 0)) {
      // Bars that arrived since connect(), in order (the gap fill below releases them otherwise).
      const held = this.#held;
      this.#held = [];
      this.#holding = false;
      for (const h of held) this.#emitLive(h.type, h.bar);
      return;
    }
    if (first && this.#gapFill.warmupBars > 0) {
      this.#holding = true;
      await this.#runGapFill('warmup');
    } else if (!first) {
      this.#holding = true;
      await this.#runGapFill('restart');
    }
  }

  protected doStop(): Promise<void> {
    return Promise.resolve();
  }

  protected async doDisconnect(): Promise<void> {
    this.#closing = true;
    this.#sleep?.reject(new Aborted());
    this.#stopHeartbeat();
    const s = this.#session;
    if (s !== undefined && s.phase === 'ready' && s.socket.readyState === 1) {
      // A clean close (code 1000) for an open connection: its late events are ignored from now on.
      s.phase = 'ended';
      if (s.pongTimer !== undefined) this.#clearTimer(s.pongTimer);
      s.pongTimer = undefined;
      this.#session = undefined;
      await this.#closeGracefully(s.socket);
    } else {
      this.#endSession('disconnect');
    }
    const reconnecting = this.#reconnecting;
    if (reconnecting !== undefined) await reconnecting.catch(() => undefined);
    if (this.#gapRun !== undefined) await this.#gapRun;
    this.#held = [];
    this.#holding = false;
    for (const w of this.#subscriptionWaiters.splice(0)) w.reject(new Aborted());
  }

  #closeGracefully(socket: WebSocketLike): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#setTimer(() => {
        socket.terminate();
        resolve();
      }, 1000);
      socket.on('close', () => {
        this.#clearTimer(timer);
        resolve();
      });
      socket.close(1000, 'client disconnect');
    });
  }

  // ---- connecting --------------------------------------------------------------------------------

  /** Attempts until one succeeds; after failure number k the wait is retry delay number `k + offset`. */
  async #connectWithRetry(offset: number): Promise<void> {
    for (;;) {
      if (this.#closing) throw new Aborted();
      try {
        await this.#openOnce();
        return;
      } catch (error) {
        const e = FeedError.isInstance(error) ? error : new ConnectionError(String(error), { cause: error });
        if (this.#closing || e.code === 'aborted') throw new Aborted();
        if (AlpacaError.isInstance(e) && e.fatal) throw e;
        this.#retry++;
        if (this.#retry >= this.#policy.maxAttempts) {
          throw new ConnectionError(this.#redact(`gave up after ${this.#retry} attempts in a row; last: ${e.message}`), { cause: e });
        }
        this.reportError(e);
        const delayMs = backoffDelay(this.#policy, this.#retry + offset, this.#random);
        this.emitter.emit({ type: 'retry', attempt: this.#retry + offset, delayMs, reason: e.message });
        await this.#wait(delayMs);
      }
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
       
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = {
        timer,
        reject: (e) => {
          clearTimeout(timer);
          this.#sleep = undefined;
          reject(e);
        },
      };
    });
  }

  /** One attempt: open, authenticate, subscribe. Resolves when the subscription is confirmed. */
  #openOnce(): Promise<void> {
    this.#attempts++;
    const credentials = this.#credentials as Credentials;
    const headers: Record<string, string> = {};
    if (this.#auth === 'headers') {
      headers['APCA-API-KEY-ID'] = credentials.keyId;
      headers['APCA-API-SECRET-KEY'] = credentials.secretKey;
    }
    if (this.encoding === 'msgpack') headers['Content-Type'] = 'application/msgpack';
    let socket: WebSocketLike;
    try {
      socket = this.#factory(this.url, { headers });
    } catch (error) {
      return Promise.reject(new ConnectionError(this.#redact(`cannot open ${this.url}: ${String(error)}`), { cause: error }));
    }
    const session: Session = {
      socket,
      attempt: this.#attempts,
      phase: 'opening',
      handshake: undefined,
      lastDataAt: this.clock.now(),
      pongTimer: undefined,
    };
    this.#session = session;
    return new Promise<void>((resolve, reject) => {
      const timer = this.#setTimer(() => {
        this.#failHandshake(session, new ConnectionError(`no subscription reply within ${this.#connectTimeoutMs} ms (phase: ${session.phase})`));
      }, this.#connectTimeoutMs);
      session.handshake = {
        resolve: () => {
          this.#clearTimer(timer);
          resolve();
        },
        reject: (e) => {
          this.#clearTimer(timer);
          reject(e);
        },
      };
      socket.on('open', () => {
        if (this.#session === session) this.emitter.emit({ type: 'open', attempt: session.attempt });
      });
      socket.on('message', (data, isBinary) => this.#onFrame(session, data, isBinary));
      socket.on('pong', () => {
        if (session.pongTimer !== undefined) {
          this.#clearTimer(session.pongTimer);
          session.pongTimer = undefined;
        }
      });
      socket.on('error', (error) => {
        // ws always follows 'error' with 'close'; fail the handshake now so the reason is the error.
        if (session.phase !== 'ready' && session.phase !== 'ended') {
          this.#failHandshake(session, new ConnectionError(this.#redact(`${this.url}: ${error.message}`), { cause: error }));
        }
      });
      socket.on('close', (code, reason) => this.#onClose(session, code, reasonText(reason)));
    });
  }

  #failHandshake(session: Session, error: FeedError): void {
    if (session.phase === 'ready' || session.phase === 'ended') return;
    const h = session.handshake;
    session.handshake = undefined;
    this.#dropSession(session);
    h?.reject(error);
  }

  /** Ends a session's timers and socket; the socket's late events are ignored from then on. */
  #dropSession(session: Session): void {
    if (session.phase === 'ended') return;
    session.phase = 'ended';
    if (session.pongTimer !== undefined) this.#clearTimer(session.pongTimer);
    session.pongTimer = undefined;
    if (session.socket.readyState !== 3) session.socket.terminate();
    if (this.#session === session) this.#session = undefined;
  }

  #endSession(reason: string): void {
    const s = this.#session;
    if (s === undefined) return;
    s.handshake?.reject(new ConnectionError(reason));
    s.handshake = undefined;
    this.#dropSession(s);
  }

  #onClose(session: Session, code: number, reason: string): void {
    if (session.phase === 'ended') return;
    const text = `connection closed (code ${code}${reason ? `: ${reason}` : ''})`;
    if (session.phase !== 'ready') {
      this.#failHandshake(session, new ConnectionError(this.#redact(text)));
      return;
    }
    this.#lost(session, text);
  }

  /** A ready connection was lost: report it and reconnect in the background. */
  #lost(session: Session, reason: string): void {
    this.#dropSession(session);
    if (this.#closing || this.#reconnecting !== undefined) return;
    this.emitter.emit({ type: 'disconnected', reason: this.#redact(reason) });
    if (this.state === 'streaming') this.setState('reconnecting');
    // Live bars after the reconnect wait until the gap before them is filled.
    if (this.#gapFill !== false) this.#holding = true;
    this.#retry = 0;
    const delayMs = backoffDelay(this.#policy, 1, this.#random);
    this.emitter.emit({ type: 'retry', attempt: 1, delayMs, reason });
    this.#reconnecting = this.#wait(delayMs)
      .then(() => this.#connectWithRetry(1))
      .then(
        () => {
          this.#reconnecting = undefined;
          this.reconnects++;
          if (this.state === 'reconnecting') this.setState('streaming');
          this.emitter.emit({ type: 'reconnected', attempts: this.#attempts });
          if (this.#gapFill !== false && this.isActive()) void this.#runGapFill('reconnect');
        },
        (error: unknown) => {
          this.#reconnecting = undefined;
          if (this.#closing) return;
          this.#giveUp(FeedError.isInstance(error) ? error : new ConnectionError(String(error)));
        },
      );
  }

  /** A fatal error or too many failed attempts: report, release everything, end in `closed`. */
  #giveUp(error: FeedError): void {
    this.#closing = true;
    this.#stopHeartbeat();
    this.#endSession('gave up');
    for (const w of this.#subscriptionWaiters.splice(0)) w.reject(error);
    this.reportError(error);
    this.setState('closed');
  }

  // ---- messages ----------------------------------------------------------------------------------

  #send(session: Session, message: Record<string, unknown>): void {
    const socket = session.socket;
    if (socket.readyState !== 1) return;
    const binary = this.encoding === 'msgpack';
    const data = binary ? encode(message) : Buffer.from(JSON.stringify(message));
    if (data.byteLength <= MAX_FRAME_BYTES) {
      socket.send(binary ? data : data.toString(), { binary });
      return;
    }
    // A large message (subscribing thousands of symbols) goes in fragments, as Alpaca's own SDK
    // sends it: one message, frames of at most 32 KiB.
    for (let at = 0; at < data.byteLength; at += MAX_FRAME_BYTES) {
      socket.send(data.subarray(at, at + MAX_FRAME_BYTES), { binary, fin: at + MAX_FRAME_BYTES >= data.byteLength });
    }
  }

  #subscribeMessage(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Record<string, unknown> {
    const m: Record<string, unknown> = { action };
    if (this.#channels.bars) m.bars = symbols;
    if (this.#channels.updatedBars) m.updatedBars = symbols;
    if (this.#channels.dailyBars) m.dailyBars = symbols;
    return m;
  }

  #sendSubscription(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const s = this.#session;
    if (s === undefined || s.phase !== 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#subscriptionWaiters.push({ resolve, reject });
      this.#send(s, this.#subscribeMessage(action, symbols));
    });
  }

  #onFrame(session: Session, data: unknown, isBinary: boolean): void {
    if (session.phase === 'ended') return;
    const receivedAt = this.clock.now();
    this.#frames++;
    const payload = frameData(data);
    const raw = decodeRaw(
      !isBinary && typeof payload !== 'string' ? utf8(payload) : payload,
      this.encoding,
    );
    if (typeof raw === 'string') {
      this.#malformed++;
      this.reportError(new FeedError('protocol', `malformed frame dropped: ${raw}`));
      return;
    }
    this.#messages += raw.length;
    for (let i = 0; i < raw.length; i++) {
      // A message may end the session (a fatal error): the rest of the frame belongs to no one.
      if ((session.phase as Session['phase']) === 'ended') return;
      const r = raw[i] as Record<string, unknown> | null;
      // The fast path for minute bars and updated bars; everything else goes through toMessage.
      const T = typeof r === 'object' && r !== null ? r.T : undefined;
      if (T === 'b' || T === 'u') {
        const bar = barOf(r as Record<string, unknown>, receivedAt, MINUTE_MS);
        if (typeof bar === 'string') {
          this.#malformedMessage(i, bar);
        } else {
          session.lastDataAt = receivedAt;
          this.#onBar(T, bar);
        }
      } else {
        this.#onMessage(session, toMessage(r, i, receivedAt));
      }
    }
  }

  #malformedMessage(index: number, reason: string): void {
    this.#malformed++;
    this.reportError(new FeedError('protocol', `malformed message dropped (message ${index} of its frame): ${reason}`));
  }

  #onMessage(session: Session, m: StreamMessage): void {
    switch (m.kind) {
      case 'bar':
        session.lastDataAt = m.bar.receivedAt;
        this.#onBar(m.type, m.bar);
        return;
      case 'success':
        if (m.msg === 'connected') {
          if (session.phase === 'opening') {
            session.phase = 'auth';
            if (this.#auth === 'message') {
              const c = this.#credentials as Credentials;
              this.#send(session, { action: 'auth', key: c.keyId, secret: c.secretKey });
            }
          }
        } else if (m.msg === 'authenticated') {
          this.#retry = 0;
          this.emitter.emit({ type: 'authenticated' });
          if (session.phase === 'auth' || session.phase === 'opening') {
            if (this.symbols.length === 0) {
              this.#ready(session);
            } else {
              session.phase = 'subscribe';
              this.#send(session, this.#subscribeMessage('subscribe', this.symbols));
            }
          }
        }
        return;
      case 'subscription':
        this.#confirmed = m.subscription;
        this.emitter.emit({ type: 'subscription', subscription: m.subscription });
        if (session.phase === 'subscribe') this.#ready(session);
        else this.#subscriptionWaiters.shift()?.resolve();
        return;
      case 'error':
        this.#onAlpacaError(session, m.code, m.msg);
        return;
      case 'other':
        this.#unknown++;
        return;
      case 'malformed':
        this.#malformedMessage(m.index, m.reason);
        return;
    }
  }

  #onAlpacaError(session: Session, code: number, msg: string): void {
    const error = new AlpacaError(code, this.#redact(msg || ALPACA_ERROR_TEXT[code] || 'unknown error'), FATAL_CODES.has(code));
    if (session.phase !== 'ready') {
      // During the handshake every error fails this attempt; fatal ones end the retries too.
      this.#failHandshake(session, error);
      return;
    }
    if (error.fatal) {
      this.#giveUp(error);
      return;
    }
    this.reportError(error);
    // A rejected subscribe or unsubscribe gets no subscription reply: release its waiter.
    if (code === 400 || code === 405) this.#subscriptionWaiters.shift()?.reject(error);
  }

  #ready(session: Session): void {
    session.phase = 'ready';
    session.lastDataAt = this.clock.now();
    const h = session.handshake;
    session.handshake = undefined;
    h?.resolve();
    // The reply just received confirms every symbol, including any added while reconnecting.
    for (const w of this.#subscriptionWaiters.splice(0)) w.resolve();
  }

  #onBar(type: BarMessageType, bar: Bar): void {
    if (type === 'd') {
      this.#daily++;
      this.emitter.emit({ type: 'dailyBar', bar });
      return;
    }
    if (type === 'u') this.#updated++;
    if (!this.isActive()) {
      // Between connect() and the first start(): kept, and delivered when start() is called.
      if (this.#startedAt === undefined && this.#held.length < MAX_HELD_BEFORE_START) this.#held.push({ type, bar });
      else this.#ignored++;
      return;
    }
    if (this.#holding) {
      this.#held.push({ type, bar });
      return;
    }
    this.#emitLive(type, bar);
  }

  /** Delivers a live bar; a minute bar no later than the last one delivered for its symbol is a duplicate. */
  #emitLive(type: 'b' | 'u', bar: Bar): void {
    const l = this.#symbolState(bar.symbol);
    if (type === 'b') {
      if (l.lastStart !== undefined && bar.start <= l.lastStart) {
        this.#duplicates++;
        return;
      }
      l.lastStart = bar.start;
    }
    const latency = bar.receivedAt - bar.end;
    l.count++;
    l.sum += latency;
    if (latency > l.max) l.max = latency;
    this.deliver(bar);
  }

  #symbolState(symbol: string): { lastStart: number | undefined; count: number; sum: number; max: number } {
    let l = this.#perSymbol.get(symbol);
    if (l === undefined) {
      l = { lastStart: undefined, count: 0, sum: 0, max: 0 };
      this.#perSymbol.set(symbol, l);
    }
    return l;
  }

  // ---- gap fill ----------------------------------------------------------------------------------

  #history(): HistoricalBars {
    const g = this.#gapFill as { history: HistoricalBars | undefined };
    g.history ??= new AlpacaHistoricalClient({
      baseUrl: this.#restUrl,
      keys: this.#credentials as Credentials,
      feed: this.url.endsWith('/sip') ? 'sip' : this.url.endsWith('/delayed_sip') ? 'delayed_sip' : 'iex',
    });
    return g.history;
  }

  /**
   * Fetches and delivers what each symbol missed, then releases the live bars held meanwhile. A
   * reconnect during a run makes the run go again before releasing; the held bars are released only
   * while connected (otherwise the next reconnect's run releases them).
   */
  #runGapFill(reason: 'reconnect' | 'restart' | 'warmup'): Promise<void> {
    if (this.#gapRun !== undefined) {
      this.#gapAgain = true;
      return this.#gapRun;
    }
    this.#gapRun = (async () => {
      do {
        this.#gapAgain = false;
        await this.#fillOnce(reason);
      } while (this.#gapAgain && !this.#closing);
      if (this.#closing) return;
      if (this.#session?.phase === 'ready' && this.#reconnecting === undefined) {
        const held = this.#held;
        this.#held = [];
        this.#holding = false;
        for (const h of held) this.#emitLive(h.type, h.bar);
      }
    })().finally(() => {
      this.#gapRun = undefined;
    });
    return this.#gapRun;
  }

  async #fillOnce(reason: 'reconnect' | 'restart' | 'warmup'): Promise<void> {
    const symbols = [...this.symbols];
    if (symbols.length === 0) return;
    const now = this.clock.now();
    const warmup = reason === 'warmup' ? (this.#gapFill as { warmupBars: number }).warmupBars : 0;
    // From the bar after each symbol's last delivered one; a symbol with none starts at the minute
    // in progress when the feed started (or, for a warm-up, a week back: the last N bars are kept).
    const since = (s: string): number => {
      const last = this.#perSymbol.get(s)?.lastStart;
      if (last !== undefined) return last + MINUTE_MS;
      if (warmup > 0) return now - 7 * DAY_MS;
      const since = Math.max(this.#startedAt ?? now, this.#subscribedAt.get(s) ?? -Infinity);
      return Math.floor(since / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    };
    let from = Infinity;
    for (const s of symbols) from = Math.min(from, since(s));
    const to = now - MINUTE_MS;
    this.#gapFills++;
    if (from > to) {
      this.emitter.emit({ type: 'gapFill', reason, recovered: 0, from, to });
      return;
    }
    let fetched: Map<string, Bar[]>;
    try {
      fetched = await this.#history().barsBySymbol({ symbols, start: from, end: to });
    } catch (error) {
      this.#gapFillFailures++;
      const e = FeedError.isInstance(error) ? error : new ConnectionError(String(error), { cause: error });
      this.reportError(new FeedError(e.code, this.#redact(`gap fill failed (${reason}); bars from ${new Date(from).toISOString()} may be missing: ${e.message}`), { cause: e }));
      return;
    }
    const receivedAt = this.clock.now();
    const order = new Map(symbols.map((s, i) => [s, i]));
    const recovered: Bar[] = [];
    for (const [symbol, list] of fetched) {
      if (!order.has(symbol)) continue;
      const first = since(symbol);
      let kept = list.filter((b) => b.start >= first && b.end <= now);
      if (warmup > 0 && this.#perSymbol.get(symbol)?.lastStart === undefined) kept = kept.slice(-warmup);
      for (const b of kept) recovered.push(b);
    }
    recovered.sort((a, b) => a.start - b.start || (order.get(a.symbol) ?? 0) - (order.get(b.symbol) ?? 0));
    let delivered = 0;
    for (const b of recovered) {
      const st = this.#symbolState(b.symbol);
      if (st.lastStart !== undefined && b.start <= st.lastStart) continue;
      st.lastStart = b.start;
      this.barsRecovered++;
      delivered++;
      this.deliver({ ...b, receivedAt });
    }
    this.emitter.emit({ type: 'gapFill', reason, recovered: delivered, from, to });
  }

  // ---- keep-alive and watchdog -------------------------------------------------------------------

  #startHeartbeat(): void {
    const ka = this.#keepAlive;
    const wd = this.#watchdog;
    if (ka === false && wd === false) return;
    const period = Math.min(ka === false ? Infinity : ka.pingIntervalMs, wd === false ? Infinity : wd.checkIntervalMs);
    let sincePing = 0;
     
    this.#heartbeat = setInterval(() => {
      const s = this.#session;
      if (s === undefined || s.phase !== 'ready') return;
      sincePing += period;
      if (ka !== false && sincePing >= ka.pingIntervalMs && s.pongTimer === undefined) {
        sincePing = 0;
        s.pongTimer = this.#setTimer(() => {
          s.pongTimer = undefined;
          this.#pongTimeouts++;
          this.reportError(new ConnectionError(`no pong within ${ka.pongTimeoutMs} ms: reconnecting`));
          this.#lost(s, 'pong timeout');
        }, ka.pongTimeoutMs);
        try {
          s.socket.ping();
        } catch {
          // A socket closing under us: its 'close' event does the rest.
        }
      }
      if (wd !== false) this.#checkWatchdog(s, wd);
    }, period);
    this.#heartbeat.unref?.();
  }

  #checkWatchdog(s: Session, wd: Required<WatchdogOptions>): void {
    if (this.symbols.length === 0 || !this.#channels.bars) return;
    const now = this.clock.now();
    const session = wd.calendar.sessionAt(now);
    if (session === undefined) return;
    const since = Math.max(s.lastDataAt, session.open);
    if (now - since < wd.noDataMs) return;
    this.#watchdogTrips++;
    this.reportError(new ConnectionError(`no data for ${Math.round((now - since) / 1000)} s while the market is open: reconnecting`));
    this.#lost(s, 'no-data watchdog');
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #setTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
     
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clearTimer(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.#timers.delete(t);
  }

  #redact(text: string): string {
    return this.#credentials === undefined ? text : redact(text, this.#credentials.secrets());
  }
}

function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function reasonText(reason: unknown): string {
  if (reason instanceof Uint8Array) return Buffer.from(reason).toString('utf8');
  return typeof reason === 'string' ? reason : '';
}
