import { pathToFileURL } from 'node:url';
import type { Bar, CorporateActions, FeedError, HistoricalBars } from '@feed/core';
import { ConfigError, MINUTE_MS } from '@feed/core';
import type { LiveFeedEvent, LiveFeedStats, RetryInfo, Session, WireError, WireEvent, WorkerSpec } from '@feed/live';
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
import { AlpacaCorporateActionsClient } from './corporate-actions.js';
import { AlpacaHistoricalClient } from './rest.js';
import { Subscriptions } from './subscriptions.js';

export type { FeedResources, LatencyStats } from '@feed/live';

/** This module's URL (the bundle's, in a build): the worker thread loads the feed class from it. */
const HERE = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;

/** The Alpaca feed's statistics: every live feed's, and Alpaca's updated and daily bars. */
export interface AlpacaFeedStats extends LiveFeedStats {
  /** Updated bars received (delivered as revisions). */
  readonly updatedBars: number;
  /** Daily bars received (emitted as `dailyBar`). */
  readonly dailyBars: number;
}

/** Events the Alpaca feed adds to `bar`, `error` and `state`: every live feed's, the subscription reply and daily bars. */
export type AlpacaFeedEvent = LiveFeedEvent | { readonly type: 'subscription'; readonly subscription: Subscription } | { readonly type: 'dailyBar'; readonly bar: Bar };

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

  override stats(): AlpacaFeedStats {
    return { updatedBars: 0, dailyBars: 0, ...super.stats() };
  }

  protected override providerStats(): { updatedBars: number; dailyBars: number } {
    return { updatedBars: this.#updated, dailyBars: this.#daily };
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

  protected createHistory(onRetry: (info: RetryInfo) => void): HistoricalBars {
    return new AlpacaHistoricalClient({
      baseUrl: this.#o.restUrl,
      keys: this.#o.credentials as Credentials,
      feed: this.#o.feed === 'test' ? 'iex' : this.#o.feed,
      clock: this.#o.clock,
      onRetry,
    });
  }

  protected override createCorporateActions(onRetry: (info: RetryInfo) => void): CorporateActions {
    return new AlpacaCorporateActionsClient({ baseUrl: this.#o.restUrl, keys: this.#o.credentials as Credentials, clock: this.#o.clock, onRetry });
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
      } else if (m.kind === 'status') {
        this.acceptStatus(m.status);
      } else if (m.kind === 'other') {
        this.unknownMessage();
      } else if (m.kind === 'malformed') {
        this.#malformedMessage(m.index, m.reason);
      } else {
        for (const action of this.#handshake(session).handle(m)) this.#act(session, action);
      }
    }
  }

  // ---- worker: true ----------------------------------------------------------------------------

  protected override workerSpec(): WorkerSpec | undefined {
    return { module: HERE, exportName: 'AlpacaMultiSymbolFeed', options: { ...this.#o.workerOptions, symbols: [...this.symbols] } };
  }

  protected override reviveError(w: WireError): FeedError | undefined {
    if (w.name !== 'AlpacaError') return undefined;
    const f = w.fields ?? {};
    return new AlpacaError({
      alpacaCode: typeof f.alpacaCode === 'number' ? f.alpacaCode : 0,
      message: w.message.replace(/^Alpaca error \d+: /, ''),
      ...(typeof f.fatal === 'boolean' ? { fatal: f.fatal } : {}),
      ...(w.detail === undefined ? {} : { detail: w.detail }),
    });
  }

  protected override onWorkerEvent(e: WireEvent): void {
    if (e.type === 'subscription') this.#subs.confirm(e.subscription as Subscription, true);
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
