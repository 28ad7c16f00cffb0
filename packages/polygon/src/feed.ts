import type { Bar, FeedStats, HistoricalBars } from '@feed/core';
import { AbstractBarFeed, BarValidationError, ConfigError, FeedError, MINUTE_MS, checkSymbols, parseOptions, quoteSymbol, redact, redactError } from '@feed/core';
import type { LiveFeedOptions, ResolvedLiveOptions, Session } from '@feed/live';
import { Connection, GapFiller, Heartbeat, LiveCore, SymbolTable, frameData, jsonFrames, liveOptionsShape, resolveLiveOptions } from '@feed/live';
import { z } from 'zod';
import { KEY_VARIABLE, PolygonHistoricalClient, aggregateOf } from './history.js';

/** Polygon's real-time stock stream (Massive's hosts answer the same protocol). */
export const REALTIME_URL = 'wss://socket.polygon.io/stocks';
/** Polygon's stock stream delayed by 15 minutes. */
export const DELAYED_URL = 'wss://delayed.polygon.io/stocks';

/** Options of `PolygonMultiSymbolFeed`: the shared live options (`@feed/live`) and Polygon's own. */
export interface PolygonFeedOptions extends LiveFeedOptions {
  /**
   * The API key.
   * @default process.env.POLYGON_API_KEY
   */
  readonly apiKey?: string;
  /**
   * Where the key is read from when `apiKey` is not given.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * `realtime` or `delayed` (15 minutes).
   * @default 'realtime'
   */
  readonly host?: 'realtime' | 'delayed';
  /**
   * A stream URL instead of `host` (a proxy, or `FakePolygonServer.wsUrl`).
   * @default the host's URL
   */
  readonly url?: string;
  /**
   * The REST host for gap fill.
   * @default 'https://api.polygon.io'
   */
  readonly restUrl?: string;
}

const schema = z.object({
  ...liveOptionsShape,
  apiKey: z.string('must be a string').optional(),
  env: z.record(z.string(), z.string().optional(), 'must be an object of environment variables').optional(),
  host: z.enum(['realtime', 'delayed'], "must be 'realtime' or 'delayed'").default('realtime'),
  url: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').optional(),
  restUrl: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
});

/** The Polygon feed's statistics. */
export interface PolygonFeedStats extends FeedStats {
  readonly frames: number;
  readonly messages: number;
  readonly malformed: number;
  readonly rejectedBars: number;
  readonly unknownMessages: number;
  readonly statusMessages: number;
  readonly duplicatesDropped: number;
  /** Bars for a symbol this feed did not subscribe: dropped, each reported as `unknown_symbol`. */
  readonly unexpectedSymbolBars: number;
  readonly connectAttempts: number;
  readonly pongTimeouts: number;
  readonly watchdogTrips: number;
  readonly gapFills: number;
  readonly gapFillFailures: number;
}

/** Events this feed adds: as Alpaca's, where they mean the same. */
export type PolygonFeedEvent =
  | { readonly type: 'open'; readonly attempt: number }
  | { readonly type: 'authenticated' }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly type: 'reconnected'; readonly attempts: number }
  | { readonly type: 'gapFill'; readonly reason: 'reconnect' | 'restart' | 'warmup'; readonly recovered: number; readonly from: number; readonly to: number }
  | { readonly type: 'status'; readonly status: string; readonly message: string };

/** A status Polygon sends that ends the feed: retrying cannot help. */
const FATAL_STATUSES = new Set(['auth_failed']);

/**
 * Polygon's (Massive's) per-minute aggregates stream (`AM.<SYMBOL>`) as a `BarFeed`: auth with the
 * key, subscribe, reconnect with backoff and jitter, keep-alive, the no-data watchdog, gap fill over
 * REST: the same behaviour as Alpaca's feed, from the same modules (`@feed/live`). Switching
 * providers is one changed line.
 */
export class PolygonMultiSymbolFeed extends AbstractBarFeed<PolygonFeedEvent> {
  readonly type = 'polygon';
  readonly url: string;
  readonly #key: string;
  readonly #restUrl: string;
  readonly #connection: Connection;
  readonly #heartbeat: Heartbeat;
  readonly #gap: GapFiller;
  readonly #table = new SymbolTable((s) => this.indexOfSymbol(s));
  readonly #o: ResolvedLiveOptions;
  #history: HistoricalBars | undefined;
  /** The lifecycle Alpaca's feed runs too: connect, start, loss and reconnect, give up, disconnect. */
  readonly #core: LiveCore;
  /** Subscriptions sent and not yet confirmed, and who waits for them. */
  #pending = new Set<string>();
  #waiters: { resolve: () => void; reject: (e: FeedError) => void }[] = [];
  #addedAt = new Map<string, number>();
  #n = { frames: 0, messages: 0, malformed: 0, rejected: 0, unknown: 0, status: 0, duplicates: 0, unexpected: 0 };

  constructor(options: PolygonFeedOptions) {
    const parsed = parseOptions(schema, options, 'PolygonMultiSymbolFeed options');
    const o = resolveLiveOptions(parsed);
    super(o.symbols, o.clock);
    const clock = o.clock;
    this.#o = o;
    const key = parsed.apiKey ?? (parsed.env ?? process.env)[KEY_VARIABLE];
    if (key === undefined || key === '') {
      throw new ConfigError({ code: 'invalid_option', message: `no Polygon key: set ${KEY_VARIABLE}, or pass apiKey`, issues: [{ path: 'apiKey', message: 'not given and not in the environment' }], source: 'environment' });
    }
    this.#key = key;
    this.url = parsed.url ?? (parsed.host === 'delayed' ? DELAYED_URL : REALTIME_URL);
    this.#restUrl = parsed.restUrl ?? 'https://api.polygon.io';
    this.#connection = new Connection(
      {
        url: this.url,
        headers: () => ({}),
        factory: o.webSocketFactory,
        clock,
        policy: o.reconnect,
        random: o.random,
        connectTimeoutMs: o.connectTimeoutMs,
        isFatal: (e) => e.detail?.fatal === true,
        redact: (t) => this.#redact(t),
      },
      {
        open: (s) => this.emitter.emit({ type: 'open', attempt: s.attempt }),
        frame: (s, data) => this.#onFrame(s, data),
        pong: (s) => this.#heartbeat.pong(s),
        closed: (s, reason) => this.#core.lost(s, reason),
        retry: (attempt, delayMs, error) => {
          this.reportError(error);
          this.emitter.emit({ type: 'retry', attempt, delayMs, reason: this.#redact(error.message) });
        },
      },
    );
    this.#heartbeat = new Heartbeat({
      clock,
      keepAlive: o.keepAlive,
      watchdog: o.watchdog,
      expectsData: () => this.symbols.length > 0,
      onFault: (s, fault, detail) => this.#core.heartbeatFault(s, fault, detail),
    });
    const g = o.gapFill === false ? { warmupBars: 0, timeoutMs: 0 } : o.gapFill;
    this.#gap = new GapFiller({
      clock,
      history: () => this.#historyClient(),
      timeoutMs: g.timeoutMs,
      warmupBars: g.warmupBars,
      table: this.#table,
      symbols: () => this.symbols,
      startedAt: () => this.#core.startedAt,
      subscribedAt: (s) => this.#addedAt.get(s),
      deliverRecovered: (b) => this.#deliverRecovered(b),
      deliverLive: (h) => this.#emitLive(h.bar),
      report: (e) => this.reportError(e),
      emit: (e) => this.emitter.emit({ type: 'gapFill', ...e }),
    });
    this.#core = new LiveCore(this.#connection, this.#heartbeat, this.#gap, {
      policy: o.reconnect,
      random: o.random,
      gapFill: o.gapFill !== false,
      warmupBars: g.warmupBars,
      state: () => this.state,
      setState: (to) => this.setState(to),
      isActive: () => this.isActive(),
      now: () => this.clock.now(),
      report: (e) => this.reportError(e),
      emit: (e) => this.emitter.emit(e),
      reconnected: () => {
        this.reconnects++;
      },
      endedBy: (e) => this.#settle(e),
      redact: (t) => this.#redact(t),
    });
    for (const s of this.symbols) this.#table.index(s);
  }

  override stats(): PolygonFeedStats {
    return {
      ...super.stats(),
      frames: this.#n.frames,
      messages: this.#n.messages,
      malformed: this.#n.malformed,
      rejectedBars: this.#n.rejected,
      unknownMessages: this.#n.unknown,
      statusMessages: this.#n.status,
      duplicatesDropped: this.#n.duplicates,
      unexpectedSymbolBars: this.#n.unexpected,
      connectAttempts: this.#connection.attempts,
      pongTimeouts: this.#heartbeat.pongTimeouts,
      watchdogTrips: this.#heartbeat.watchdogTrips,
      gapFills: this.#gap.fills,
      gapFillFailures: this.#gap.failures,
    };
  }

  /** Live timers and sockets, for leak checks (as Alpaca's feed's `resources()`). */
  resources(): { readonly timers: number; readonly sockets: number } {
    return { timers: this.#connection.timers + this.#heartbeat.timers, sockets: this.#connection.session === undefined ? 0 : 1 };
  }

  override toString(): string {
    return `PolygonMultiSymbolFeed(${this.url}, ${this.symbols.length} symbols, ${this.state}, key ...${this.#key.slice(-4)})`;
  }

  /** Adds symbols; while connected, resolves once the server confirms each subscription. */
  subscribe(symbols: readonly string[]): Promise<void> {
    const add = [...new Set(symbols)].filter((s) => !this.symbols.includes(s));
    if (add.length === 0) return Promise.resolve();
    checkSymbols(add, 'subscribe()');
    this.setSymbols([...this.symbols, ...add]);
    for (const s of add) {
      this.#table.index(s);
      this.#addedAt.set(s, this.clock.now());
    }
    const s = this.#connection.session;
    if (s === undefined || s.phase !== 'ready') return Promise.resolve();
    return this.#sendSubscribe(s, add);
  }

  /** Removes symbols (Polygon does not confirm an unsubscribe). */
  unsubscribe(symbols: readonly string[]): Promise<void> {
    const remove = symbols.filter((s) => this.symbols.includes(s));
    this.setSymbols(this.symbols.filter((s) => !remove.includes(s)));
    const s = this.#connection.session;
    if (s !== undefined && s.phase === 'ready' && remove.length > 0) s.send(jsonFrames({ action: 'unsubscribe', params: remove.map((x) => `AM.${x}`).join(',') }));
    return Promise.resolve();
  }

  protected override reportError(error: FeedError): void {
    super.reportError(redactError(error, [this.#key]));
  }

  protected doConnect(): Promise<void> {
    return this.#core.connect();
  }

  protected doStart(): Promise<void> {
    return this.#core.start();
  }

  protected async doStop(): Promise<void> {
    await this.#core.stop();
  }

  protected async doDisconnect(): Promise<void> {
    await this.#core.disconnect();
    this.#settle(new FeedError({ code: 'aborted', message: 'the feed was disconnected' }));
  }

  #sendSubscribe(session: Session, symbols: readonly string[]): Promise<void> {
    for (const s of symbols) this.#pending.add(s);
    const reply = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    session.send(jsonFrames({ action: 'subscribe', params: symbols.map((s) => `AM.${s}`).join(',') }));
    return reply;
  }

  #settle(error?: FeedError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  #onFrame(session: Session, data: unknown): void {
    this.#n.frames++;
    const now = this.clock.now();
    session.lastDataAt = now;
    let messages: unknown;
    try {
      const raw = frameData(data);
      messages = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch {
      this.#malformed('the frame is not JSON');
      return;
    }
    if (!Array.isArray(messages)) {
      this.#malformed('the frame is not an array of messages');
      return;
    }
    for (let i = 0; i < messages.length; i++) {
      this.#n.messages++;
      const m = messages[i] as Record<string, unknown> | null;
      if (typeof m !== 'object' || m === null) {
        this.#malformed(`message ${i} is not an object`);
        continue;
      }
      if (m.ev === 'status') this.#onStatus(session, typeof m.status === 'string' ? m.status : 'unknown', typeof m.message === 'string' ? m.message : '');
      else if (m.ev === 'AM') {
        const bar = aggregateOf(m, String(m.sym), now);
        if (typeof bar === 'string' || typeof m.sym !== 'string') this.#malformed(`message ${i} (AM): ${typeof bar === 'string' ? bar : 'sym is not a string'}`);
        else this.#onBar(bar);
      } else this.#n.unknown++;
    }
  }

  #malformed(what: string): void {
    this.#n.malformed++;
    this.reportError(new FeedError({ code: 'protocol', message: `malformed frame from ${this.url}: ${what}; skipped` }));
  }

  /** Polygon's status messages drive the handshake and the subscriptions; every one is emitted. */
  #onStatus(session: Session, status: string, message: string): void {
    this.#n.status++;
    this.emitter.emit({ type: 'status', status, message: this.#redact(message) });
    switch (status) {
      case 'connected':
        session.send(jsonFrames({ action: 'auth', params: this.#key }));
        return;
      case 'auth_success': {
        this.#connection.authenticated();
        this.emitter.emit({ type: 'authenticated' });
        if (this.symbols.length === 0) {
          this.#connection.ready(session);
          return;
        }
        void this.#sendSubscribe(session, this.symbols).then(
          () => this.#connection.ready(session),
          () => undefined,
        );
        return;
      }
      case 'success': {
        const m = /^subscribed to: (?:AM\.)?(\S+)/.exec(message);
        if (m !== null) {
          this.#pending.delete(m[1] as string);
          if (this.#pending.size === 0) this.#settle();
        }
        return;
      }
      default: {
        const fatal = FATAL_STATUSES.has(status);
        const e = new FeedError({ code: fatal ? 'provider' : 'connection', message: this.#redact(`Polygon status '${status}': ${message}`), detail: { status, fatal } });
        if (session.phase === 'handshake') this.#connection.fail(session, e);
        else this.reportError(e);
      }
    }
  }

  /** A bar whose start is off the grid or more than one minute ahead of the clock is refused (as Alpaca's feed does). */
  #onBar(bar: Bar): void {
    if (!this.symbols.includes(bar.symbol)) {
      this.#n.unexpected++;
      this.reportError(new FeedError({ code: 'unknown_symbol', message: `a bar for ${quoteSymbol(bar.symbol)}, which this feed did not subscribe, dropped`, detail: { symbol: bar.symbol.slice(0, 40) } }));
      return;
    }
    const now = this.clock.now();
    const reason = bar.start % MINUTE_MS !== 0 ? 'off_grid' : bar.start - now > MINUTE_MS ? 'future' : undefined;
    if (reason !== undefined) {
      this.#n.rejected++;
      const what = reason === 'off_grid' ? 'is not on a minute boundary' : `is more than one minute ahead of the clock (${new Date(now).toISOString()})`;
      this.reportError(new BarValidationError({ message: `${bar.symbol}: bar start ${new Date(bar.start).toISOString()} ${what}; bar dropped`, reason, symbol: bar.symbol, field: 'start' }));
      return;
    }
    if (!this.isActive()) {
      if (this.#core.startedAt === undefined) this.#gap.keep({ revision: false, bar });
      return;
    }
    if (this.#gap.holding) {
      this.#gap.keep({ revision: false, bar });
      return;
    }
    this.#emitLive(bar);
  }

  #emitLive(bar: Bar): void {
    const t = this.#table;
    const i = t.index(bar.symbol);
    if (bar.start <= (t.lastStart[i] as number)) {
      this.#n.duplicates++;
      return;
    }
    t.lastStart[i] = bar.start;
    this.deliver(bar, i);
  }

  #deliverRecovered(bar: Bar): boolean {
    const t = this.#table;
    const i = t.index(bar.symbol);
    if (bar.start <= (t.lastStart[i] as number)) return false;
    t.lastStart[i] = bar.start;
    this.barsRecovered++;
    this.deliver(bar, i);
    return true;
  }

  #historyClient(): HistoricalBars {
    if (this.#o.gapFill !== false && this.#o.gapFill.history !== undefined) return this.#o.gapFill.history;
    this.#history ??= new PolygonHistoricalClient({ apiKey: this.#key, baseUrl: this.#restUrl, clock: this.clock });
    return this.#history;
  }

  #redact(text: string): string {
    return redact(text, [this.#key]);
  }
}
