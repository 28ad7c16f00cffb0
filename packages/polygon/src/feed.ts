import { pathToFileURL } from 'node:url';
import type { CorporateActions, HistoricalBars, TradingEffect, TradingStatus } from '@feed/core';
import { ConfigError, FeedError, MAX_SYMBOL_LENGTH, makeTradingStatus, parseOptions, quoteSymbol } from '@feed/core';
import type { LiveFeedEvent, LiveFeedOptions, LiveFeedStats, RetryInfo, Session, WorkerSpec } from '@feed/live';
import { AbstractLiveFeed, jsonFrames, liveOptionsShape, resolveLiveOptions } from '@feed/live';
import { z } from 'zod';
import { PolygonCorporateActionsClient } from './corporate-actions.js';
import { KEY_VARIABLE, PolygonHistoricalClient, aggregateOf } from './history.js';

/** This module's URL (the bundle's, in a build): a worker thread loads the feed class from it. */
const HERE = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;

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
  /**
   * Also subscribe Polygon's limit-up/limit-down events (`LULD.<SYMBOL>`), emitted as
   * `tradingStatus` events: indicator 17 is a trading halt, 18 a resumption (Nasdaq-listed symbols
   * only, per Polygon), any other indicator a band update. Needs a plan that includes them.
   * @default false
   */
  readonly luld?: boolean;
}

const schema = z.object({
  ...liveOptionsShape,
  apiKey: z.string('must be a string').optional(),
  env: z.record(z.string(), z.string().optional(), 'must be an object of environment variables').optional(),
  host: z.enum(['realtime', 'delayed'], "must be 'realtime' or 'delayed'").default('realtime'),
  url: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').optional(),
  restUrl: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
  luld: z.boolean().default(false),
});

/** The Polygon feed's statistics: every live feed's, and the status messages received. */
export interface PolygonFeedStats extends LiveFeedStats {
  readonly statusMessages: number;
}

/** Events this feed adds: every live feed's, and each status message Polygon sends. */
export type PolygonFeedEvent = LiveFeedEvent | { readonly type: 'status'; readonly status: string; readonly message: string };

/** A status Polygon sends that ends the feed: retrying cannot help. */
const FATAL_STATUSES = new Set(['auth_failed']);

/**
 * Polygon's (Massive's) per-minute aggregates stream (`AM.<SYMBOL>`) as a `BarFeed`: an adapter on
 * `@feed/live`'s `AbstractLiveFeed`, which owns the lifecycle (auth, reconnect with backoff and
 * jitter, keep-alive, the no-data watchdog, gap fill over REST) and the bar path exactly as for
 * Alpaca's feed. This class is Polygon's URL and key, its status messages and `AM` events, its
 * subscribe message and its history client. Switching providers is one changed line.
 */
export class PolygonMultiSymbolFeed extends AbstractLiveFeed<PolygonFeedEvent> {
  readonly type = 'polygon';
  readonly #key: string;
  readonly #restUrl: string;
  readonly #luld: boolean;
  /** Subscriptions sent and not yet confirmed (`AM.X`, `LULD.X`), and who waits for them. */
  #pending = new Set<string>();
  #waiters: { resolve: () => void; reject: (e: FeedError) => void }[] = [];
  #statuses = 0;

  constructor(options: PolygonFeedOptions) {
    const parsed = parseOptions(schema, options, 'PolygonMultiSymbolFeed options');
    const key = parsed.apiKey ?? (parsed.env ?? process.env)[KEY_VARIABLE];
    if (key === undefined || key === '') {
      throw new ConfigError({ code: 'invalid_option', message: `no Polygon key: set ${KEY_VARIABLE}, or pass apiKey`, issues: [{ path: 'apiKey', message: 'not given and not in the environment' }], source: 'environment' });
    }
    super(resolveLiveOptions(parsed), {
      url: parsed.url ?? (parsed.host === 'delayed' ? DELAYED_URL : REALTIME_URL),
      headers: () => ({}),
      secrets: () => [key],
      isFatal: (e) => e.detail?.fatal === true,
    });
    this.#key = key;
    this.#restUrl = parsed.restUrl ?? 'https://api.polygon.io';
    this.#luld = parsed.luld;
  }

  override stats(): PolygonFeedStats {
    return super.stats() as PolygonFeedStats;
  }

  protected override providerStats(): { statusMessages: number } {
    return { statusMessages: this.#statuses };
  }

  override toString(): string {
    return `PolygonMultiSymbolFeed(${this.url}, ${this.symbols.length} symbols, ${this.state}, key ...${this.#key.slice(-4)})`;
  }

  // ---- what @feed/live asks of a provider --------------------------------------------------------

  protected createHistory(onRetry: (info: RetryInfo) => void): HistoricalBars {
    return new PolygonHistoricalClient({ apiKey: this.#key, baseUrl: this.#restUrl, clock: this.clock, onRetry });
  }

  protected override createCorporateActions(onRetry: (info: RetryInfo) => void): CorporateActions {
    return new PolygonCorporateActionsClient({ apiKey: this.#key, baseUrl: this.#restUrl, clock: this.clock, onRetry });
  }

  /** Subscribe resolves once Polygon confirms each symbol; Polygon does not confirm an unsubscribe. */
  protected sendSubscription(session: Session, action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Promise<void> {
    const topics = symbols.flatMap((s) => (this.#luld ? [`AM.${s}`, `LULD.${s}`] : [`AM.${s}`]));
    const params = topics.join(',');
    if (action === 'unsubscribe') {
      this.send(session, jsonFrames({ action, params }));
      return Promise.resolve();
    }
    for (const t of topics) this.#pending.add(t);
    const reply = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.send(session, jsonFrames({ action, params }));
    return reply;
  }

  protected override onEnded(error: FeedError): void {
    this.#settle(error);
  }

  protected override workerSpec(shared: Readonly<Record<string, unknown>>): WorkerSpec {
    return { module: HERE, exportName: 'PolygonMultiSymbolFeed', options: { ...shared, apiKey: this.#key, url: this.url, restUrl: this.#restUrl, luld: this.#luld } };
  }

  protected onFrame(session: Session, raw: string | Uint8Array): void {
    const now = this.clock.now();
    session.lastDataAt = now;
    let messages: unknown;
    try {
      messages = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    } catch {
      this.#malformed('the frame is not JSON');
      return;
    }
    if (!Array.isArray(messages)) {
      this.#malformed('the frame is not an array of messages');
      return;
    }
    this.countMessages(messages.length);
    for (let i = 0; i < messages.length; i++) {
      // A message may end the session (a fatal status): the rest of the frame belongs to no one.
      if (session.phase === 'ended') return;
      const m = messages[i] as Record<string, unknown> | null;
      if (typeof m !== 'object' || m === null) {
        this.#malformed(`message ${i} is not an object`);
        continue;
      }
      if (m.ev === 'status') this.#onStatus(session, typeof m.status === 'string' ? m.status : 'unknown', typeof m.message === 'string' ? m.message : '');
      else if (m.ev === 'AM') {
        if (typeof m.sym !== 'string') {
          this.#malformed(`message ${i} (AM): sym is not a string`);
          continue;
        }
        const bar = aggregateOf(m, m.sym, now);
        if (typeof bar === 'string') this.#malformed(`message ${i} (AM): ${bar}`);
        else this.acceptBar(bar);
      } else if (m.ev === 'LULD') {
        const status = luldOf(m, now);
        if (typeof status === 'string') this.#malformed(`message ${i} (LULD): ${status}`);
        else this.acceptStatus(status);
      } else this.unknownMessage();
    }
  }

  // ---- Polygon's protocol --------------------------------------------------------------------------

  #settle(error?: FeedError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  #malformed(what: string): void {
    this.malformed(`malformed frame from ${this.url}: ${what}; skipped`);
  }

  /** Polygon's status messages drive the handshake and the subscriptions; every one is emitted. */
  #onStatus(session: Session, status: string, message: string): void {
    this.#statuses++;
    this.emitter.emit({ type: 'status', status, message: this.redact(message) });
    switch (status) {
      case 'connected':
        this.send(session, jsonFrames({ action: 'auth', params: this.#key }));
        return;
      case 'auth_success': {
        this.authenticated();
        if (this.symbols.length === 0) {
          this.handshakeDone(session);
          return;
        }
        void this.sendSubscription(session, 'subscribe', this.symbols).then(
          () => this.handshakeDone(session),
          () => undefined,
        );
        return;
      }
      case 'success': {
        const m = /^subscribed to: (\S+)/.exec(message);
        if (m !== null) {
          const topic = m[1] as string;
          // A bare symbol (no channel prefix) confirms its aggregates.
          this.#pending.delete(topic.includes('.') ? topic : `AM.${topic}`);
          if (this.#pending.size === 0) this.#settle();
        }
        return;
      }
      default: {
        const fatal = FATAL_STATUSES.has(status);
        const e = new FeedError({ code: fatal ? 'provider' : 'connection', message: this.redact(`Polygon status '${status}': ${message}`), detail: { status, fatal } });
        if (session.phase === 'handshake') this.handshakeFailed(session, e);
        else if (fatal) this.fatal(e);
        else this.reportError(e);
      }
    }
  }
}

/** What a Polygon LULD indicator list means for trading: 17 a trading halt, 18 a resumption (Polygon's documentation). */
export function polygonLuldEffect(indicators: readonly number[]): TradingEffect {
  if (indicators.includes(17)) return 'halt';
  if (indicators.includes(18)) return 'resume';
  return 'none';
}

/** Epoch milliseconds from a Polygon timestamp: documented as milliseconds, seen in nanoseconds (and seconds, microseconds) too. */
function epochMs(t: number): number {
  // Nanoseconds exceed 2^53: a double holds them to ~256 ns, so allow that much below a whole millisecond.
  if (t > 1e17) return Math.floor(t / 1e6 + 0.001);
  if (t > 1e14) return Math.floor(t / 1e3 + 0.001);
  if (t > 1e11) return t;
  return t * 1000;
}

/** The trading status of a Polygon `LULD` event (`T`, `h`, `l`, `i`, `z`, `t`), or why it is malformed. */
export function luldOf(m: Record<string, unknown>, receivedAt: number): TradingStatus | string {
  const symbol = m.T;
  if (typeof symbol !== 'string' || symbol.length === 0) return 'no ticker (T)';
  const name = symbol.length <= MAX_SYMBOL_LENGTH ? symbol : quoteSymbol(symbol);
  const t = m.t;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) return `${name}: timestamp t is not a positive number`;
  const indicators = Array.isArray(m.i) ? m.i.filter((x): x is number => typeof x === 'number' && Number.isInteger(x)) : [];
  if (m.i !== undefined && (!Array.isArray(m.i) || indicators.length !== m.i.length)) return `${name}: indicators i are not a list of integers`;
  const high = m.h;
  const low = m.l;
  // A band of 0 is no band (a halt or resumption message may carry none).
  const band = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
  const bad = (v: unknown): boolean => v !== undefined && v !== 0 && band(v) === undefined;
  if (bad(high) || bad(low)) return `${name}: price bands h/l are not prices >= 0`;
  return makeTradingStatus({
    symbol,
    at: epochMs(t),
    kind: 'luld',
    effect: polygonLuldEffect(indicators),
    code: indicators.join(','),
    limitUp: band(high),
    limitDown: band(low),
    tape: typeof m.z === 'number' || typeof m.z === 'string' ? String(m.z).slice(0, 8) : '',
    receivedAt,
  });
}
