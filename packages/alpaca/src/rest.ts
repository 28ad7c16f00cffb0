import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS } from '@feed/core';
import type { RetryingGetOptions } from '@feed/live';
import { RetryingGet, originOf, snippet } from '@feed/live';
import type { AlpacaKeys, Credentials } from './credentials.js';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import { barOf } from './messages.js';

/** Alpaca's data API host. */
export const DATA_URL = 'https://data.alpaca.markets';
/** Alpaca's sandbox data API host. */
export const SANDBOX_DATA_URL = 'https://data.sandbox.alpaca.markets';

/** Options of `AlpacaHistoricalClient`. */
export interface HistoricalClientOptions extends RetryingGetOptions {
  /**
   * The data API's base URL (a proxy, or `FakeAlpacaServer.restUrl` in tests).
   * @default 'https://data.alpaca.markets'
   */
  baseUrl?: string;
  /**
   * The key pair.
   * @default read from the environment, like the stream
   */
  keys?: AlpacaKeys | Credentials;
  /**
   * Where the keys are read from when `keys` is not given.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The feed to read: `iex` (free), `sip`, `delayed_sip`.
   * @default 'iex'
   */
  feed?: 'iex' | 'sip' | 'delayed_sip';
}

/** Alpaca's request options on top of the provider-neutral `HistoryRequest`. */
export interface BarsRequest extends HistoryRequest {
  /**
   * Only `1Min` bars are `Bar`s here.
   * @default '1Min'
   */
  readonly timeframe?: '1Min';
  /**
   * Price adjustment.
   * @default 'raw'
   */
  readonly adjustment?: 'raw' | 'split' | 'dividend' | 'all';
  /**
   * Order within each symbol.
   * @default 'asc'
   */
  readonly sort?: 'asc' | 'desc';
  /**
   * Bars per page (Alpaca counts it across symbols; at most 10 000).
   * @default 10000
   */
  readonly pageSize?: number;
  /** Stop after this many bars in total. */
  readonly maxBars?: number;
}

function toMs(t: number | Date | string): number {
  return typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
}

function toIso(t: number | Date | string): string {
  if (typeof t === 'string') return t;
  return new Date(typeof t === 'number' ? t : t.getTime()).toISOString();
}


/**
 * Alpaca's historical bars (`GET /v2/stocks/bars`), following `next_page_token` to the end, as the
 * same `Bar` type the stream delivers. Bounded in every direction: a timeout per request, retries of
 * 5xx, network errors and timeouts with backoff, 429 waits that honour `Retry-After` and
 * `X-RateLimit-Reset` up to a cap, a retry budget per call, an abort signal, and a page token seen
 * twice is a protocol error. Errors are typed and never hold a secret.
 */
export class AlpacaHistoricalClient implements HistoricalBars {
  readonly baseUrl: string;
  readonly feed: 'iex' | 'sip' | 'delayed_sip';
  readonly #credentials: Credentials;
  readonly #http: RetryingGet;
  #droppedUnasked = 0;
  #droppedOutOfRange = 0;

  constructor(options: HistoricalClientOptions = {}) {
    const credentials = resolveCredentials(options.keys, options.env ?? process.env);
    if (credentials === undefined) {
      throw new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
    }
    this.#credentials = credentials;
    this.baseUrl = (options.baseUrl ?? DATA_URL).replace(/\/+$/, '');
    const origin = originOf(this.baseUrl);
    this.feed = options.feed ?? 'iex';
    this.#http = new RetryingGet(options, {
      origin,
      headers: () => ({ 'APCA-API-KEY-ID': credentials.keyId, 'APCA-API-SECRET-KEY': credentials.secretKey, accept: 'application/json' }),
      secrets: () => credentials.secrets(),
      refused: (status, text, url) => this.#refused(status, text, url),
    });
  }

  /**
   * Requests made, retries after errors, waits for the rate limit, timed-out requests and redirects
   * followed; bars dropped because the server sent them for a symbol not asked for, or outside the
   * asked range. Since construction.
   */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number; redirects: number; droppedUnasked: number; droppedOutOfRange: number } {
    return { ...this.#http.stats(), droppedUnasked: this.#droppedUnasked, droppedOutOfRange: this.#droppedOutOfRange };
  }

  toString(): string {
    return `AlpacaHistoricalClient(${this.baseUrl}, ${this.feed}, ${String(this.#credentials)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /**
   * Every bar of the request, page by page as they arrive (within a page: by symbol, then time, as
   * Alpaca sends them). Large ranges stream: only one page is held at a time.
   */
  async *bars(request: BarsRequest): AsyncGenerator<Bar, void, undefined> {
    if (request.symbols.length === 0) return;
    const params = new URLSearchParams({
      symbols: request.symbols.join(','),
      timeframe: request.timeframe ?? '1Min',
      start: toIso(request.start),
      limit: String(Math.min(request.pageSize ?? 10_000, 10_000)),
      adjustment: request.adjustment ?? 'raw',
      feed: this.feed,
      sort: request.sort ?? 'asc',
    });
    if (request.end !== undefined) params.set('end', toIso(request.end));
    const from = toMs(request.start);
    const to = request.end === undefined ? Infinity : toMs(request.end);
    if (Number.isNaN(from) || Number.isNaN(to)) throw new FeedError({ code: 'invalid_option', message: `bad range: start ${String(request.start)}, end ${String(request.end)}` });
    const asked = new Set(request.symbols);
    const call = this.#http.call(request.signal, `bars of ${snippet(request.symbols.join(','), 60)} from ${toIso(request.start)} to ${request.end === undefined ? 'now' : toIso(request.end)}`);
    try {
      const seen = new Set<string>();
      // A bar is new when it starts after the last one kept for its symbol (pages are in time order per symbol).
      const last = new Map<string, number>();
      let token: string | null = null;
      let total = 0;
      const max = request.maxBars ?? Infinity;
      do {
        if (token !== null) params.set('page_token', token);
        const url = `${this.baseUrl}/v2/stocks/bars?${params.toString()}`;
        const body = await this.#http.get(url, call);
        const page = this.#parsePage(body, url);
        let fresh = 0;
        const kept: Bar[] = [];
        for (const bar of page.bars) {
          if (!asked.has(bar.symbol)) {
            this.#droppedUnasked++;
            continue;
          }
          if (bar.start < from || bar.start > to) {
            this.#droppedOutOfRange++;
            continue;
          }
          const prev = last.get(bar.symbol);
          if (prev === undefined || (request.sort === 'desc' ? bar.start < prev : bar.start > prev)) fresh++;
          last.set(bar.symbol, bar.start);
          kept.push(bar);
        }
        this.#http.page(call, fresh, this.#redact(url));
        for (const bar of kept) {
          if (total >= max) return;
          total++;
          yield bar;
        }
        token = page.next;
        if (token !== null) {
          // A server that hands back a token it gave before would page forever.
          if (seen.has(token)) {
            throw new FeedError({
              code: 'protocol',
              message: this.#redact(`malformed response from ${url}: next_page_token '${snippet(token, 40)}' was already followed (the pages loop)`),
              detail: { url: this.#redact(url) },
            });
          }
          seen.add(token);
        }
      } while (token !== null && total < max);
    } finally {
      call.end();
    }
  }

  /** All bars of the request, per symbol, in time order. */
  async barsBySymbol(request: BarsRequest): Promise<Map<string, Bar[]>> {
    const out = new Map<string, Bar[]>();
    for (const s of request.symbols) out.set(s, []);
    for await (const bar of this.bars(request)) {
      let list = out.get(bar.symbol);
      if (list === undefined) {
        list = [];
        out.set(bar.symbol, list);
      }
      list.push(bar);
    }
    for (const list of out.values()) list.sort((a, b) => a.start - b.start);
    return out;
  }

  #parsePage(text: string, url: string): { bars: Bar[]; next: string | null } {
    const where = this.#redact(url);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // JSON.parse's own message quotes the body's first characters, which may be anything: not used.
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not JSON (${text.length} bytes)`, detail: { url: where } });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: ${Array.isArray(body) ? 'an array' : String(body)}, not an object with bars`, detail: { url: where } });
    }
    const b = body as { bars?: unknown; next_page_token?: unknown };
    const next = b.next_page_token;
    if (next !== null && next !== undefined && typeof next !== 'string') {
      throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: next_page_token is ${snippet(JSON.stringify(next), 40)}`), detail: { url: where } });
    }
    const bars: Bar[] = [];
    const receivedAt = this.#http.clock.now();
    if (b.bars !== null && b.bars !== undefined) {
      if (typeof b.bars !== 'object' || Array.isArray(b.bars)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: 'bars' is not an object`, detail: { url: where } });
      for (const [symbol, list] of Object.entries(b.bars as Record<string, unknown>)) {
        if (!Array.isArray(list)) throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: bars.${snippet(symbol, 20)} is not an array`), detail: { url: where } });
        for (let i = 0; i < list.length; i++) {
          const m = list[i] as Record<string, unknown>;
          const bar = typeof m === 'object' && m !== null ? barOf(m, receivedAt, MINUTE_MS, symbol) : 'not an object';
          if (typeof bar === 'string') throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: bars.${snippet(symbol, 20)}[${i}]: ${bar}`), detail: { url: where, symbol: snippet(symbol, 40), index: i } });
          bars.push(bar);
        }
      }
    }
    return { bars, next: typeof next === 'string' && next.length > 0 ? next : null };
  }

  #redact(text: string): string {
    return this.#http.redact(text);
  }

  /** Alpaca's words for a refused key pair (401) and a plan that cannot read the feed (403). */
  #refused(status: number, text: string, url: string): FeedError | undefined {
    if (status === 401) {
      return new HttpError({ status: 401, message: `not authenticated: Alpaca rejected the key pair (key ...${this.#credentials.keyId.slice(-4)}); check the key id and secret`, url: this.#redact(url) });
    }
    if (status === 403) {
      return new HttpError({
        status: 403,
        message: this.#redact(`forbidden: this account's plan cannot read the '${this.feed}' feed for this range (the free plan cannot read SIP data from the last 15 minutes)${text ? `; Alpaca says: ${snippet(text)}` : ''}`),
        url: this.#redact(url),
      });
    }
    return undefined;
  }
}

