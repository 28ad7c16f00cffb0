import type { Bar, Clock } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS, SystemClock, redact } from '@feed/core';
import type { AlpacaKeys, Credentials } from './credentials.js';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import { barOf } from './messages.js';

/** Alpaca's data API host. */
export const DATA_URL = 'https://data.alpaca.markets';
export const SANDBOX_DATA_URL = 'https://data.sandbox.alpaca.markets';

export interface HistoricalClientOptions {
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
  /**
   * The fetch function.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Retries of one request after a 5xx or a network error, with doubling delays.
   * @default 4
   */
  maxRetries?: number;
  /**
   * Delay before the first retry after a 5xx or network error, in milliseconds; it doubles each time.
   * @default 500
   */
  retryDelayMs?: number;
  /**
   * Waits on HTTP 429 in a row before giving up.
   * @default 20
   */
  maxRateLimitWaits?: number;
  /**
   * Waits, in milliseconds (injectable for tests).
   * @default a timer
   */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The wall clock, to turn `X-RateLimit-Reset` (epoch seconds) into a wait.
   * @default new SystemClock()
   */
  clock?: Clock;
}

export interface BarsRequest {
  readonly symbols: readonly string[];
  /** First bar start to include (inclusive): epoch ms, a `Date`, or an RFC 3339 string. */
  readonly start: number | Date | string;
  /**
   * Last bar start to include (inclusive).
   * @default now
   */
  readonly end?: number | Date | string;
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

/** What a reader of historical bars offers the stream's gap fill (the client below, or your own). */
export interface HistoricalBars {
  barsBySymbol(request: BarsRequest): Promise<Map<string, Bar[]>>;
}

function toIso(t: number | Date | string): string {
  if (typeof t === 'string') return t;
  return new Date(typeof t === 'number' ? t : t.getTime()).toISOString();
}

/**
 * Alpaca's historical bars (`GET /v2/stocks/bars`), following `next_page_token` to the end, as the
 * same `Bar` type the stream delivers. Retries 5xx and network errors with backoff, waits out 429 until
 * the reset time, and turns 401/403 and malformed bodies into typed errors without secrets.
 */
export class AlpacaHistoricalClient implements HistoricalBars {
  readonly baseUrl: string;
  readonly feed: 'iex' | 'sip' | 'delayed_sip';
  readonly #credentials: Credentials;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRateLimitWaits: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #clock: Clock;
  #requests = 0;
  #retries = 0;
  #rateLimitWaits = 0;

  constructor(options: HistoricalClientOptions = {}) {
    const credentials = resolveCredentials(options.keys, options.env ?? process.env);
    if (credentials === undefined) {
      throw new ConfigError(missingKeysMessage(), [{ path: 'keys', message: 'not given and not in the environment' }], 'environment', {
        code: 'invalid_option',
      });
    }
    this.#credentials = credentials;
    this.baseUrl = (options.baseUrl ?? DATA_URL).replace(/\/+$/, '');
    this.feed = options.feed ?? 'iex';
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#maxRetries = options.maxRetries ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#maxRateLimitWaits = options.maxRateLimitWaits ?? 20;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#clock = options.clock ?? new SystemClock();
  }

  /** Requests made, retries after errors, and waits for the rate limit, since construction. */
  stats(): { requests: number; retries: number; rateLimitWaits: number } {
    return { requests: this.#requests, retries: this.#retries, rateLimitWaits: this.#rateLimitWaits };
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
    let token: string | null = null;
    let total = 0;
    const max = request.maxBars ?? Infinity;
    do {
      if (token !== null) params.set('page_token', token);
      const url = `${this.baseUrl}/v2/stocks/bars?${params.toString()}`;
      const body = await this.#get(url);
      const page = this.#parsePage(body, url);
      for (const bar of page.bars) {
        if (total >= max) return;
        total++;
        yield bar;
      }
      token = page.next;
    } while (token !== null && total < max);
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

  async #get(url: string): Promise<string> {
    let failures = 0;
    let waits = 0;
    for (;;) {
      this.#requests++;
      let response: Response;
      try {
        response = await this.#fetch(url, {
          headers: {
            'APCA-API-KEY-ID': this.#credentials.keyId,
            'APCA-API-SECRET-KEY': this.#credentials.secretKey,
            accept: 'application/json',
          },
        });
      } catch (error) {
        if (failures >= this.#maxRetries) {
          throw new HttpError(0, this.#redact(`network error after ${failures + 1} attempts: ${String((error as Error).message ?? error)}`), url, { cause: error });
        }
        await this.#backoff(failures++);
        continue;
      }
      const status = response.status;
      if (status === 429) {
        if (waits >= this.#maxRateLimitWaits) {
          throw new HttpError(429, `rate limited ${waits + 1} times in a row; giving up`, url);
        }
        waits++;
        this.#rateLimitWaits++;
        await response.arrayBuffer().catch(() => undefined);
        await this.#sleep(this.#rateLimitDelay(response.headers.get('x-ratelimit-reset'), waits));
        continue;
      }
      if (status >= 500) {
        const text = await response.text().catch(() => '');
        if (failures >= this.#maxRetries) {
          throw new HttpError(status, this.#redact(`server error after ${failures + 1} attempts: ${snippet(text)}`), url);
        }
        await this.#backoff(failures++);
        continue;
      }
      const text = await response.text();
      if (status === 401) {
        throw new HttpError(401, `not authenticated: Alpaca rejected the key pair (key ...${this.#credentials.keyId.slice(-4)}); check the key id and secret`, url);
      }
      if (status === 403) {
        throw new HttpError(
          403,
          this.#redact(`forbidden: this account's plan cannot read the '${this.feed}' feed for this range (the free plan cannot read SIP data from the last 15 minutes)${text ? `; Alpaca says: ${snippet(text)}` : ''}`),
          url,
        );
      }
      if (status < 200 || status >= 300) throw new HttpError(status, this.#redact(snippet(text) || response.statusText), url);
      return text;
    }
  }

  #backoff(failures: number): Promise<void> {
    this.#retries++;
    return this.#sleep(this.#retryDelayMs * 2 ** failures);
  }

  /** Until the reset time (epoch seconds) plus a little, or a doubling backoff without the header. */
  #rateLimitDelay(reset: string | null, waits: number): number {
    const at = reset === null ? Number.NaN : Number(reset) * 1000;
    if (Number.isFinite(at)) return Math.max(0, at - this.#clock.now()) + 50;
    return Math.min(60_000, this.#retryDelayMs * 2 ** (waits - 1));
  }

  #parsePage(text: string, url: string): { bars: Bar[]; next: string | null } {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new FeedError('protocol', `malformed response from ${url}: not JSON (${(error as Error).message})`);
    }
    if (typeof body !== 'object' || body === null) throw new FeedError('protocol', `malformed response from ${url}: not an object`);
    const b = body as { bars?: unknown; next_page_token?: unknown };
    const next = b.next_page_token;
    if (next !== null && next !== undefined && typeof next !== 'string') {
      throw new FeedError('protocol', `malformed response from ${url}: next_page_token is ${JSON.stringify(next)}`);
    }
    const bars: Bar[] = [];
    const receivedAt = this.#clock.now();
    if (b.bars !== null && b.bars !== undefined) {
      if (typeof b.bars !== 'object' || Array.isArray(b.bars)) throw new FeedError('protocol', `malformed response from ${url}: 'bars' is not an object`);
      for (const [symbol, list] of Object.entries(b.bars as Record<string, unknown>)) {
        if (!Array.isArray(list)) throw new FeedError('protocol', `malformed response from ${url}: bars.${symbol} is not an array`);
        for (let i = 0; i < list.length; i++) {
          const m = list[i] as Record<string, unknown>;
          const bar = typeof m === 'object' && m !== null ? barOf(m, receivedAt, MINUTE_MS, symbol) : 'not an object';
          if (typeof bar === 'string') throw new FeedError('protocol', `malformed response from ${url}: bars.${symbol}[${i}]: ${bar}`);
          bars.push(bar);
        }
      }
    }
    return { bars, next: typeof next === 'string' && next.length > 0 ? next : null };
  }

  #redact(text: string): string {
    return redact(text, this.#credentials.secrets());
  }
}

function snippet(text: string): string {
  const t = text.trim();
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}
