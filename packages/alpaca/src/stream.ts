import type { Bar, FeedStats, HistoricalBars } from '@feed/core';
import { AbstractBarFeed, BarValidationError, ConfigError, FeedError, MINUTE_MS, barFromValues, checkSymbols, quoteSymbol, redact, redactError, withReceivedAt } from '@feed/core';
import type { GapFillReason, HeldBar, Session } from '@feed/live';
import { Connection, GapFiller, Heartbeat, LiveCore, SymbolTable, frameData } from '@feed/live';
import type { Credentials } from './credentials.js';
import { missingKeysMessage } from './credentials.js';
import { AlpacaError } from './errors.js';
import type { AlpacaFeedOptions, ResolvedFeedOptions } from './feed-options.js';
import { resolveFeedOptions } from './feed-options.js';
import type { BarMessageType, StreamEncoding, Subscription } from './messages.js';
import { barOf, decodeRaw, toMessage } from './messages.js';
import type { ProtocolAction } from './protocol.js';
import { AlpacaHandshake, encodeFrames, encodingMismatch, otherEncoding } from './protocol.js';
import { AlpacaHistoricalClient } from './rest.js';
import { Subscriptions } from './subscriptions.js';
import { WorkerLink } from './worker-link.js';
import type { WireEvent } from './worker-protocol.js';
import { BAR_STRIDE, COUNTER_NAMES, KIND_RECOVERED, fromWire } from './worker-protocol.js';

/** Bars kept between connect() and the first start(); beyond this they are counted as ignored. */
const MAX_HELD_BEFORE_START = 100_000;

/** Latency from a bar's end to its receipt, in milliseconds. */
export interface LatencyStats {
  readonly count: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

/** The Alpaca feed's statistics. */
export interface AlpacaFeedStats extends FeedStats {
  /** Frames received. */
  readonly frames: number;
  /** Messages received (a frame holds one or more). */
  readonly messages: number;
  /** Frames or messages that could not be read, dropped and reported. */
  readonly malformed: number;
  /** Bars refused because their start is off the minute grid or ahead of the clock (`invalid_bar`). */
  readonly rejectedBars: number;
  /** Messages of types this feed does not handle (trades, quotes, ...), ignored. */
  readonly unknownMessages: number;
  /** Updated bars received (delivered as revisions). */
  readonly updatedBars: number;
  /** Daily bars received (emitted as `dailyBar`). */
  readonly dailyBars: number;
  /** Bars that arrived while the feed was stopped and were not delivered. */
  readonly ignoredWhileStopped: number;
  /** Bars for a symbol this feed did not subscribe (or no longer does): dropped, each reported as `unknown_symbol`. */
  readonly unexpectedSymbolBars: number;
  /** Connection attempts, successful or not. */
  readonly connectAttempts: number;
  /** Times the pong timeout fired. */
  readonly pongTimeouts: number;
  /** Times the no-data watchdog reconnected. */
  readonly watchdogTrips: number;
  /** Bars that arrived both live and by gap fill (or twice live), delivered once: the extra copies. */
  readonly duplicatesDropped: number;
  /** Gap fills run; those that failed (each reported as `gap_unfilled`), and of those, the ones that hit the deadline. */
  readonly gapFills: number;
  readonly gapFillFailures: number;
  readonly gapFillTimeouts: number;
  /** Whether a gap fill is running now, and how many live bars wait behind it. */
  readonly gapFillInProgress: boolean;
  readonly heldBars: number;
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
  /** A reconnect succeeded after `attempts` attempts (this reconnect's, not the feed's total). */
  | { readonly type: 'reconnected'; readonly attempts: number }
  | { readonly type: 'gapFill'; readonly reason: GapFillReason; readonly recovered: number; readonly from: number; readonly to: number }
  | { readonly type: 'dailyBar'; readonly bar: Bar };

/** Diagnostic counts for leak checks: live timers and listeners on the current socket. */
export interface FeedResources {
  readonly timers: number;
  readonly socketListeners: number;
  readonly sockets: number;
}

/**
 * Alpaca's market-data stream as a `BarFeed`: all symbols on one connection; auth, subscribe,
 * reconnect with backoff and resubscription, keep-alive, a no-data watchdog that knows market hours,
 * bounded gap fill over REST; JSON or msgpack. This class wires the modules (options, connection,
 * protocol, subscriptions, gap fill, heartbeat); see the package README for events and statistics.
 */
export class AlpacaMultiSymbolFeed extends AbstractBarFeed<AlpacaFeedEvent> {
  readonly type = 'alpaca';
  /** The stream URL (never holds credentials). */
  readonly url: string;
  readonly encoding: StreamEncoding;
  readonly #o: ResolvedFeedOptions;
  readonly #connection: Connection;
  readonly #heartbeat: Heartbeat;
  readonly #subs: Subscriptions;
  readonly #gap: GapFiller;
  readonly #table = new SymbolTable((s) => this.indexOfSymbol(s));
  readonly #handshakes = new WeakMap<Session, AlpacaHandshake>();
  #history: HistoricalBars | undefined;
  /** With `worker: true`: the link to the worker thread, its last counters, its symbol indexes here. */
  #link: WorkerLink | undefined;
  #remote: Float64Array | undefined;
  #remoteIndex: number[] = [];
  #remoteNames: string[] = [];
  /** The lifecycle every live feed shares (connect, start, loss and reconnect, give up, disconnect). */
  readonly #core: LiveCore;

  #frames = 0;
  #messages = 0;
  #malformed = 0;
  #rejected = 0;
  #unknown = 0;
  #updated = 0;
  #daily = 0;
  #ignored = 0;
  #duplicates = 0;
  #unexpected = 0;
  /** The symbols subscribed now: a bar for any other is dropped (a server may send anything). */
  readonly #wanted = new Set<string>();

  constructor(options: AlpacaFeedOptions) {
    const o = resolveFeedOptions(options);
    super(o.symbols, o.clock);
    this.#o = o;
    this.url = o.url;
    this.encoding = o.encoding;
    this.#subs = new Subscriptions(o.channels);
    this.#connection = new Connection(
      {
        url: o.url,
        headers: () => this.#headers(),
        factory: o.webSocketFactory,
        clock: o.clock,
        policy: o.reconnect,
        random: o.random,
        connectTimeoutMs: o.connectTimeoutMs,
        isFatal: (e) => (AlpacaError.isInstance(e) && e.fatal) || (e.code === 'protocol' && e.detail?.expected !== undefined),
        redact: (t) => this.#redact(t),
      },
      {
        open: (s) => this.emitter.emit({ type: 'open', attempt: s.attempt }),
        frame: (s, data, isBinary) => this.#onFrame(s, data, isBinary),
        pong: (s) => this.#heartbeat.pong(s),
        closed: (s, reason) => this.#core.lost(s, reason),
        retry: (attempt, delayMs, error) => {
          this.reportError(error);
          this.emitter.emit({ type: 'retry', attempt, delayMs, reason: this.#redact(error.message) });
        },
      },
    );
    this.#heartbeat = new Heartbeat({
      clock: o.clock,
      keepAlive: o.keepAlive,
      watchdog: o.watchdog,
      expectsData: () => this.symbols.length > 0 && this.#subs.barsChannel,
      onFault: (s, fault, detail) => this.#core.heartbeatFault(s, fault, detail),
    });
    const g = o.gapFill === false ? { warmupBars: 0, timeoutMs: 0 } : o.gapFill;
    this.#gap = new GapFiller({
      clock: o.clock,
      history: () => this.#historyClient(),
      timeoutMs: g.timeoutMs,
      warmupBars: g.warmupBars,
      table: this.#table,
      symbols: () => this.symbols,
      startedAt: () => this.#core.startedAt,
      subscribedAt: (s) => this.#subs.addedAt(s),
      deliverRecovered: (b) => this.#deliverRecovered(b),
      deliverLive: (h) => this.#emitLive(h.revision, h.bar),
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
      endedBy: (e) => this.#subs.rejectAll(e),
      redact: (t) => this.#redact(t),
    });
    for (const s of o.symbols) {
      this.#table.index(s);
      this.#wanted.add(s);
    }
  }

  /** The server's last subscription reply. */
  get subscription(): Subscription {
    return this.#subs.confirmed;
  }

  /**
   * Adds symbols. While connected the subscribe message is sent at once and the promise resolves on
   * the server's reply; otherwise they are subscribed on connect. Every reconnect subscribes them again.
   */
  subscribe(symbols: readonly string[]): Promise<void> {
    const add = [...new Set(symbols)].filter((s) => !this.symbols.includes(s));
    if (add.length === 0) return Promise.resolve();
    checkSymbols(add, 'subscribe()');
    if (this.#o.worker !== undefined) return this.#remoteSubscription('subscribe', add);
    this.setSymbols([...this.symbols, ...add]);
    for (const s of add) this.#wanted.add(s);
    for (const s of add) this.#table.index(s);
    // A gap fill recovers a symbol's bars from its subscription on, not from before it.
    this.#subs.added(add, this.clock.now());
    return this.#sendSubscription('subscribe', add);
  }

  /** Removes symbols; resolves on the server's reply when connected. */
  unsubscribe(symbols: readonly string[]): Promise<void> {
    const remove = symbols.filter((s) => this.symbols.includes(s));
    if (remove.length === 0) return Promise.resolve();
    if (this.#o.worker !== undefined) return this.#remoteSubscription('unsubscribe', remove);
    this.setSymbols(this.symbols.filter((s) => !remove.includes(s)));
    for (const s of remove) this.#wanted.delete(s);
    return this.#sendSubscription('unsubscribe', remove);
  }

  override stats(): AlpacaFeedStats {
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
      ...(this.#o.worker === undefined ? this.scalarStats() : this.#remoteStats()),
      latency: { count, avgMs: count > 0 ? sum / count : 0, maxMs: max },
      latencyBySymbol: bySymbol,
    };
  }

  /** The counters of `stats()` that are single numbers (what the worker thread sends with every message). */
  protected scalarStats(): Omit<AlpacaFeedStats, keyof FeedStats | 'latency' | 'latencyBySymbol'> & { reconnects: number } {
    return {
      frames: this.#frames,
      messages: this.#messages,
      malformed: this.#malformed,
      rejectedBars: this.#rejected,
      unknownMessages: this.#unknown,
      updatedBars: this.#updated,
      dailyBars: this.#daily,
      ignoredWhileStopped: this.#ignored,
      unexpectedSymbolBars: this.#unexpected,
      duplicatesDropped: this.#duplicates,
      gapFills: this.#gap.fills,
      gapFillFailures: this.#gap.failures,
      gapFillTimeouts: this.#gap.timeouts,
      gapFillInProgress: this.#gap.running,
      heldBars: this.#gap.heldCount,
      connectAttempts: this.#connection.attempts,
      pongTimeouts: this.#heartbeat.pongTimeouts,
      watchdogTrips: this.#heartbeat.watchdogTrips,
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

  override toString(): string {
    return `AlpacaMultiSymbolFeed(${this.url}, ${this.symbols.length} symbols, ${this.state}, ${String(this.#o.credentials ?? 'no keys')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    return { type: this.type, url: this.url, symbols: this.symbols, state: this.state };
  }

  /** Every error leaves the feed without a secret in its message, stack or causes. */
  protected override reportError(error: FeedError): void {
    super.reportError(this.#o.credentials === undefined ? error : redactError(error, this.#o.credentials.secrets()));
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  protected async doConnect(): Promise<void> {
    if (this.#o.worker !== undefined) {
      this.#link ??= this.#startWorker({ ...this.#o.worker, symbols: this.symbols });
      // The worker's feed reported any error already (forwarded as an event); here it is thrown.
      await this.#link.call('connect');
      return;
    }
    if (this.#o.credentials === undefined) {
      const e = new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
      this.reportError(e);
      throw e;
    }
    await this.#core.connect();
  }

  protected async doStart(): Promise<void> {
    if (this.#link !== undefined) {
      await this.#link.call('start');
      return;
    }
    await this.#core.start();
  }

  protected async doStop(): Promise<void> {
    if (this.#link !== undefined) {
      await this.#link.call('stop');
      return;
    }
    // A fill in flight is aborted; held bars were never delivered, so the restart's fill recovers them.
    this.#ignored += await this.#core.stop();
  }

  protected async doDisconnect(): Promise<void> {
    const link = this.#link;
    if (link !== undefined) {
      this.#link = undefined;
      await link.call('disconnect').finally(() => link.terminate());
      return;
    }
    await this.#core.disconnect();
    this.#subs.rejectAll(new FeedError({ code: 'aborted', message: 'the feed was disconnected' }));
  }

  // ---- worker thread (worker: true) ----------------------------------------------------------------

  #startWorker(options: AlpacaFeedOptions): WorkerLink {
    return new WorkerLink(options, this.clock, {
      bars: (data, count, names) => this.#remoteBars(data, count, names),
      event: (e) => this.#remoteEvent(e),
      counters: (c) => {
        this.#remote = c;
        this.reconnects = c[COUNTER_NAMES.indexOf('reconnects')] as number;
      },
      failed: (error) => {
        this.#link = undefined;
        this.reportError(error);
        this.setState('closed');
      },
    });
  }

  /** A batch from the worker: each bar delivered here as the inline feed delivers it. */
  #remoteBars(d: Float64Array, count: number, names: readonly (readonly [number, string])[]): void {
    for (const [w, name] of names) {
      this.#remoteNames[w] = name;
      this.#remoteIndex[w] = this.#table.index(name);
    }
    const t = this.#table;
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
      if (d[o + 11] === KIND_RECOVERED) this.barsRecovered++;
      else {
        const latency = bar.receivedAt - bar.end;
        t.latencyCount[i] = (t.latencyCount[i] as number) + 1;
        t.latencySum[i] = (t.latencySum[i] as number) + latency;
        if (latency > (t.latencyMax[i] as number)) t.latencyMax[i] = latency;
      }
      this.deliver(bar, i);
    }
  }

  #remoteEvent(e: WireEvent): void {
    if (e.type === 'error') {
      this.reportError(fromWire(e.error));
    } else if (e.type === 'state') {
      // This thread runs connect/start/stop/disconnect itself; what only the worker knows is a
      // lost connection (reconnecting, streaming again) and the end after a fatal error.
      if (e.to === 'reconnecting' && this.state === 'streaming') this.setState('reconnecting');
      else if (e.from === 'reconnecting' && e.to === 'streaming' && this.state === 'reconnecting') this.setState('streaming');
      else if (e.to === 'closed' && this.#link !== undefined && this.state !== 'closed') {
        const link = this.#link;
        this.#link = undefined;
        void link.terminate();
        this.setState('closed');
      }
    } else if (e.type === 'dailyBar') {
      this.emitter.emit({ type: 'dailyBar', bar: Object.freeze({ ...e.bar }) as unknown as Bar });
    } else {
      if (e.type === 'subscription') this.#subs.confirm(e.subscription as Subscription, true);
      this.emitter.emit(e as AlpacaFeedEvent);
    }
  }

  async #remoteSubscription(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const link = this.#link;
    this.setSymbols(action === 'subscribe' ? [...this.symbols, ...symbols] : this.symbols.filter((s) => !symbols.includes(s)));
    if (action === 'subscribe') for (const s of symbols) this.#table.index(s);
    // Not connected: the worker starts with the symbols of the moment.
    if (link !== undefined) await link.call(action, symbols);
  }

  #remoteStats(): ReturnType<AlpacaMultiSymbolFeed['scalarStats']> {
    const c = this.#remote;
    const v = (name: (typeof COUNTER_NAMES)[number]): number => (c === undefined ? 0 : (c[COUNTER_NAMES.indexOf(name)] as number));
    return {
      frames: v('frames'),
      messages: v('messages'),
      malformed: v('malformed'),
      rejectedBars: v('rejectedBars'),
      unknownMessages: v('unknownMessages'),
      updatedBars: v('updatedBars'),
      dailyBars: v('dailyBars'),
      ignoredWhileStopped: v('ignoredWhileStopped'),
      unexpectedSymbolBars: v('unexpectedSymbolBars'),
      duplicatesDropped: v('duplicatesDropped'),
      gapFills: v('gapFills'),
      gapFillFailures: v('gapFillFailures'),
      gapFillTimeouts: v('gapFillTimeouts'),
      gapFillInProgress: v('gapFillInProgress') === 1,
      heldBars: v('heldBars'),
      connectAttempts: v('connectAttempts'),
      pongTimeouts: v('pongTimeouts'),
      watchdogTrips: v('watchdogTrips'),
      reconnects: v('reconnects'),
    };
  }

  // ---- connection --------------------------------------------------------------------------------

  #headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    const c = this.#o.credentials as Credentials;
    if (this.#o.auth === 'headers') {
      headers['APCA-API-KEY-ID'] = c.keyId;
      headers['APCA-API-SECRET-KEY'] = c.secretKey;
    }
    if (this.encoding === 'msgpack') headers['Content-Type'] = 'application/msgpack';
    return headers;
  }

  #handshake(session: Session): AlpacaHandshake {
    let h = this.#handshakes.get(session);
    if (h === undefined) {
      const c = this.#o.credentials as Credentials;
      h = new AlpacaHandshake({
        auth: this.#o.auth,
        keyId: c.keyId,
        secretKey: c.secretKey,
        subscribeAll: () => this.#subs.message('subscribe', this.symbols),
        redact: (t) => this.#redact(t),
      });
      this.#handshakes.set(session, h);
    }
    return h;
  }



  /** A ready connection was lost: report it and reconnect in the background. */




  // ---- messages ----------------------------------------------------------------------------------

  #sendSubscription(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const s = this.#connection.session;
    const message = this.#subs.message(action, symbols);
    if (s === undefined || s.phase !== 'ready' || message === undefined) return Promise.resolve();
    const reply = this.#subs.wait();
    s.send(encodeFrames(message, this.encoding));
    return reply;
  }

  #onFrame(session: Session, data: unknown, isBinary: boolean): void {
    const receivedAt = this.clock.now();
    this.#frames++;
    const payload = frameData(data);
    // A frame in the other encoding fails the handshake at once (a proxy that ignores Content-Type
    // would otherwise cost connectTimeoutMs per attempt). Once ready, text frames are JSON anyway.
    if (session.phase === 'handshake') {
      const other = otherEncoding(payload, isBinary, this.encoding);
      if (other !== undefined) {
        this.#connection.fail(session, encodingMismatch(this.encoding, other, this.url));
        return;
      }
    }
    const raw = decodeRaw(!isBinary && typeof payload !== 'string' ? utf8(payload) : payload, this.encoding);
    if (typeof raw === 'string') {
      this.#malformed++;
      this.reportError(new FeedError({ code: 'protocol', message: this.#redact(`malformed frame dropped: ${raw}`) }));
      return;
    }
    this.#messages += raw.length;
    for (let i = 0; i < raw.length; i++) {
      // A message may end the session (a fatal error): the rest of the frame belongs to no one.
      if (session.phase === 'ended') return;
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
        continue;
      }
      const m = toMessage(r, i, receivedAt);
      if (m.kind === 'bar') {
        session.lastDataAt = receivedAt;
        this.#onBar(m.type, m.bar);
      } else if (m.kind === 'other') {
        this.#unknown++;
      } else if (m.kind === 'malformed') {
        this.#malformedMessage(m.index, m.reason);
      } else {
        for (const action of this.#handshake(session).handle(m)) this.#act(session, action);
      }
    }
  }

  #act(session: Session, action: ProtocolAction): void {
    switch (action.kind) {
      case 'send':
        session.send(encodeFrames(action.message, this.encoding));
        return;
      case 'authenticated':
        this.#connection.authenticated();
        this.emitter.emit({ type: 'authenticated' });
        return;
      case 'subscription':
        // The reply that completes a handshake confirms every symbol, including any added while reconnecting.
        this.#subs.confirm(action.subscription, action.ready);
        this.emitter.emit({ type: 'subscription', subscription: action.subscription });
        return;
      case 'ready':
        this.#connection.ready(session);
        return;
      case 'error': {
        const e = action.error;
        if (action.duringHandshake) {
          // The attempt fails; Connection retries it unless the code is fatal (then connect() reports it).
          this.#connection.fail(session, e);
        } else if (e.fatal) {
          this.#core.giveUp(e);
        } else {
          this.reportError(e);
          // A rejected subscribe or unsubscribe gets no subscription reply: release its waiter.
          if (e.alpacaCode === 400 || e.alpacaCode === 405) this.#subs.rejectOldest(e);
        }
        return;
      }
    }
  }

  #malformedMessage(index: number, reason: string): void {
    this.#malformed++;
    this.reportError(new FeedError({ code: 'protocol', message: this.#redact(`malformed message dropped (message ${index} of its frame): ${reason}`) }));
  }

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

  #onBar(type: BarMessageType, bar: Bar): void {
    if (!this.#wanted.has(bar.symbol)) {
      this.#unexpected++;
      this.reportError(new FeedError({ code: 'unknown_symbol', message: `a bar for ${quoteSymbol(bar.symbol)}, which this feed did not subscribe, dropped`, detail: { symbol: bar.symbol.slice(0, 40) } }));
      return;
    }
    if (type === 'd') {
      this.#daily++;
      this.emitter.emit({ type: 'dailyBar', bar });
      return;
    }
    if (type === 'u') this.#updated++;
    if (this.#untrusted(bar)) return;
    if (!this.isActive()) {
      // Between connect() and the first start(): kept, and delivered when start() is called.
      if (this.#core.startedAt === undefined && this.#gap.heldCount < MAX_HELD_BEFORE_START) this.#gap.keep({ revision: type === 'u', bar });
      else this.#ignored++;
      return;
    }
    if (this.#gap.holding) {
      this.#gap.keep({ revision: type === 'u', bar });
      return;
    }
    this.#emitLive(type === 'u', bar);
  }

  /** Delivers a live bar; a minute bar no later than the last one delivered for its symbol is a duplicate. */
  #emitLive(revision: HeldBar['revision'], bar: Bar): void {
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
    const latency = bar.receivedAt - bar.end;
    t.latencyCount[i] = (t.latencyCount[i] as number) + 1;
    t.latencySum[i] = (t.latencySum[i] as number) + latency;
    if (latency > (t.latencyMax[i] as number)) t.latencyMax[i] = latency;
    this.deliver(bar, i);
  }

  /** Delivers a bar recovered by gap fill, once: checked like a live one, older ones skipped. */
  #deliverRecovered(bar: Bar): boolean {
    if (this.#untrusted(bar)) return false;
    const t = this.#table;
    const i = t.index(bar.symbol);
    if (bar.start <= (t.lastStart[i] as number)) return false;
    t.lastStart[i] = bar.start;
    this.barsRecovered++;
    this.deliver(withReceivedAt(bar, this.clock.now()), i);
    return true;
  }

  #historyClient(): HistoricalBars {
    const g = this.#o.gapFill;
    this.#history ??=
      (g === false ? undefined : g.history) ??
      new AlpacaHistoricalClient({
        baseUrl: this.#o.restUrl,
        keys: this.#o.credentials as Credentials,
        feed: this.#o.feed === 'test' ? 'iex' : this.#o.feed,
        clock: this.#o.clock,
      });
    return this.#history;
  }

  #redact(text: string): string {
    return this.#o.credentials === undefined ? text : redact(text, this.#o.credentials.secrets());
  }
}

function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
