import type { Bar, Clock } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS, SystemClock, redact, redactError, sleep, timeoutSignal } from '@feed/core';
import type { AlpacaKeys, Credentials } from './credentials.js';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import type { HistoricalBars, HistoryRequest, RetryInfo } from './history.js';
import { barOf } from './messages.js';

/** Alpaca's data API host. */
export const DATA_URL = 'https://data.alpaca.markets';
/** Alpaca's sandbox data API host. */
export const SANDBOX_DATA_URL = 'https://data.sandbox.alpaca.markets';

/** Options of `AlpacaHistoricalClient`. */
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
   * How long one request may take, headers and body, in milliseconds of clock time; a request that
   * takes longer is aborted and retried like a network error.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Retries of one request after a 5xx, a network error or a timeout, with doubling delays.
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
   * The longest single wait a 429 may ask for (`Retry-After` or `X-RateLimit-Reset`), in milliseconds.
   * A longer one fails the call with an `HttpError` 429 instead of sleeping through it.
   * @default 60000
   */
  maxRateLimitWaitMs?: number;
  /**
   * Retries of every kind (5xx, network, timeout, 429) that one call of `bars()` or `barsBySymbol()`
   * may make over all its pages; past it the call fails with the last error.
   * @default 20
   */
  retryBudget?: number;
  /**
   * The clock of every wait and timeout, and the wall time that `X-RateLimit-Reset` (epoch seconds)
   * and an HTTP-date `Retry-After` are read against.
   * @default new SystemClock()
   */
  clock?: Clock;
  /** Told before every wait for a retry (for logging, metrics, or a test driving a `ManualClock`). */
  onRetry?: (info: RetryInfo) => void;
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

function toIso(t: number | Date | string): string {
  if (typeof t === 'string') return t;
  return new Date(typeof t === 'number' ? t : t.getTime()).toISOString();
}

/** One call's state: its retry budget and the page tokens it has seen. */
interface CallState {
  retriesLeft: number;
  readonly signal: AbortSignal | undefined;
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
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRateLimitWaits: number;
  readonly #maxRateLimitWaitMs: number;
  readonly #retryBudget: number;
  readonly #clock: Clock;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  #requests = 0;
  #retries = 0;
  #rateLimitWaits = 0;
  #timeouts = 0;

  constructor(options: HistoricalClientOptions = {}) {
    const credentials = resolveCredentials(options.keys, options.env ?? process.env);
    if (credentials === undefined) {
      throw new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
    }
    this.#credentials = credentials;
    this.baseUrl = (options.baseUrl ?? DATA_URL).replace(/\/+$/, '');
    this.feed = options.feed ?? 'iex';
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxRetries = options.maxRetries ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#maxRateLimitWaits = options.maxRateLimitWaits ?? 20;
    this.#maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
    this.#retryBudget = options.retryBudget ?? 20;
    this.#clock = options.clock ?? new SystemClock();
    this.#onRetry = options.onRetry;
  }

  /** Requests made, retries after errors, waits for the rate limit and timed-out requests, since construction. */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number } {
    return { requests: this.#requests, retries: this.#retries, rateLimitWaits: this.#rateLimitWaits, timeouts: this.#timeouts };
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
    const call: CallState = { retriesLeft: this.#retryBudget, signal: request.signal };
    const seen = new Set<string>();
    let token: string | null = null;
    let total = 0;
    const max = request.maxBars ?? Infinity;
    do {
      if (token !== null) params.set('page_token', token);
      const url = `${this.baseUrl}/v2/stocks/bars?${params.toString()}`;
      const body = await this.#get(url, call);
      const page = this.#parsePage(body, url);
      for (const bar of page.bars) {
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

  async #get(url: string, call: CallState): Promise<string> {
    let failures = 0;
    let waits = 0;
    for (;;) {
      throwIfAborted(call.signal);
      this.#requests++;
      const timeout = timeoutSignal(this.#clock, this.#timeoutMs, `GET ${this.#redact(url)}`, call.signal);
      let status: number;
      let text: string;
      let headers: Headers;
      try {
        const response = await this.#fetch(url, {
          headers: {
            'APCA-API-KEY-ID': this.#credentials.keyId,
            'APCA-API-SECRET-KEY': this.#credentials.secretKey,
            accept: 'application/json',
          },
          signal: timeout.signal,
        });
        status = response.status;
        headers = response.headers;
        // The body is read under the same timeout: a server may send headers and then stall.
        text = await response.text();
      } catch (error) {
        timeout.dispose();
        throwIfAborted(call.signal);
        const reason: unknown = timeout.signal.aborted ? timeout.signal.reason : error;
        if (timeout.signal.aborted) this.#timeouts++;
        const what = FeedError.isInstance(reason) ? reason.message : errorText(error);
        if (failures >= this.#maxRetries) {
          throw redactError(new HttpError({ status: 0, message: this.#redact(`no response after ${failures + 1} attempts: ${what}`), url: this.#redact(url), cause: error }), this.#credentials.secrets());
        }
        await this.#retry(call, { attempt: ++failures, delayMs: this.#retryDelayMs * 2 ** (failures - 1), reason: what, status: 0 }, url);
        continue;
      }
      timeout.dispose();
      if (status === 429) {
        if (waits >= this.#maxRateLimitWaits) {
          throw new HttpError({ status: 429, message: `rate limited ${waits + 1} times in a row; giving up`, url: this.#redact(url) });
        }
        waits++;
        const delayMs = this.#rateLimitDelay(headers, waits);
        if (delayMs > this.#maxRateLimitWaitMs) {
          throw new HttpError({
            status: 429,
            message: `rate limited; the server asks to wait ${Math.round(delayMs / 1000)} s, more than maxRateLimitWaitMs (${this.#maxRateLimitWaitMs} ms)`,
            url: this.#redact(url),
            detail: { waitMs: delayMs },
          });
        }
        this.#rateLimitWaits++;
        await this.#retry(call, { attempt: waits, delayMs, reason: 'rate limited (429)', status }, url);
        continue;
      }
      if (status >= 500) {
        if (failures >= this.#maxRetries) {
          throw new HttpError({ status, message: this.#redact(`server error after ${failures + 1} attempts: ${snippet(text)}`), url: this.#redact(url) });
        }
        await this.#retry(call, { attempt: ++failures, delayMs: this.#retryDelayMs * 2 ** (failures - 1), reason: `server error (${status})`, status }, url);
        continue;
      }
      if (status === 401) {
        throw new HttpError({ status: 401, message: `not authenticated: Alpaca rejected the key pair (key ...${this.#credentials.keyId.slice(-4)}); check the key id and secret`, url: this.#redact(url) });
      }
      if (status === 403) {
        throw new HttpError({
          status: 403,
          message: this.#redact(`forbidden: this account's plan cannot read the '${this.feed}' feed for this range (the free plan cannot read SIP data from the last 15 minutes)${text ? `; Alpaca says: ${snippet(text)}` : ''}`),
          url: this.#redact(url),
        });
      }
      if (status < 200 || status >= 300) throw new HttpError({ status, message: this.#redact(snippet(text) || `status ${status}`), url: this.#redact(url) });
      return text;
    }
  }

  /** Spends one retry of the call's budget and waits; the wait ends at once if the call is aborted. */
  async #retry(call: CallState, info: RetryInfo, url: string): Promise<void> {
    if (call.retriesLeft <= 0) {
      throw new HttpError({
        status: info.status,
        message: this.#redact(`retry budget of ${this.#retryBudget} spent; last: ${info.reason}`),
        url: this.#redact(url),
        detail: { retryBudget: this.#retryBudget },
      });
    }
    call.retriesLeft--;
    this.#retries++;
    this.#onRetry?.(info);
    await sleep(this.#clock, info.delayMs, call.signal);
  }

  /**
   * How long a 429 asks to wait: `Retry-After` (seconds or an HTTP date), else until
   * `X-RateLimit-Reset` (epoch seconds) plus a little, else a doubling backoff.
   */
  #rateLimitDelay(headers: Headers, waits: number): number {
    const retryAfter = headers.get('retry-after');
    if (retryAfter !== null) {
      const seconds = Number(retryAfter);
      if (retryAfter.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
      const at = Date.parse(retryAfter);
      if (Number.isFinite(at)) return Math.max(0, at - this.#clock.now());
    }
    const reset = headers.get('x-ratelimit-reset');
    const at = reset === null || reset.trim() === '' ? Number.NaN : Number(reset) * 1000;
    if (Number.isFinite(at)) return Math.max(0, at - this.#clock.now()) + 50;
    return Math.min(60_000, this.#retryDelayMs * 2 ** (waits - 1));
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
    if (typeof body !== 'object' || body === null) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not an object` });
    const b = body as { bars?: unknown; next_page_token?: unknown };
    const next = b.next_page_token;
    if (next !== null && next !== undefined && typeof next !== 'string') {
      throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: next_page_token is ${snippet(JSON.stringify(next), 40)}`) });
    }
    const bars: Bar[] = [];
    const receivedAt = this.#clock.now();
    if (b.bars !== null && b.bars !== undefined) {
      if (typeof b.bars !== 'object' || Array.isArray(b.bars)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: 'bars' is not an object` });
      for (const [symbol, list] of Object.entries(b.bars as Record<string, unknown>)) {
        if (!Array.isArray(list)) throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: bars.${snippet(symbol, 20)} is not an array`) });
        for (let i = 0; i < list.length; i++) {
          const m = list[i] as Record<string, unknown>;
          const bar = typeof m === 'object' && m !== null ? barOf(m, receivedAt, MINUTE_MS, symbol) : 'not an object';
          if (typeof bar === 'string') throw new FeedError({ code: 'protocol', message: this.#redact(`malformed response from ${where}: bars.${snippet(symbol, 20)}[${i}]: ${bar}`) });
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

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const reason: unknown = signal.reason;
  throw FeedError.isInstance(reason) ? reason : new FeedError({ code: 'aborted', message: 'the request was aborted', cause: reason });
}

function errorText(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown } };
  const base = typeof e?.message === 'string' ? e.message : String(error);
  return typeof e?.cause?.message === 'string' ? `${base} (${e.cause.message})` : base;
}

function snippet(text: string, max = 200): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}
