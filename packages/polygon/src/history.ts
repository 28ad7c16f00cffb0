import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS, barFromValues } from '@feed/core';
import type { RetryingGetOptions } from '@feed/live';
import { RetryingGet } from '@feed/live';

/** Polygon's REST host (Polygon is now Massive; the host still answers). */
export const POLYGON_URL = 'https://api.polygon.io';
/** The environment variable the key is read from. */
export const KEY_VARIABLE = 'POLYGON_API_KEY';

/** Options of `PolygonHistoricalClient`. */
export interface PolygonHistoryOptions extends RetryingGetOptions {
  /**
   * The API key.
   * @default process.env.POLYGON_API_KEY
   */
  apiKey?: string;
  /**
   * Where the key is read from when `apiKey` is not given.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The REST host (Massive's, a proxy, or `FakePolygonServer.url` in tests).
   * @default 'https://api.polygon.io'
   */
  baseUrl?: string;
  /**
   * Split- and dividend-adjusted prices (`adjusted=true`), or raw.
   * @default true
   */
  adjusted?: boolean;
}

/** Polygon's request options on top of the provider-neutral `HistoryRequest`. */
export interface PolygonBarsRequest extends HistoryRequest {
  /** Stop after this many bars per symbol. */
  readonly maxBars?: number;
}

const toMs = (t: number | Date | string): number => (typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime());

/**
 * Polygon's (Massive's) minute aggregates, `GET /v2/aggs/ticker/{T}/range/1/minute/{from}/{to}`,
 * following `next_url` (the key attached again, never shown) to the end, as `Bar`s: start `t`, end
 * start + 1 minute, `o h l c v`, `vw` as vwap, `n` as trade count. The same bounds as Alpaca's client
 * (one module, `RetryingGet`): a timeout per request, retries of 5xx and network errors, 429 waits
 * honouring `Retry-After`, a retry budget per call, an abort signal; a `next_url` seen twice is a
 * protocol error. It is a `HistoricalBars`, so an Alpaca feed's gap fill can take it.
 */
export class PolygonHistoricalClient implements HistoricalBars {
  readonly baseUrl: string;
  readonly adjusted: boolean;
  readonly #key: string;
  readonly #http: RetryingGet;

  constructor(options: PolygonHistoryOptions = {}) {
    const key = options.apiKey ?? (options.env ?? process.env)[KEY_VARIABLE];
    if (key === undefined || key === '') {
      throw new ConfigError({
        code: 'invalid_option',
        message: `no Polygon key: set ${KEY_VARIABLE}, or pass apiKey`,
        issues: [{ path: 'apiKey', message: `not given and ${KEY_VARIABLE} is not set` }],
        source: 'environment',
      });
    }
    this.#key = key;
    this.baseUrl = (options.baseUrl ?? POLYGON_URL).replace(/\/+$/, '');
    this.adjusted = options.adjusted ?? true;
    this.#http = new RetryingGet(options, {
      headers: () => ({ accept: 'application/json' }),
      secrets: () => [key],
      refused: (status, text, url) => this.#refused(status, text, url),
    });
  }

  /** Requests, retries, rate-limit waits and timeouts since construction. */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number } {
    return this.#http.stats();
  }

  toString(): string {
    return `PolygonHistoricalClient(${this.baseUrl}, key ...${this.#key.slice(-4)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** One symbol's bars in time order, page by page as they arrive. */
  async *barsOf(symbol: string, request: Omit<PolygonBarsRequest, 'symbols'>): AsyncGenerator<Bar, void, undefined> {
    const from = toMs(request.start);
    const to = request.end === undefined ? this.#http.clock.now() : toMs(request.end);
    if (!(Number.isFinite(from) && Number.isFinite(to))) throw new FeedError({ code: 'invalid_option', message: `bad range: start ${String(request.start)}, end ${String(request.end)}` });
    const call = this.#http.call(request.signal);
    const max = request.maxBars ?? Infinity;
    let url: string | null = `${this.baseUrl}/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/minute/${from}/${to}?adjusted=${this.adjusted}&sort=asc&limit=50000`;
    const seen = new Set<string>();
    let total = 0;
    while (url !== null) {
      const body = await this.#http.get(this.#withKey(url), call);
      const page = this.#parse(body, url, symbol);
      for (const bar of page.bars) {
        // The range is inclusive of bars starting at `to`; Polygon's end is a day when given as a date.
        if (bar.start > to) continue;
        if (total >= max) return;
        total++;
        yield bar;
      }
      url = page.next;
      if (url !== null) {
        if (seen.has(url)) {
          throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response for ${symbol}: next_url ${url} was already followed (the pages loop)`), detail: { symbol } });
        }
        seen.add(url);
      }
    }
  }

  /** Every bar of the request, per symbol, in time order (one symbol after another). */
  async barsBySymbol(request: PolygonBarsRequest): Promise<Map<string, Bar[]>> {
    const out = new Map<string, Bar[]>();
    for (const symbol of request.symbols) {
      const list: Bar[] = [];
      for await (const bar of this.barsOf(symbol, request)) list.push(bar);
      out.set(symbol, list);
    }
    return out;
  }

  /** The URL with the key attached (a `next_url` comes without it). */
  #withKey(url: string): string {
    const u = new URL(url);
    u.searchParams.set('apiKey', this.#key);
    return u.toString();
  }

  #parse(text: string, url: string, symbol: string): { bars: Bar[]; next: string | null } {
    const where = this.#http.redact(url);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not JSON (${text.length} bytes)`, detail: { url: where } });
    }
    if (typeof body !== 'object' || body === null) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not an object` });
    const b = body as { status?: unknown; results?: unknown; next_url?: unknown; error?: unknown; message?: unknown };
    if (b.status === 'ERROR' || b.status === 'NOT_AUTHORIZED') {
      const said = [b.error, b.message, b.status].find((x): x is string => typeof x === 'string') ?? 'an error';
      throw new FeedError({ code: 'provider', message: this.#http.redact(`Polygon: ${said} (${where})`), detail: { status: b.status } });
    }
    const next = typeof b.next_url === 'string' && b.next_url.length > 0 ? b.next_url : null;
    if (b.next_url !== undefined && b.next_url !== null && typeof b.next_url !== 'string') {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: next_url is not a string` });
    }
    const bars: Bar[] = [];
    if (b.results === undefined || b.results === null) return { bars, next };
    if (!Array.isArray(b.results)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: results is not an array` });
    const receivedAt = this.#http.clock.now();
    b.results.forEach((r: unknown, i: number) => {
      const bar = aggregateOf(r, symbol, receivedAt);
      if (typeof bar === 'string') throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: results[${i}]: ${bar}`, detail: { url: where, index: i } });
      bars.push(bar);
    });
    return { bars, next };
  }

  #refused(status: number, text: string, url: string): FeedError | undefined {
    if (status === 401 || status === 403) {
      const said = /"(?:message|error)"\s*:\s*"([^"]{0,200})"/.exec(text)?.[1];
      return new HttpError({
        status,
        message: this.#http.redact(`${status === 401 ? 'not authorized: Polygon rejected the key' : "forbidden: this key's plan cannot read minute aggregates for this range"} (key ...${this.#key.slice(-4)})${said === undefined ? '' : `; Polygon says: ${said}`}`),
        url: this.#http.redact(url),
      });
    }
    return undefined;
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * One aggregate as a `Bar` (REST `results[i]` and the stream's `AM` messages share the fields: `t` or
 * `s` the start in epoch ms), or why it is not one.
 */
export function aggregateOf(r: unknown, symbol: string, receivedAt: number): Bar | string {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const a = r as Record<string, unknown>;
  const start = a.t ?? a.s;
  for (const [k, v] of [['t', start], ['o', a.o], ['h', a.h], ['l', a.l], ['c', a.c], ['v', a.v]] as const) if (!isNum(v)) return `${k} is not a finite number`;
  if (a.vw !== undefined && !isNum(a.vw)) return 'vw is not a finite number';
  if (a.n !== undefined && !isNum(a.n)) return 'n is not a finite number';
  return barFromValues(symbol, start as number, MINUTE_MS, a.o as number, a.h as number, a.l as number, a.c as number, a.v as number, isNum(a.vw) ? a.vw : Number.NaN, isNum(a.n) ? a.n : -1, receivedAt);
}
