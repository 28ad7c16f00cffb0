import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS, barFromValues } from '@feed/core';
import type { RetryingGetOptions } from '@feed/live';
import { RetryingGet, originOf } from '@feed/live';

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
   * Polygon's split-adjusted prices (`adjusted=true`), or raw, as traded (`false`). Raw by default:
   * the packages store bars raw and adjust them as of a date themselves (`adjustBars` of
   * `@feed/core`), so history, replay, warm-up and gap fill agree.
   * @default false
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
  #droppedUnasked = 0;
  #droppedOutOfRange = 0;

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
    const origin = originOf(this.baseUrl);
    this.adjusted = options.adjusted ?? false;
    this.#http = new RetryingGet(options, {
      origin,
      headers: () => ({ accept: 'application/json' }),
      // The key rides in the query, added to each request of this origin only (a next_url comes without it).
      authorize: (u) => {
        u.searchParams.set('apiKey', key);
        return u;
      },
      secrets: () => [key],
      refused: (status, text, url) => this.#refused(status, text, url),
    });
  }

  /**
   * Requests, retries, rate-limit waits, timeouts and redirects followed; results dropped because they
   * were for another ticker than asked, or outside the asked range. Since construction.
   */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number; redirects: number; droppedUnasked: number; droppedOutOfRange: number } {
    return { ...this.#http.stats(), droppedUnasked: this.#droppedUnasked, droppedOutOfRange: this.#droppedOutOfRange };
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
    const call = this.#http.call(request.signal, `minute aggregates of ${symbol} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`);
    const max = request.maxBars ?? Infinity;
    let url: string | null = `${this.baseUrl}/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/minute/${from}/${to}?adjusted=${this.adjusted}&sort=asc&limit=50000`;
    const seen = new Set<string>();
    let total = 0;
    let last = -Infinity;
    try {
      while (url !== null) {
        const body = await this.#http.get(url, call);
        const page = this.#parse(body, url, symbol);
        const kept: Bar[] = [];
        let fresh = 0;
        if (page.ticker !== undefined && page.ticker !== symbol) this.#droppedUnasked += page.bars.length;
        else {
          for (const bar of page.bars) {
            // The range is inclusive of bars starting at `to`; Polygon's end is a day when given as a date.
            if (bar.start < from || bar.start > to) {
              this.#droppedOutOfRange++;
              continue;
            }
            if (bar.start > last) {
              fresh++;
              last = bar.start;
            }
            kept.push(bar);
          }
        }
        this.#http.page(call, fresh, this.#http.redact(url));
        for (const bar of kept) {
          if (total >= max) return;
          total++;
          yield bar;
        }
        url = page.next === null ? null : this.#nextUrl(page.next, url, symbol);
        if (url !== null) {
          if (seen.has(url)) {
            throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response for ${symbol}: next_url ${url} was already followed (the pages loop)`), detail: { symbol, url: this.#http.redact(url) } });
          }
          seen.add(url);
        }
      }
    } finally {
      call.end();
    }
  }

  /**
   * A `next_url` as the URL to request: parsed safely (a relative one against the page's URL), its
   * `apiKey` removed (the client adds its own), and of the base URL's origin, else a protocol error:
   * the key never goes to a host the user did not name.
   */
  #nextUrl(next: string, from: string, symbol: string): string {
    const u = this.#http.parseUrl(next, from, 'next_url');
    if (!this.#http.sameOrigin(u)) {
      throw new FeedError({
        code: 'protocol',
        message: this.#http.redact(`malformed response for ${symbol}: next_url points to ${u.origin}, not ${new URL(this.baseUrl).origin} (the key goes only to the base URL's origin)`),
        detail: { symbol, url: this.#http.redact(from), refused: u.origin },
      });
    }
    u.searchParams.delete('apiKey');
    return u.toString();
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

  #parse(text: string, url: string, symbol: string): { bars: Bar[]; next: string | null; ticker: string | undefined } {
    const where = this.#http.redact(url);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not JSON (${text.length} bytes)`, detail: { url: where } });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: ${Array.isArray(body) ? 'an array' : String(body)}, not an object with results`, detail: { url: where } });
    }
    const b = body as { status?: unknown; results?: unknown; next_url?: unknown; error?: unknown; message?: unknown; ticker?: unknown };
    const ticker = typeof b.ticker === 'string' ? b.ticker : undefined;
    if (b.status === 'ERROR' || b.status === 'NOT_AUTHORIZED') {
      const said = [b.error, b.message, b.status].find((x): x is string => typeof x === 'string') ?? 'an error';
      throw new FeedError({ code: 'provider', message: this.#http.redact(`Polygon: ${said} (${where})`), detail: { status: b.status } });
    }
    const next = typeof b.next_url === 'string' && b.next_url.length > 0 ? b.next_url : null;
    if (b.next_url !== undefined && b.next_url !== null && typeof b.next_url !== 'string') {
      throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: next_url is not a string`, detail: { url: where } });
    }
    const bars: Bar[] = [];
    if (b.results === undefined || b.results === null) return { bars, next, ticker };
    if (!Array.isArray(b.results)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: results is not an array`, detail: { url: where } });
    const receivedAt = this.#http.clock.now();
    b.results.forEach((r: unknown, i: number) => {
      const bar = aggregateOf(r, symbol, receivedAt);
      if (typeof bar === 'string') throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: results[${i}]: ${bar}`, detail: { url: where, index: i } });
      bars.push(bar);
    });
    return { bars, next, ticker };
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
  if ((a.v as number) < 0) return `v is ${a.v as number}: a volume is never negative`;
  for (const k of ['o', 'h', 'l', 'c'] as const) if ((a[k] as number) <= 0) return `${k} is ${a[k] as number}: a price is > 0`;
  if (a.vw !== undefined && !isNum(a.vw)) return 'vw is not a finite number';
  if (a.n !== undefined && !isNum(a.n)) return 'n is not a finite number';
  return barFromValues(symbol, start as number, MINUTE_MS, a.o as number, a.h as number, a.l as number, a.c as number, a.v as number, isNum(a.vw) ? a.vw : Number.NaN, isNum(a.n) ? a.n : -1, receivedAt);
}
