import type { Bar, CorporateAction, CorporateActions, FeedState, FeedStats, HistoricalBars, TradingStatus, TypedEvent, WarmUpOptions, WarmUpResult } from '@feed/core';
import { AbstractBarFeed, BarValidationError, ConfigError, ConnectionError, ExDateTracker, FeedError, MINUTE_MS, StateError, actionsFrom, adjustAll, barFromValues, checkSymbols, exDateStart, loadWarmUp, nyse, quoteSymbol, redact, redactError, timeoutSignal, warmUpShortError, withReceivedAt } from '@feed/core';
import { backoffDelay } from './backoff.js';
import type { Session } from './connection.js';
import { Connection } from './connection.js';
import type { GapFillReason } from './gap-fill.js';
import { GapFiller } from './gap-fill.js';
import type { HeartbeatFault } from './heartbeat.js';
import { Heartbeat } from './heartbeat.js';
import type { ResolvedLiveOptions } from './live-options.js';
import type { RetryInfo } from './retrying-get.js';
import type { OutgoingFrame } from './socket.js';
import { frameData } from './socket.js';
import { SymbolTable } from './symbol-table.js';
import { WorkerLink } from './worker-link.js';
import type { WireError, WireEvent, WorkerSpec } from './worker-protocol.js';
import { BAR_STRIDE, KIND_RECOVERED, fromWire } from './worker-protocol.js';

/** Bars kept between `connect()` and the first `start()`; beyond this they are counted as ignored. */
export const MAX_HELD_BEFORE_START = 100_000;

/** Latency from a bar's end to its receipt, in milliseconds. */
export interface LatencyStats {
  readonly count: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

/** The statistics every live feed keeps, whatever its provider. */
export interface LiveFeedStats extends FeedStats {
  /** Frames received. */
  readonly frames: number;
  /** Messages received (a frame holds one or more). */
  readonly messages: number;
  /** Frames or messages that could not be read, dropped and reported. */
  readonly malformed: number;
  /** Bars refused because their start is off the minute grid or ahead of the clock (`invalid_bar`). */
  readonly rejectedBars: number;
  /** Messages of types the feed does not handle (trades, quotes, ...), ignored. */
  readonly unknownMessages: number;
  /** Bars that arrived while the feed was stopped (or past the cap before the first start) and were not delivered. */
  readonly ignoredWhileStopped: number;
  /** Bars for a symbol the feed did not subscribe (or no longer does): dropped, each reported as `unknown_symbol`. */
  readonly unexpectedSymbolBars: number;
  /** Bars that arrived both live and by gap fill (or twice live), delivered once: the extra copies. */
  readonly duplicatesDropped: number;
  /** Connection attempts, successful or not. */
  readonly connectAttempts: number;
  /** Times the pong timeout fired. */
  readonly pongTimeouts: number;
  /** Times the no-data watchdog reconnected. */
  readonly watchdogTrips: number;
  /** Gap fills run; those that failed (each reported as `gap_unfilled`), and of those, the ones that hit the deadline. */
  readonly gapFills: number;
  readonly gapFillFailures: number;
  readonly gapFillTimeouts: number;
  /** Whether a gap fill is running now, and how many live bars wait behind it. */
  readonly gapFillInProgress: boolean;
  readonly heldBars: number;
  /** Trading statuses and LULD bands delivered (`tradingStatus` events). */
  readonly tradingStatuses: number;
  /** Trading statuses that arrived while the feed was stopped, or for a symbol it did not subscribe: dropped, counted. */
  readonly statusesDropped: number;
  /** Bars a `warmUp()` loaded (emitted as one `warmup` event, not as `bar` events). */
  readonly warmUpBars: number;
  /** Corporate actions known, announced (`corporateAction`, late ones included), and fetches of them that failed. */
  readonly corporateActions: number;
  readonly corporateActionsAnnounced: number;
  readonly corporateActionFetchFailures: number;
  /** Latency from bar end to receipt (live bars only), in total and per symbol. */
  readonly latency: LatencyStats;
  readonly latencyBySymbol: Readonly<Record<string, LatencyStats>>;
}

/** The counters of `LiveFeedStats` that are single numbers or flags (what a worker thread sends with each message), with `reconnects`. */
export type LiveScalarStats = Omit<LiveFeedStats, keyof FeedStats | 'latency' | 'latencyBySymbol'> & { readonly reconnects: number };

/** The events every live feed adds to `bar`, `error` and `state`. */
export type LiveFeedEvent =
  | { readonly type: 'open'; readonly attempt: number }
  | { readonly type: 'authenticated' }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  /** A reconnect succeeded after `attempts` attempts (this reconnect's, not the feed's total). */
  | { readonly type: 'reconnected'; readonly attempts: number }
  | { readonly type: 'gapFill'; readonly reason: GapFillReason; readonly recovered: number; readonly from: number; readonly to: number }
  /**
   * The provider's own history client (the one a gap fill uses when `gapFill.history` is not given)
   * retries a request after `delayMs`: a 5xx, a 429, a network error. `status` 0: no response.
   */
  | { readonly type: 'historyRetry'; readonly attempt: number; readonly delayMs: number; readonly status: number; readonly reason: string };

/** Diagnostic counts for leak checks: live timers and listeners on the current socket. */
export interface FeedResources {
  readonly timers: number;
  readonly socketListeners: number;
  readonly sockets: number;
}

/** What a provider tells the feed once, at construction: where, with which headers, which secrets, what is fatal. */
export interface LiveProvider {
  /** The stream URL (never holds credentials). */
  readonly url: string;
  /** Headers of the upgrade request (keys, when the provider authenticates by header; the encoding). */
  readonly headers: () => Record<string, string>;
  /** Every secret the feed holds: removed from each message, event and error. */
  readonly secrets: () => readonly string[];
  /** Whether an error ends the connection attempts at once (a refused key, an encoding mismatch). */
  readonly isFatal: (error: FeedError) => boolean;
  /** Whether data is expected at all once subscribed (the watchdog sleeps otherwise). @default true */
  readonly expectsData?: () => boolean;
}

/**
 * The one owner of a live feed's lifecycle and bar path, whatever the provider: connection and
 * session, keep-alive and the watchdog, reconnect with backoff, gap fill with its held buffer and
 * deadline; and every bar's way to the listeners: the subscribed-symbol check, the untrusted-bar
 * checks (off the grid, ahead of the clock), the held-bar cap before the first `start()`, bars
 * dropped while stopped (counted), dedupe and revisions, recovered bars (checked, once), latency,
 * every statistic and event. `stop()` and `disconnect()` work in every state: while connecting they
 * cancel the connect and resolve.
 *
 * A provider's feed extends it and supplies what differs: the URL, headers and secrets
 * (`LiveProvider`), the decoding of a frame (`onFrame`, which drives the handshake through
 * `authenticated()`, `handshakeDone()`, `handshakeFailed()` and hands bars to `acceptBar()`), its
 * subscribe message (`sendSubscription`), and its history client (`createHistory`).
 */
export abstract class AbstractLiveFeed<X extends TypedEvent = never> extends AbstractBarFeed<LiveFeedEvent | X> {
  /** The stream URL (never holds credentials). */
  readonly url: string;
  /** The shared options, validated and defaulted. */
  protected readonly live: ResolvedLiveOptions;
  readonly #provider: LiveProvider;
  readonly #connection: Connection;
  readonly #heartbeat: Heartbeat;
  readonly #gap: GapFiller;
  readonly #table = new SymbolTable((s) => this.indexOfSymbol(s));
  /** The symbols subscribed now: a bar for any other is dropped (a server may send anything). */
  readonly #wanted = new Set<string>();
  /** When each symbol added after the start was added: gap fill recovers it from there. */
  readonly #addedAt = new Map<string, number>();
  #history: HistoricalBars | undefined;
  #reconnecting: Promise<void> | undefined;
  /** The last `connect()` call, settled either way, so that stop() or disconnect() can wait for its end. */
  #connectCall: Promise<void> | undefined;
  #startedAt: number | undefined;
  /** With `worker: true`: the link to the worker thread, its last counters, its symbol indexes here. */
  #link: WorkerLink | undefined;
  #remote: LiveScalarStats | undefined;
  #remoteIndex: number[] = [];
  #remoteNames: string[] = [];
  #frames = 0;
  #messages = 0;
  #malformed = 0;
  #rejected = 0;
  #unknown = 0;
  #ignored = 0;
  #unexpected = 0;
  #duplicates = 0;
  #statuses = 0;
  #statusesDropped = 0;
  #warmUpBars = 0;
  /** `warmUp()` ran: the first `start()` fills the seam from each symbol's last warm-up bar. */
  #warmed = false;
  /** The last minute a warm-up looked at: a recovered bar up to it outside regular hours was left out by the warm-up, and stays out. */
  #warmedTo = Number.NEGATIVE_INFINITY;
  /** Corporate actions: which are due before which bars; those known; the next bar start that asks for a fresh list (a new session). */
  #tracker: ExDateTracker;
  readonly #actions: CorporateAction[] = [];
  #actionSource: CorporateActions | undefined;
  #actionsCheckedUntil = Number.POSITIVE_INFINITY;
  #actionsAnnounced = 0;
  #actionFailures = 0;
  #actionsStarted = false;

  protected constructor(live: ResolvedLiveOptions, provider: LiveProvider) {
    super(live.symbols, live.clock);
    this.live = live;
    this.#provider = provider;
    this.url = provider.url;
    for (const s of live.symbols) {
      this.#table.index(s);
      this.#wanted.add(s);
    }
    this.#tracker = new ExDateTracker(live.adjustment);
    this.#connection = new Connection(
      {
        url: provider.url,
        headers: provider.headers,
        factory: live.webSocketFactory,
        clock: live.clock,
        policy: live.reconnect,
        random: live.random,
        connectTimeoutMs: live.connectTimeoutMs,
        isFatal: provider.isFatal,
        redact: (t) => this.redact(t),
      },
      {
        open: (s) => this.emitter.emit({ type: 'open', attempt: s.attempt }),
        frame: (s, data, isBinary) => {
          this.#frames++;
          this.onFrame(s, frameData(data), isBinary);
        },
        pong: (s) => this.#heartbeat.pong(s),
        closed: (s, reason) => this.#lost(s, reason),
        retry: (attempt, delayMs, error) => {
          this.reportError(error);
          this.emitter.emit({ type: 'retry', attempt, delayMs, reason: this.redact(error.message) });
        },
      },
    );
    this.#heartbeat = new Heartbeat({
      clock: live.clock,
      keepAlive: live.keepAlive,
      watchdog: live.watchdog,
      expectsData: () => this.symbols.length > 0 && (provider.expectsData?.() ?? true),
      onFault: (s, fault, detail) => this.#heartbeatFault(s, fault, detail),
    });
    const g = live.gapFill === false ? { warmupBars: 0, timeoutMs: 0 } : live.gapFill;
    this.#gap = new GapFiller({
      clock: live.clock,
      history: () => this.#historyClient(),
      timeoutMs: g.timeoutMs,
      warmupBars: g.warmupBars,
      table: this.#table,
      symbols: () => this.symbols,
      startedAt: () => this.#startedAt,
      subscribedAt: (s) => this.#addedAt.get(s),
      deliverRecovered: (b) => this.#deliverRecovered(b),
      deliverLive: (h) => this.#emitLive(h.bar, h.revision),
      report: (e) => this.reportError(e),
      emit: (e) => this.emitter.emit({ type: 'gapFill', ...e }),
    });
  }

  // ---- what a provider supplies --------------------------------------------------------------

  /** One frame of `session` (text or bytes): decode it, drive the handshake, hand bars to `acceptBar`. */
  protected abstract onFrame(session: Session, data: string | Uint8Array, isBinary: boolean): void;

  /**
   * The provider's history client for gap fill (used when `gapFill.history` is not given); it calls
   * `onRetry` before each retry wait (the feed emits it as `historyRetry`).
   */
  protected abstract createHistory(onRetry: (info: RetryInfo) => void): HistoricalBars;

  /**
   * Sends a subscribe or unsubscribe for `symbols` on a ready session; resolves when the server has
   * confirmed it (or at once, for a provider that does not confirm).
   */
  protected abstract sendSubscription(session: Session, action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void>;

  /**
   * The provider's corporate-action client (used with `corporateActions: true`); undefined: this
   * provider has none.
   */
  protected createCorporateActions(_onRetry: (info: RetryInfo) => void): CorporateActions | undefined {
    return undefined;
  }

  /** The feed ended (a fatal error, `disconnect()`): calls waiting on the server fail with `error`. */
  protected onEnded(_error: FeedError): void {
    // A provider with pending subscription replies rejects them here.
  }

  /** Whether the feed can connect at all (keys present); the error is reported and thrown by `connect()`. */
  protected connectProblem(): FeedError | undefined {
    return undefined;
  }

  /**
   * With `worker: true`: the provider's module URL, the name it exports this class under, and its
   * options as plain data (`shared` holds the shared ones, from `live.worker`). Undefined: this
   * provider cannot run in a worker.
   */
  protected workerSpec(_shared: Readonly<Record<string, unknown>>): WorkerSpec | undefined {
    return undefined;
  }

  /** Rebuilds one of the provider's own error classes from a worker's message (undefined: not one). */
  protected reviveError(_error: WireError): FeedError | undefined {
    return undefined;
  }

  /** An event from the worker thread, before it is emitted here (a provider updates what it mirrors). */
  protected onWorkerEvent(_event: WireEvent): void {
    // Nothing by default.
  }

  // ---- what a provider calls -----------------------------------------------------------------

  /** The current session, if any. */
  protected get session(): Session | undefined {
    return this.#connection.session;
  }

  /** The session authenticated: the failures in a row start again, and `authenticated` is emitted. */
  protected authenticated(): void {
    this.#connection.authenticated();
    this.emitter.emit({ type: 'authenticated' });
  }

  /** The handshake of `session` is complete (authenticated and subscribed): its attempt succeeds. */
  protected handshakeDone(session: Session): void {
    this.#connection.ready(session);
  }

  /** The handshake of `session` failed: its attempt fails with `error` (retried unless fatal). */
  protected handshakeFailed(session: Session, error: FeedError): void {
    this.#connection.fail(session, error);
  }

  /** A fatal error while running: reported, everything released, the feed ends `closed`. */
  protected fatal(error: FeedError): void {
    this.#giveUp(error);
  }

  /** Messages received (a provider counts them as it decodes a frame). */
  protected countMessages(n: number): void {
    this.#messages += n;
  }

  /** A frame or message that cannot be read: counted and reported (`message` in the provider's words); the rest of the frame goes on. */
  protected malformed(message: string): void {
    this.#malformed++;
    this.reportError(new FeedError({ code: 'protocol', message: this.redact(message) }));
  }

  /** A message of a type this feed does not handle (trades, quotes): counted, skipped. */
  protected unknownMessage(): void {
    this.#unknown++;
  }

  /** Whether `symbol` is subscribed now. */
  protected isSubscribed(symbol: string): boolean {
    return this.#wanted.has(symbol);
  }

  /**
   * A bar for a symbol nobody subscribed: counted and reported as `unknown_symbol`; returns true when
   * that was the case (the bar must go no further).
   */
  protected unexpected(bar: Bar): boolean {
    if (this.#wanted.has(bar.symbol)) return false;
    this.#unexpected++;
    this.reportError(new FeedError({ code: 'unknown_symbol', message: `a bar for ${quoteSymbol(bar.symbol)}, which this feed did not subscribe, dropped`, detail: { symbol: bar.symbol.slice(0, 40) } }));
    return true;
  }

  /**
   * A live bar from the provider's decoder, on its one way to the listeners: the symbol must be
   * subscribed and the bar trusted (on the grid, not ahead of the clock); before the first start it
   * is kept (up to `MAX_HELD_BEFORE_START`), while stopped dropped and counted, behind a gap held;
   * then delivered once (a minute no later than the symbol's last is a duplicate unless `revision`).
   */
  protected acceptBar(bar: Bar, revision = false): void {
    if (this.unexpected(bar)) return;
    if (this.#untrusted(bar)) return;
    if (!this.isActive()) {
      // Between connect() and the first start(): kept, and delivered when start() is called.
      if (this.#startedAt === undefined && this.#gap.heldCount < MAX_HELD_BEFORE_START) this.#gap.keep({ bar, revision });
      else this.#ignored++;
      return;
    }
    if (this.#gap.holding) {
      this.#gap.keep({ bar, revision });
      return;
    }
    this.#emitLive(bar, revision);
  }

  /**
   * A trading status or LULD band from the provider's decoder: delivered at once (`tradingStatus`)
   * for a subscribed symbol, dropped and counted for any other or while stopped. Statuses carry their
   * own time, so they need no place in the bars' order: a data manager files them by `at`.
   */
  protected acceptStatus(status: TradingStatus): void {
    if (!this.#wanted.has(status.symbol)) {
      this.#statusesDropped++;
      this.reportError(new FeedError({ code: 'unknown_symbol', message: `a trading status for ${quoteSymbol(status.symbol)}, which this feed did not subscribe, dropped`, detail: { symbol: status.symbol.slice(0, 40) } }));
      return;
    }
    if (this.state === 'stopped' || this.state === 'closed') {
      this.#statusesDropped++;
      return;
    }
    this.#statuses++;
    this.emitter.emit({ type: 'tradingStatus', status });
  }

  /**
   * Loads history before the live bars (docs/semantics.md, "Warm-up"): the newest `bars`
   * regular-hours bars per symbol (or the last `minutes`) up to the last minute that has ended, from
   * `history` (default: this provider's REST history), emitted as one `warmup` event that a data
   * manager attached to this feed loads into its history. Call it after `connect()` (or before) and
   * before the first `start()`: live bars arriving meanwhile are held, and `start()` fills the seam
   * from each symbol's last warm-up bar, so there is no gap and no duplicate between the two, even
   * when the seam falls inside a minute or the connection drops during the warm-up. Resolves with
   * what was loaded; fewer bars than asked for a symbol is also reported (`warmup_short`).
   */
  async warmUp(options: WarmUpOptions): Promise<WarmUpResult> {
    if (this.#startedAt !== undefined || this.#warmed || !(this.state === 'idle' || this.state === 'connected')) {
      throw new StateError({ operation: this.#warmed ? 'warmUp (a second time)' : 'warmUp', state: this.state, allowed: ['idle', 'connected'] });
    }
    this.#warmed = true;
    const history = options.history ?? this.#historyClient();
    const last = Math.floor(this.clock.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    this.#warmedTo = last;
    const { bars, result } = await loadWarmUp(history, {
      symbols: [...this.symbols],
      last,
      calendar: nyse,
      ...(options.bars === undefined ? {} : { bars: options.bars }),
      ...(options.minutes === undefined ? {} : { minutes: options.minutes }),
      ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    // Adjusted as of the date of its newest bar: later actions are announced before the first bar of
    // their ex-date (as a replay does).
    let adjusted = bars;
    if (this.#actionsEnabled() && bars.length > 0) {
      const newest = (bars[bars.length - 1] as Bar).start;
      await this.#refreshActions(nyse.dateOf((bars[0] as Bar).start), nyse.dateOf(last), false);
      adjusted = adjustAll(bars, this.#actions, { adjustment: this.live.adjustment, asOf: nyse.dateOf(newest) }).bars;
      for (const s of this.symbols) this.#tracker.seen(s, newest);
    }
    // The seam: each symbol's live bars continue after its last warm-up bar (start() fills the rest).
    const t = this.#table;
    const seeds: [string, number][] = [];
    for (const b of adjusted) {
      const i = t.index(b.symbol);
      if (!(b.start <= (t.lastStart[i] as number))) t.lastStart[i] = b.start;
    }
    for (const s of this.symbols) {
      const v = t.lastStartOf(s);
      if (v !== undefined) seeds.push([s, v]);
    }
    if (this.#link !== undefined) await this.#link.call('seed', seeds, last);
    this.#warmUpBars += adjusted.length;
    this.emitter.emit({ type: 'warmup', bars: adjusted, ...result });
    const short = warmUpShortError(result, 'before the seam');
    if (short !== undefined) this.reportError(short);
    return result;
  }

  /** In a worker thread: the main thread's warm-up ended at these bars (the seam the first start fills from). */
  protected seedWarmUp(seeds: readonly (readonly [string, number])[], to: number): void {
    this.#warmed = true;
    this.#warmedTo = to;
    for (const [s, start] of seeds) this.#table.lastStart[this.#table.index(s)] = start;
  }

  /** `text` without any of the feed's secrets. */
  protected redact(text: string): string {
    return redact(text, this.#provider.secrets());
  }

  /** Every error leaves the feed without a secret in its message, stack or causes. */
  protected override reportError(error: FeedError): void {
    super.reportError(redactError(error, this.#provider.secrets()));
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /**
   * Adds symbols (checked as tickers). While connected the subscribe message is sent at once and the
   * promise resolves on the server's reply; otherwise they are subscribed on connect. Every
   * reconnect subscribes them again; a gap fill recovers a symbol from its subscription on.
   */
  subscribe(symbols: readonly string[]): Promise<void> {
    const add = [...new Set(symbols)].filter((s) => !this.#wanted.has(s));
    if (add.length === 0) return Promise.resolve();
    checkSymbols(add, 'subscribe()');
    this.setSymbols([...this.symbols, ...add]);
    if (this.live.worker !== undefined) {
      for (const s of add) this.#wanted.add(s);
      return this.#remoteCall('subscribe', add);
    }
    const now = this.clock.now();
    for (const s of add) {
      this.#table.index(s);
      this.#wanted.add(s);
      this.#addedAt.set(s, now);
    }
    return this.#sendIfReady('subscribe', add);
  }

  /** Removes symbols; resolves on the server's reply when connected. */
  unsubscribe(symbols: readonly string[]): Promise<void> {
    const remove = [...new Set(symbols)].filter((s) => this.#wanted.has(s));
    if (remove.length === 0) return Promise.resolve();
    this.setSymbols(this.symbols.filter((s) => !remove.includes(s)));
    for (const s of remove) this.#wanted.delete(s);
    if (this.live.worker !== undefined) return this.#remoteCall('unsubscribe', remove);
    return this.#sendIfReady('unsubscribe', remove);
  }

  #sendIfReady(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const s = this.#connection.session;
    if (s === undefined || s.phase !== 'ready') return Promise.resolve();
    return this.sendSubscription(s, action, symbols);
  }

  /** Sends frames on `session` while it is open. */
  protected send(session: Session, frames: readonly OutgoingFrame[]): void {
    session.send(frames);
  }

  // ---- statistics ----------------------------------------------------------------------------

  override stats(): LiveFeedStats {
    const t = this.#table;
    let count = 0;
    let sum = 0;
    let max = 0;
    const bySymbol: Record<string, LatencyStats> = {};
    for (let i = 0; i < this.indexedSymbolCount && i < t.lastStart.length; i++) {
      const n = t.latencyCount[i] as number;
      if (n === 0) continue;
      const s = t.latencySum[i] as number;
      const m = t.latencyMax[i] as number;
      bySymbol[this.symbolAt(i)] = { count: n, avgMs: s / n, maxMs: m };
      count += n;
      sum += s;
      if (m > max) max = m;
    }
    return {
      ...super.stats(),
      ...this.scalarStats(),
      latency: { count, avgMs: count > 0 ? sum / count : 0, maxMs: max },
      latencyBySymbol: bySymbol,
    };
  }

  /** The counters of `stats()` that are single numbers or flags, without the per-symbol work (a worker's, with `worker: true`). */
  protected scalarStats(): LiveScalarStats {
    if (this.live.worker !== undefined) return this.#remote ?? this.#localScalarStats();
    return this.#localScalarStats();
  }

  /**
   * A provider's own counters (Alpaca's updated and daily bars, Polygon's status messages), merged
   * into `stats()`; with `worker: true` they come from the worker's feed like every other counter.
   */
  protected providerStats(): Readonly<Record<string, number>> {
    return {};
  }

  #localScalarStats(): LiveScalarStats {
    return {
      ...this.providerStats(),
      frames: this.#frames,
      messages: this.#messages,
      malformed: this.#malformed,
      rejectedBars: this.#rejected,
      unknownMessages: this.#unknown,
      ignoredWhileStopped: this.#ignored,
      unexpectedSymbolBars: this.#unexpected,
      duplicatesDropped: this.#duplicates,
      connectAttempts: this.#connection.attempts,
      pongTimeouts: this.#heartbeat.pongTimeouts,
      watchdogTrips: this.#heartbeat.watchdogTrips,
      gapFills: this.#gap.fills,
      gapFillFailures: this.#gap.failures,
      gapFillTimeouts: this.#gap.timeouts,
      gapFillInProgress: this.#gap.running,
      heldBars: this.#gap.heldCount,
      tradingStatuses: this.#statuses,
      statusesDropped: this.#statusesDropped,
      warmUpBars: this.#warmUpBars,
      corporateActions: this.#actions.length,
      corporateActionsAnnounced: this.#actionsAnnounced,
      corporateActionFetchFailures: this.#actionFailures,
      reconnects: this.reconnects,
    };
  }

  /** Live timers and socket listeners, for leak checks. */
  resources(): FeedResources {
    const s = this.#connection.session;
    let socketListeners = 0;
    if (s !== undefined) {
      for (const e of ['open', 'message', 'close', 'error', 'pong']) socketListeners += s.socket.listenerCount(e);
    }
    return { timers: this.#connection.timers + this.#heartbeat.timers, socketListeners, sockets: s === undefined ? 0 : 1 };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * Resolves once the feed has handled every call and clock move made before it. Inline that is at
   * once; with `worker: true` it is a round trip to the worker thread, after which its bars, events,
   * statistics and timers (seen through `nextTimerAt()` of a `ManualClock`) are current here. For
   * tests that drive a worker's feed with a `ManualClock`.
   */
  async sync(): Promise<void> {
    if (this.#link !== undefined) await this.#link.call('sync');
  }

  /** Stops delivery; while connecting, cancels the connect (which rejects with `aborted`) and resolves. */
  override async stop(): Promise<void> {
    if (this.state === 'connecting') {
      await this.#cancelConnect();
      return;
    }
    await super.stop();
  }

  override connect(): Promise<void> {
    const call = super.connect();
    this.#connectCall = call.catch(() => undefined);
    return call;
  }

  /** Closes for good, in any state; while connecting, cancels the connect (which rejects with `aborted`). */
  override async disconnect(): Promise<void> {
    if (this.state === 'connecting') {
      await this.#cancelConnect();
      this.onEnded(new FeedError({ code: 'aborted', message: 'the feed was disconnected' }));
      this.setState('closed');
      return;
    }
    await super.disconnect();
  }

  async #cancelConnect(): Promise<void> {
    this.#connection.terminate();
    // In a worker, its feed cancels its own connect.
    await this.#link?.call('stop').catch(() => undefined);
    await this.#connectCall;
  }

  protected async doConnect(): Promise<void> {
    if (this.live.worker !== undefined) {
      const spec = this.workerSpec({ ...this.live.worker, symbols: [...this.symbols] });
      if (spec === undefined) throw new ConfigError({ code: 'invalid_option', message: `${this.type}: worker: true is not supported by this feed`, issues: [{ path: 'worker', message: 'not supported' }] });
      this.#link ??= this.#startWorker(spec);
      // The worker's feed reported any error already (forwarded as an event); here it is thrown.
      await this.#link.call('connect');
      return;
    }
    const problem = this.connectProblem();
    if (problem !== undefined) {
      this.reportError(problem);
      throw problem;
    }
    this.#connection.reopen();
    try {
      await this.#connection.connect();
    } catch (error) {
      this.#connection.terminate();
      const e = FeedError.isInstance(error) ? error : new ConnectionError({ message: String(error), cause: error });
      // A connect cancelled by stop() or disconnect() is not a failure to report.
      if (e.code !== 'aborted') this.reportError(e);
      throw e;
    }
    this.#heartbeat.start(this.#connection.session as Session);
  }

  protected async doStart(): Promise<void> {
    // The actions of the last week, before any bar of today goes out (here, also with a worker: this
    // thread announces them as the worker's bars arrive).
    if (this.#actionsEnabled()) {
      this.#actionsStarted = true;
      await this.#refreshActions(nyse.dateOf(this.clock.now() - 7 * 86_400_000), nyse.dateOf(this.clock.now()), true);
    }
    if (this.#link !== undefined) {
      await this.#link.call('start');
      return;
    }
    const first = this.#startedAt === undefined;
    this.#startedAt ??= this.clock.now();
    const g = this.live.gapFill;
    if (g === false || (first && g.warmupBars === 0 && !this.#warmed)) {
      // Bars that arrived since connect(), in order (the gap fill releases them otherwise).
      this.#gap.releaseAll();
      return;
    }
    this.#gap.hold();
    await this.#gap.run(first ? 'warmup' : 'restart');
  }

  protected async doStop(): Promise<void> {
    if (this.#link !== undefined) {
      await this.#link.call('stop');
      return;
    }
    // A fill in flight is aborted; held bars were never delivered, so the restart's fill recovers them.
    this.#ignored += await this.#gap.abort();
  }

  protected async doDisconnect(): Promise<void> {
    const link = this.#link;
    if (link !== undefined) {
      this.#link = undefined;
      await link.call('disconnect').finally(() => link.terminate());
      this.onEnded(new FeedError({ code: 'aborted', message: 'the feed was disconnected' }));
      return;
    }
    this.#heartbeat.stop();
    await this.#connection.close();
    const reconnecting = this.#reconnecting;
    if (reconnecting !== undefined) await reconnecting.catch(() => undefined);
    await this.#gap.abort();
    this.onEnded(new FeedError({ code: 'aborted', message: 'the feed was disconnected' }));
  }

  /** Keep-alive or the watchdog found the connection dead: reported, then handled as a loss. */
  #heartbeatFault(session: Session, fault: HeartbeatFault, detail: string): void {
    this.reportError(new ConnectionError({ message: `${detail}: reconnecting`, detail: { fault } }));
    this.#lost(session, fault);
  }

  /** A ready connection was lost: live bars are held, and the feed reconnects with backoff, then fills the gap. */
  #lost(session: Session, reason: string): void {
    this.#heartbeat.stop();
    this.#connection.drop(session);
    if (this.#connection.closing || this.#reconnecting !== undefined) return;
    this.emitter.emit({ type: 'disconnected', reason: this.redact(reason) });
    if (this.state === 'streaming') this.setState('reconnecting');
    const gapFill = this.live.gapFill !== false;
    // Live bars after the reconnect wait until the gap before them is filled.
    if (gapFill) this.#gap.hold();
    const delayMs = backoffDelay(this.live.reconnect, 1, this.live.random);
    this.emitter.emit({ type: 'retry', attempt: 1, delayMs, reason: this.redact(reason) });
    this.#reconnecting = this.#connection.connect(delayMs).then(
      (attempts) => {
        this.#reconnecting = undefined;
        this.reconnects++;
        if (this.state === 'reconnecting') this.setState('streaming');
        this.#heartbeat.start(this.#connection.session as Session);
        this.emitter.emit({ type: 'reconnected', attempts });
        if (gapFill && this.isActive()) void this.#gap.run('reconnect');
      },
      (error: unknown) => {
        this.#reconnecting = undefined;
        if (this.#connection.closing) return;
        this.#giveUp(FeedError.isInstance(error) ? error : new ConnectionError({ message: String(error), cause: error }));
      },
    );
  }

  /** A fatal error or too many failed attempts: report, release everything, end in `closed`. */
  #giveUp(error: FeedError): void {
    this.#heartbeat.stop();
    this.#connection.terminate();
    this.onEnded(error);
    void this.#gap.abort();
    this.reportError(error);
    this.setState('closed' satisfies FeedState);
  }

  // ---- the bar path --------------------------------------------------------------------------

  /**
   * A bar the feed must not trust: off the minute grid, or starting more than one interval ahead of
   * the clock. It is reported and never enters the duplicate/ordering state (one bad timestamp must
   * not make every later bar a "duplicate").
   */
  #untrusted(bar: Bar): boolean {
    let reason: string | undefined;
    if (bar.start % MINUTE_MS !== 0) reason = 'off_grid';
    else if (bar.start - this.clock.now() > MINUTE_MS) reason = 'future';
    if (reason === undefined) return false;
    this.#rejected++;
    const what = reason === 'off_grid' ? 'is not on a minute boundary' : `is more than one minute ahead of the clock (${new Date(this.clock.now()).toISOString()})`;
    this.reportError(
      new BarValidationError({ message: `${bar.symbol}: bar start ${new Date(bar.start).toISOString()} ${what}; bar dropped`, reason, symbol: bar.symbol, field: 'start' }),
    );
    return true;
  }

  /** Delivers a live bar; a minute bar no later than the last one delivered for its symbol is a duplicate. */
  #emitLive(bar: Bar, revision: boolean): void {
    const t = this.#table;
    const i = t.index(bar.symbol);
    if (!revision) {
      const last = t.lastStart[i] as number;
      if (bar.start <= last) {
        this.#duplicates++;
        return;
      }
      t.lastStart[i] = bar.start;
    }
    this.recordLatency(bar, i);
    this.deliverLive(bar, i);
  }

  /** Counts a live bar's latency (receipt minus end) for its symbol (index `i`). */
  protected recordLatency(bar: Bar, i: number): void {
    const t = this.#table;
    const latency = bar.receivedAt - bar.end;
    t.latencyCount[i] = (t.latencyCount[i] as number) + 1;
    t.latencySum[i] = (t.latencySum[i] as number) + latency;
    if (latency > (t.latencyMax[i] as number)) t.latencyMax[i] = latency;
  }

  /** Delivers a bar recovered by gap fill, once: checked like a live one, older ones skipped. */
  #deliverRecovered(bar: Bar): boolean {
    if (!this.#wanted.has(bar.symbol) || this.#untrusted(bar)) return false;
    // The seam's fill starts at a symbol's last regular-hours warm-up bar: what the warm-up's window
    // held outside regular hours (a closing auction, the night's extended hours) it left out on purpose.
    if (bar.start <= this.#warmedTo && nyse.sessionAt(bar.start) === undefined) return false;
    const t = this.#table;
    const i = t.index(bar.symbol);
    if (bar.start <= (t.lastStart[i] as number)) return false;
    t.lastStart[i] = bar.start;
    this.barsRecovered++;
    this.deliverRecovered(withReceivedAt(bar, this.clock.now()), i);
    return true;
  }

  /** The last step of a live bar (a worker's end batches it here instead of emitting it). */
  protected deliverLive(bar: Bar, index: number): void {
    if (!this.#tracker.empty || bar.start >= this.#actionsCheckedUntil) this.#beforeBar(bar);
    this.deliver(bar, index);
  }

  /** The last step of a recovered bar (`barsRecovered` already counts it); its event says `recovered`. */
  protected deliverRecovered(bar: Bar, index: number): void {
    if (!this.#tracker.empty || bar.start >= this.#actionsCheckedUntil) this.#beforeBar(bar);
    this.deliver(bar, index, true);
  }

  // ---- corporate actions ------------------------------------------------------------------------

  #actionsEnabled(): boolean {
    return this.live.corporateActions !== false && this.live.adjustment !== 'raw';
  }

  /** Before a bar goes out: the actions due before it are announced; a bar of a new session asks for a fresh list. */
  #beforeBar(bar: Bar): void {
    const due = this.#tracker.due(bar.symbol, bar.start);
    if (due !== undefined) for (const action of due) this.#announce(action, false);
    if (this.#actionsStarted && bar.start >= this.#actionsCheckedUntil) {
      // Once a session: an action published late for today is announced as soon as it is known.
      this.#actionsCheckedUntil = Number.POSITIVE_INFINITY;
      // A week back: an action published late for a date already traded is found and announced late.
      void this.#refreshActions(nyse.dateOf(bar.start - 7 * 86_400_000), nyse.dateOf(bar.start), true);
    }
  }

  #announce(action: CorporateAction, late: boolean): void {
    this.#actionsAnnounced++;
    this.emitter.emit({ type: 'corporateAction', action, late });
  }

  /**
   * Fetches the actions with ex-dates in [from, to] from the source (within the gap fill's deadline),
   * adds the new ones; those whose ex-date the delivered bars have passed are announced now, `late`.
   * A failure is reported and counted, never thrown: the feed goes on without.
   */
  async #refreshActions(from: string, to: string, announceLate: boolean): Promise<void> {
    const source = (this.#actionSource ??= this.#resolveActionSource());
    if (source === undefined) return;
    const limit = this.live.gapFill === false ? 10_000 : this.live.gapFill.timeoutMs;
    const deadline = timeoutSignal(this.clock, limit, 'corporate actions');
    try {
      const found = await source.actionsBySymbol({ symbols: [...this.symbols], from, to, signal: deadline.signal });
      const fresh: CorporateAction[] = [];
      for (const list of found.values()) for (const a of list) if (this.isSubscribed(a.symbol)) fresh.push(a);
      const late = this.#tracker.add(fresh);
      for (const a of fresh) if (!this.#actions.some((x) => x.symbol === a.symbol && x.kind === a.kind && x.exDate === a.exDate)) this.#actions.push(a);
      if (announceLate) for (const a of late) this.#announce(a, true);
    } catch (error) {
      this.#actionFailures++;
      const e = FeedError.isInstance(error) ? error : new FeedError({ code: 'provider', message: String(error), cause: error });
      this.reportError(new FeedError({ code: e.code, message: `corporate actions from ${from} to ${to} could not be read: ${e.message}; splits of those dates are not announced`, cause: e, detail: { from, to } }));
    } finally {
      deadline.dispose();
      // The next session's first bar asks again.
      const next = nyse.nextSession(exDateStart(to) + 12 * 3_600_000);
      this.#actionsCheckedUntil = Math.max(this.#actionsCheckedUntil === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : this.#actionsCheckedUntil, exDateStart(next.date));
    }
  }

  #resolveActionSource(): CorporateActions | undefined {
    const c = this.live.corporateActions;
    if (c === false) return undefined;
    if (c === true) {
      return this.createCorporateActions((r) => this.emitter.emit({ type: 'historyRetry', attempt: r.attempt, delayMs: r.delayMs, status: r.status, reason: this.redact(r.reason) }));
    }
    if (Array.isArray(c)) return actionsFrom(c as readonly CorporateAction[]);
    return c as CorporateActions;
  }

  // ---- worker thread (worker: true) ----------------------------------------------------------------

  #startWorker(spec: WorkerSpec): WorkerLink {
    return new WorkerLink(
      spec,
      this.clock,
      {
        bars: (data, count, names) => this.#remoteBars(data, count, names),
        event: (e) => this.#remoteEvent(e),
        counters: (c) => {
          this.#remote = c as unknown as LiveScalarStats;
          this.reconnects = this.#remote.reconnects;
        },
        failed: (error) => {
          this.#link = undefined;
          this.reportError(error);
          this.setState('closed');
        },
      },
      (w) => this.reviveError(w),
    );
  }

  async #remoteCall(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    // Not connected: the worker starts with the symbols of the moment.
    if (this.#link !== undefined) await this.#link.call(action, symbols);
  }

  /** A batch from the worker: each bar delivered here as the inline feed delivers it. */
  #remoteBars(d: Float64Array, count: number, names: readonly (readonly [number, string])[]): void {
    for (const [w, name] of names) {
      this.#remoteNames[w] = name;
      this.#remoteIndex[w] = this.#table.index(name);
    }
    for (let k = 0; k < count; k++) {
      const o = k * BAR_STRIDE;
      const w = d[o] as number;
      const i = this.#remoteIndex[w] as number;
      const start = d[o + 1] as number;
      const bar = barFromValues(
        this.#remoteNames[w] as string,
        start,
        (d[o + 2] as number) - start,
        d[o + 3] as number,
        d[o + 4] as number,
        d[o + 5] as number,
        d[o + 6] as number,
        d[o + 7] as number,
        d[o + 8] as number,
        d[o + 9] as number,
        d[o + 10] as number,
      );
      if (d[o + 11] === KIND_RECOVERED) {
        this.barsRecovered++;
        this.deliverRecovered(bar, i);
      } else {
        this.recordLatency(bar, i);
        this.deliverLive(bar, i);
      }
    }
  }

  #remoteEvent(e: WireEvent): void {
    if (e.type === 'error') {
      this.reportError(fromWire((e as { error: WireError }).error, (w) => this.reviveError(w)));
      return;
    }
    if (e.type === 'state') {
      const { from, to } = e as { from: FeedState; to: FeedState };
      // This thread runs connect/start/stop/disconnect itself; what only the worker knows is a
      // lost connection (reconnecting, streaming again) and the end after a fatal error.
      if (to === 'reconnecting' && this.state === 'streaming') this.setState('reconnecting');
      else if (from === 'reconnecting' && to === 'streaming' && this.state === 'reconnecting') this.setState('streaming');
      else if (to === 'closed' && this.#link !== undefined && this.state !== 'closed') {
        const link = this.#link;
        this.#link = undefined;
        void link.terminate();
        this.setState('closed');
      }
      return;
    }
    this.onWorkerEvent(e);
    const event = e as { type: string; bar?: unknown };
    const out = event.bar === undefined ? event : { ...event, bar: Object.freeze({ ...(event.bar as object) }) };
    (this.emitter as unknown as { emit(e: unknown): void }).emit(out);
  }

  #historyClient(): HistoricalBars {
    const g = this.live.gapFill;
    this.#history ??=
      (g === false ? undefined : g.history) ??
      this.createHistory((r) => this.emitter.emit({ type: 'historyRetry', attempt: r.attempt, delayMs: r.delayMs, status: r.status, reason: this.redact(r.reason) }));
    return this.#history;
  }
}
