import type { CorporateAction, CorporateActions, CorporateActionsRequest } from '@feed/core';
import { ConfigError, FeedError, makeCorporateAction } from '@feed/core';
import type { RetryingGetOptions } from '@feed/live';
import { RetryingGet, originOf, snippet } from '@feed/live';
import { KEY_VARIABLE, POLYGON_URL } from './history.js';

/** Options of `PolygonCorporateActionsClient`. */
export interface PolygonCorporateActionsOptions extends RetryingGetOptions {
  /** @default process.env.POLYGON_API_KEY */
  apiKey?: string;
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default 'https://api.polygon.io' */
  baseUrl?: string;
}

/**
 * Polygon's (Massive's) splits (`GET /v3/reference/splits`: `execution_date`, `split_from`,
 * `split_to`) and dividends (`GET /v3/reference/dividends`: `ex_dividend_date`, `cash_amount`) as
 * `CorporateAction`s, one symbol at a time, following `next_url` within the base URL's origin (the
 * key attached again, never shown). A split's ratio is `split_to / split_from` (forward above 1,
 * reverse below). Bounded as the aggregates client is. What it relies on is in the README.
 */
export class PolygonCorporateActionsClient implements CorporateActions {
  readonly baseUrl: string;
  readonly #http: RetryingGet;

  constructor(options: PolygonCorporateActionsOptions = {}) {
    const key = options.apiKey ?? (options.env ?? process.env)[KEY_VARIABLE];
    if (key === undefined || key === '') {
      throw new ConfigError({ code: 'invalid_option', message: `no Polygon key: set ${KEY_VARIABLE}, or pass apiKey`, issues: [{ path: 'apiKey', message: `not given and ${KEY_VARIABLE} is not set` }], source: 'environment' });
    }
    this.baseUrl = (options.baseUrl ?? POLYGON_URL).replace(/\/+$/, '');
    this.#http = new RetryingGet(options, {
      origin: originOf(this.baseUrl),
      headers: () => ({ accept: 'application/json' }),
      authorize: (u) => {
        u.searchParams.set('apiKey', key);
        return u;
      },
      secrets: () => [key],
    });
  }

  async actionsBySymbol(request: CorporateActionsRequest): Promise<Map<string, CorporateAction[]>> {
    const out = new Map<string, CorporateAction[]>();
    for (const symbol of request.symbols) {
      const t = encodeURIComponent(symbol);
      const splits = await this.#all(`${this.baseUrl}/v3/reference/splits?ticker=${t}&execution_date.gte=${request.from}&execution_date.lte=${request.to}&limit=1000`, symbol, request.signal);
      const dividends = await this.#all(`${this.baseUrl}/v3/reference/dividends?ticker=${t}&ex_dividend_date.gte=${request.from}&ex_dividend_date.lte=${request.to}&limit=1000`, symbol, request.signal);
      const list: CorporateAction[] = [];
      const make = (what: string, i: number, f: () => CorporateAction): void => {
        try {
          list.push(f());
        } catch (error) {
          throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed ${what} for ${symbol}: results[${i}]: ${snippet((error as Error).message, 120)}`), detail: { symbol } });
        }
      };
      splits.forEach((r, i) =>
        make('splits', i, () => {
          const ratio = (r.split_to as number) / (r.split_from as number);
          return makeCorporateAction({ symbol, kind: ratio >= 1 ? 'forward_split' : 'reverse_split', exDate: r.execution_date as string, ratio, source: 'polygon' });
        }),
      );
      dividends.forEach((r, i) => make('dividends', i, () => makeCorporateAction({ symbol, kind: 'cash_dividend', exDate: r.ex_dividend_date as string, amount: r.cash_amount as number, source: 'polygon' })));
      out.set(symbol, list.filter((a) => a.exDate >= request.from && a.exDate <= request.to).sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0)));
    }
    return out;
  }

  /** Every result of a paged endpoint, for `symbol` (results of another ticker are left out). */
  async #all(first: string, symbol: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>[]> {
    const call = this.#http.call(signal, `reference data of ${symbol}`);
    const out: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let url: string | null = first;
    try {
      while (url !== null) {
        const where = this.#http.redact(url);
        let body: unknown;
        try {
          body = JSON.parse(await this.#http.get(url, call));
        } catch (error) {
          if (FeedError.isInstance(error)) throw error;
          throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not JSON`, detail: { url: where } });
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: not an object`, detail: { url: where } });
        const b = body as { results?: unknown; next_url?: unknown };
        const results = b.results ?? [];
        if (!Array.isArray(results)) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: results is not an array`, detail: { url: where } });
        let fresh = 0;
        for (const r of results) {
          if (typeof r !== 'object' || r === null) throw new FeedError({ code: 'protocol', message: `malformed response from ${where}: a result is not an object`, detail: { url: where } });
          if ((r as { ticker?: unknown }).ticker !== undefined && (r as { ticker?: unknown }).ticker !== symbol) continue;
          out.push(r as Record<string, unknown>);
          fresh++;
        }
        this.#http.page(call, Math.max(fresh, results.length > 0 ? 1 : 0), where);
        url = null;
        if (typeof b.next_url === 'string' && b.next_url.length > 0) {
          const u = this.#http.parseUrl(b.next_url, where, 'next_url');
          if (!this.#http.sameOrigin(u)) throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response: next_url points to ${u.origin}, not ${new URL(this.baseUrl).origin} (the key goes only to the base URL's origin)`), detail: { refused: u.origin } });
          u.searchParams.delete('apiKey');
          url = u.toString();
          if (seen.has(url)) throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response: next_url ${url} was already followed (the pages loop)`) });
          seen.add(url);
        }
      }
    } finally {
      call.end();
    }
    return out;
  }
}
