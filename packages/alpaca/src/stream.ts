import type { Bar, FeedError, HistoricalBars } from '@feed/core';
import { ConfigError, MINUTE_MS, barFromValues } from '@feed/core';
import type { LiveFeedEvent, LiveFeedStats, LiveScalarStats, Session } from '@feed/live';
import { AbstractLiveFeed } from '@feed/live';
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
import { BAR_STRIDE, KIND_RECOVERED, fromWire } from './worker-protocol.js';

export type { FeedResources, LatencyStats } from '@feed/live';

/** The Alpaca feed's statistics: every live feed's, and Alpaca's updated and daily bars. */
export interface AlpacaFeedStats extends LiveFeedStats {
  /** Updated bars received (delivered as revisions). */
  readonly updatedBars: number;
  /** Daily bars received (emitted as `dailyBar`). */
  readonly dailyBars: number;
}

/** Events the Alpaca feed adds to `bar`, `error` and `state`: every live feed's, the subscription reply and daily bars. */
export type AlpacaFeedEvent = LiveFeedEvent | { readonly type: 'subscription'; readonly subscription: Subscription } | { readonly type: 'dailyBar'; readonly bar: Bar };

/** Alpaca's counters that a worker thread sends with each message. */
type AlpacaScalarStats = LiveScalarStats & { readonly updatedBars: number; readonly dailyBars: number };

/**
 * Alpaca's market-data stream as a `BarFeed`: all symbols on one connection; auth, subscribe,
 * reconnect with backoff and resubscription, keep-alive, a no-data watchdog that knows market hours,
 * bounded gap fill over REST; JSON or msgpack. An adapter on `@feed/live`'s `AbstractLiveFeed`,
 * which owns the lifecycle and the bar path: this class is Alpaca's URL and keys, its frames, its
 * handshake and subscribe messages, its fatal codes and its history client (and `worker: true`).
 */
export class AlpacaMultiSymbolFeed extends AbstractLiveFeed<AlpacaFeedEvent> {
  readonly type = 'alpaca';
  readonly encoding: StreamEncoding;
  readonly #o: ResolvedFeedOptions;
  readonly #subs: Subscriptions;
  readonly #handshakes = new WeakMap<Session, AlpacaHandshake>();
  /** With `worker: true`: the link to the worker thread, its last counters, its symbol indexes here. */
  #link: WorkerLink | undefined;
  #remote: AlpacaScalarStats | undefined;
  #remoteIndex: number[] = [];
  #remoteNames: string[] = [];
  #updated = 0;
  #daily = 0;

  constructor(options: AlpacaFeedOptions) {
    const o = resolveFeedOptions(options);
    const subs = new Subscriptions(o.channels);
    super(o, {
      url: o.url,
      headers: () => headersOf(o),
      secrets: () => o.credentials?.secrets() ?? [],
      isFatal: (e) => (AlpacaError.isInstance(e) && e.fatal) || (e.code === 'protocol' && e.detail?.expected !== undefined),
      expectsData: () => subs.barsChannel,
    });
    this.#o = o;
    this.#subs = subs;
    this.encoding = o.encoding;
  }

  /** The server's last subscription reply. */
  get subscription(): Subscription {
    return this.#subs.confirmed;
  }

  override subscribe(symbols: readonly string[]): Promise<void> {
    if (this.#o.worker !== undefined) return this.#remoteSubscription('subscribe', symbols);
    return super.subscribe(symbols);
  }

  override unsubscribe(symbols: readonly string[]): Promise<void> {
    if (this.#o.worker !== undefined) return this.#remoteSubscription('unsubscribe', symbols);
    return super.unsubscribe(symbols);
  }

  override stats(): AlpacaFeedStats {
    const s = super.stats();
    if (this.#o.worker === undefined) return { ...s, updatedBars: this.#updated, dailyBars: this.#daily };
    return { ...s, ...this.#remoteStats() };
  }

  protected override scalarStats(): AlpacaScalarStats {
    return { ...super.scalarStats(), updatedBars: this.#updated, dailyBars: this.#daily };
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

  // ---- what @feed/live asks of a provider --------------------------------------------------------

  protected override connectProblem(): FeedError | undefined {
    if (this.#o.credentials !== undefined) return undefined;
    return new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
  }

  protected createHistory(): HistoricalBars {
    return new AlpacaHistoricalClient({
      baseUrl: this.#o.restUrl,
      keys: this.#o.credentials as Credentials,
      feed: this.#o.feed === 'test' ? 'iex' : this.#o.feed,
      clock: this.#o.clock,
    });
  }

  protected sendSubscription(session: Session, action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const message = this.#subs.message(action, symbols);
    if (message === undefined) return Promise.resolve();
    const reply = this.#subs.wait();
    this.send(session, encodeFrames(message, this.encoding));
    return reply;
  }

  protected override onEnded(error: FeedError): void {
    this.#subs.rejectAll(error);
  }

  protected onFrame(session: Session, payload: string | Uint8Array, isBinary: boolean): void {
    const receivedAt = this.clock.now();
    // A frame in the other encoding fails the handshake at once (a proxy that ignores Content-Type
    // would otherwise cost connectTimeoutMs per attempt). Once ready, text frames are JSON anyway.
    if (session.phase === 'handshake') {
      const other = otherEncoding(payload, isBinary, this.encoding);
      if (other !== undefined) {
        this.handshakeFailed(session, encodingMismatch(this.encoding, other, this.url));
        return;
      }
    }
    const raw = decodeRaw(!isBinary && typeof payload !== 'string' ? utf8(payload) : payload, this.encoding);
    if (typeof raw === 'string') {
      this.malformed(`malformed frame dropped: ${raw}`);
      return;
    }
    this.countMessages(raw.length);
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
        this.unknownMessage();
      } else if (m.kind === 'malformed') {
        this.#malformedMessage(m.index, m.reason);
      } else {
        for (const action of this.#handshake(session).handle(m)) this.#act(session, action);
      }
    }
  }

  // ---- lifecycle: inline (AbstractLiveFeed), or in a worker thread --------------------------------

  protected override async doConnect(): Promise<void> {
    if (this.#o.worker === undefined) return super.doConnect();
    this.#link ??= this.#startWorker({ ...this.#o.worker, symbols: this.symbols });
    // The worker's feed reported any error already (forwarded as an event); here it is thrown.
    await this.#link.call('connect');
  }

  protected override async doStart(): Promise<void> {
    if (this.#link === undefined) return super.doStart();
    await this.#link.call('start');
  }

  protected override async doStop(): Promise<void> {
    if (this.#link === undefined) return super.doStop();
    await this.#link.call('stop');
  }

  protected override async doDisconnect(): Promise<void> {
    const link = this.#link;
    if (link === undefined) return super.doDisconnect();
    this.#link = undefined;
    await link.call('disconnect').finally(() => link.terminate());
  }

  // ---- worker thread (worker: true) ----------------------------------------------------------------

  #startWorker(options: AlpacaFeedOptions): WorkerLink {
    return new WorkerLink(options, this.clock, {
      bars: (data, count, names) => this.#remoteBars(data, count, names),
      event: (e) => this.#remoteEvent(e),
      counters: (c) => {
        this.#remote = c as AlpacaScalarStats;
        this.reconnects = this.#remote.reconnects;
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
      this.#remoteIndex[w] = this.indexOfSymbol(name);
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
      if (d[o + 11] === KIND_RECOVERED) this.barsRecovered++;
      else this.recordLatency(bar, i);
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
    const change = action === 'subscribe' ? [...new Set(symbols)].filter((s) => !this.symbols.includes(s)) : symbols.filter((s) => this.symbols.includes(s));
    if (change.length === 0) return;
    const link = this.#link;
    this.setSymbols(action === 'subscribe' ? [...this.symbols, ...change] : this.symbols.filter((s) => !change.includes(s)));
    // Not connected: the worker starts with the symbols of the moment.
    if (link !== undefined) await link.call(action, change);
  }

  #remoteStats(): AlpacaScalarStats {
    return this.#remote ?? { ...super.scalarStats(), updatedBars: 0, dailyBars: 0 };
  }

  // ---- Alpaca's protocol ---------------------------------------------------------------------------

  #handshake(session: Session): AlpacaHandshake {
    let h = this.#handshakes.get(session);
    if (h === undefined) {
      const c = this.#o.credentials as Credentials;
      h = new AlpacaHandshake({
        auth: this.#o.auth,
        keyId: c.keyId,
        secretKey: c.secretKey,
        subscribeAll: () => this.#subs.message('subscribe', this.symbols),
        redact: (t) => this.redact(t),
      });
      this.#handshakes.set(session, h);
    }
    return h;
  }

  #act(session: Session, action: ProtocolAction): void {
    switch (action.kind) {
      case 'send':
        this.send(session, encodeFrames(action.message, this.encoding));
        return;
      case 'authenticated':
        this.authenticated();
        return;
      case 'subscription':
        // The reply that completes a handshake confirms every symbol, including any added while reconnecting.
        this.#subs.confirm(action.subscription, action.ready);
        this.emitter.emit({ type: 'subscription', subscription: action.subscription });
        return;
      case 'ready':
        this.handshakeDone(session);
        return;
      case 'error': {
        const e = action.error;
        if (action.duringHandshake) {
          // The attempt fails; the connection retries it unless the code is fatal (then connect() reports it).
          this.handshakeFailed(session, e);
        } else if (e.fatal) {
          this.fatal(e);
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
    this.malformed(`malformed message dropped (message ${index} of its frame): ${reason}`);
  }

  #onBar(type: BarMessageType, bar: Bar): void {
    if (type === 'd') {
      if (this.unexpected(bar)) return;
      this.#daily++;
      this.emitter.emit({ type: 'dailyBar', bar });
      return;
    }
    if (type === 'u') this.#updated++;
    this.acceptBar(bar, type === 'u');
  }
}

function headersOf(o: ResolvedFeedOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const c = o.credentials as Credentials;
  if (o.auth === 'headers') {
    headers['APCA-API-KEY-ID'] = c.keyId;
    headers['APCA-API-SECRET-KEY'] = c.secretKey;
  }
  if (o.encoding === 'msgpack') headers['Content-Type'] = 'application/msgpack';
  return headers;
}

function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
