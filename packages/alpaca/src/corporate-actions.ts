import type { CorporateAction, CorporateActionKind, CorporateActions, CorporateActionsRequest } from '@feed/core';
import { ConfigError, FeedError, makeCorporateAction } from '@feed/core';
import type { RetryingGetOptions } from '@feed/live';
import { RetryingGet, originOf, snippet } from '@feed/live';
import type { AlpacaKeys, Credentials } from './credentials.js';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import { DATA_URL } from './rest.js';

/** Options of `AlpacaCorporateActionsClient`. */
export interface CorporateActionsClientOptions extends RetryingGetOptions {
  /** @default 'https://data.alpaca.markets' */
  baseUrl?: string;
  /** @default read from the environment, like the stream */
  keys?: AlpacaKeys | Credentials;
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Alpaca's groups of the answer, and the kind each holds. */
const GROUPS: readonly (readonly [string, CorporateActionKind])[] = [
  ['forward_splits', 'forward_split'],
  ['reverse_splits', 'reverse_split'],
  ['cash_dividends', 'cash_dividend'],
];

/**
 * Alpaca's corporate actions (`GET /v1/corporate-actions`, types `forward_split`, `reverse_split`,
 * `cash_dividend`), following `next_page_token`, as `CorporateAction`s: a split's ratio is
 * `new_rate / old_rate`, a dividend's amount its `rate`; each keyed on its `ex_date`. Bounded as the
 * bars client is (timeouts, retries, 429 waits, a budget, an abort signal; a page token seen twice
 * is a protocol error), errors typed and without a secret. What it relies on is in the README.
 */
export class AlpacaCorporateActionsClient implements CorporateActions {
  readonly baseUrl: string;
  readonly #http: RetryingGet;
  #droppedUnasked = 0;

  constructor(options: CorporateActionsClientOptions = {}) {
    const credentials = resolveCredentials(options.keys, options.env ?? process.env);
    if (credentials === undefined) {
      throw new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
    }
    this.baseUrl = (options.baseUrl ?? DATA_URL).replace(/\/+$/, '');
    this.#http = new RetryingGet(options, {
      origin: originOf(this.baseUrl),
      headers: () => ({ 'APCA-API-KEY-ID': credentials.keyId, 'APCA-API-SECRET-KEY': credentials.secretKey, accept: 'application/json' }),
      secrets: () => credentials.secrets(),
      refused: () => undefined,
    });
  }

  /** Requests, retries, waits; actions dropped because they were for a symbol not asked for. */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number; redirects: number; droppedUnasked: number } {
    return { ...this.#http.stats(), droppedUnasked: this.#droppedUnasked };
  }

  async actionsBySymbol(request: CorporateActionsRequest): Promise<Map<string, CorporateAction[]>> {
    const out = new Map<string, CorporateAction[]>();
    for (const s of request.symbols) out.set(s, []);
    if (request.symbols.length === 0) return out;
    const params = new URLSearchParams({ symbols: request.symbols.join(','), types: GROUPS.map(([, k]) => k).join(','), start: request.from, end: request.to, limit: '1000', sort: 'asc' });
    const call = this.#http.call(request.signal, `corporate actions of ${snippet(request.symbols.join(','), 60)} from ${request.from} to ${request.to}`);
    try {
      const seen = new Set<string>();
      let token: string | null = null;
      do {
        if (token !== null) params.set('page_token', token);
        const url = `${this.baseUrl}/v1/corporate-actions?${params.toString()}`;
        const page = this.#parse(await this.#http.get(url, call), url);
        let kept = 0;
        for (const a of page.actions) {
          const list = out.get(a.symbol);
          if (list === undefined) {
            this.#droppedUnasked++;
            continue;
          }
          // Alpaca filters on its process date: keep the asked ex-dates.
          if (a.exDate < request.from || a.exDate > request.to) continue;
          list.push(a);
          kept++;
        }
        this.#http.page(call, Math.max(kept, page.actions.length > 0 ? 1 : 0), this.#http.redact(url));
        token = page.next;
        if (token !== null) {
          if (seen.has(token)) throw new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response from ${url}: next_page_token '${snippet(token, 40)}' was already followed (the pages loop)`) });
          seen.add(token);
        }
      } while (token !== null);
    } finally {
      call.end();
    }
    for (const list of out.values()) list.sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0));
    return out;
  }

  #parse(text: string, url: string): { actions: CorporateAction[]; next: string | null } {
    const where = this.#http.redact(url);
    const bad = (what: string): FeedError => new FeedError({ code: 'protocol', message: this.#http.redact(`malformed response from ${where}: ${what}`), detail: { url: where } });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw bad(`not JSON (${text.length} bytes)`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('not an object');
    const b = body as { corporate_actions?: unknown; next_page_token?: unknown };
    const next = b.next_page_token;
    if (next !== null && next !== undefined && typeof next !== 'string') throw bad(`next_page_token is ${snippet(JSON.stringify(next), 40)}`);
    const groups = b.corporate_actions ?? {};
    if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) throw bad("'corporate_actions' is not an object");
    const actions: CorporateAction[] = [];
    for (const [key, kind] of GROUPS) {
      const list = (groups as Record<string, unknown>)[key];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw bad(`corporate_actions.${key} is not an array`);
      for (let i = 0; i < list.length; i++) {
        const m = list[i] as Record<string, unknown> | null;
        try {
          if (typeof m !== 'object' || m === null) throw new Error('not an object');
          const symbol = m.symbol;
          const exDate = m.ex_date;
          if (typeof symbol !== 'string' || typeof exDate !== 'string') throw new Error('no symbol or ex_date');
          if (kind === 'cash_dividend') actions.push(makeCorporateAction({ symbol, kind, exDate, amount: m.rate as number, source: 'alpaca' }));
          else actions.push(makeCorporateAction({ symbol, kind, exDate, ratio: (m.new_rate as number) / (m.old_rate as number), source: 'alpaca' }));
        } catch (error) {
          throw bad(`corporate_actions.${key}[${i}]: ${snippet((error as Error).message, 120)}`);
        }
      }
    }
    return { actions, next: typeof next === 'string' && next.length > 0 ? next : null };
  }
}
