import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bar, CorporateAction } from '@feed/core';
import { makeBar } from '@feed/core';
import type { AlpacaKeys } from '../credentials.js';
import type { BarStore } from './bar-store.js';
import { formatTime } from './time-format.js';

/**
 * One planned answer of the fake REST endpoint:
 * - an HTTP status (429 carries `X-RateLimit-*` headers with a reset one second ahead);
 * - `'malformed'`: a 200 whose body is not JSON; `'bad-field'`: a bar without `o`;
 * - `'hang'`: never answers (the request stays open until the client gives up);
 * - `'loop-token'`: a normal page whose `next_page_token` is the token of this very page;
 * - `'echo-secret'`: a 200 whose body starts with the secret key, as a misconfigured proxy might;
 * - `{ status: 429, retryAfter }`: 429 with `Retry-After` (seconds or an HTTP date) and no reset header;
 * - `{ status: 429, resetAt }`: 429 with `X-RateLimit-Reset` at this epoch second;
 * - `{ status: 429, headers: false }`: 429 with no header at all.
 */
export type RestFault =
  | number
  | 'malformed'
  | 'bad-field'
  | 'hang'
  | 'loop-token'
  | 'echo-secret'
  | { readonly status: 429; readonly retryAfter?: string; readonly resetAt?: number; readonly headers?: false };

/** Faults and limits of the fake REST endpoint; change them between requests. */
export interface RestFaults {
  /** The next requests answer with these, in order. */
  failNext: RestFault[];
  /** Every request answers with this fault (after `failNext` is used up), until set back to undefined. */
  always?: RestFault | undefined;
  /** The next this-many requests get 429 with `X-RateLimit-Reset` one second ahead. */
  rateLimitNext: number;
  /** The most bars one page holds, whatever `limit` asks (to force pagination). */
  pageLimit: number;
}

interface Context {
  readonly keys: AlpacaKeys;
  readonly store: BarStore;
  readonly faults: RestFaults;
  /** Epoch ms now, for rate-limit reset times. */
  readonly now: () => number;
  /** Holds a request without an answer (ended on close). */
  readonly hold: (res: ServerResponse) => void;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function parseTime(text: string | null, fallback: number): number {
  if (text === null || text === '') return fallback;
  return Date.parse(text);
}

/** Minute bars grouped into bars of `spanMs`, aligned to the epoch (whole hours in every zone Alpaca serves). */
function group(minutes: readonly Bar[], spanMs: number): Bar[] {
  const out: Bar[] = [];
  let cur: { symbol: string; start: number; open: number; high: number; low: number; close: number; volume: number } | undefined;
  const flush = (): void => {
    if (cur !== undefined) out.push(makeBar({ ...cur, receivedAt: cur.start + spanMs }, spanMs));
  };
  for (const b of minutes) {
    const start = Math.floor(b.start / spanMs) * spanMs;
    if (cur === undefined || cur.start !== start) {
      flush();
      cur = { symbol: b.symbol, start, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume };
    } else {
      cur.high = Math.max(cur.high, b.high);
      cur.low = Math.min(cur.low, b.low);
      cur.close = b.close;
      cur.volume += b.volume;
    }
  }
  flush();
  return out;
}

/**
 * The checks and planned faults every endpoint shares: the keys, then the next fault. Returns the
 * fault still to apply to a normal answer (`bad-field`, `loop-token`), or `'answered'`.
 */
function common(req: IncomingMessage, res: ServerResponse, ctx: Context): RestFault | undefined | 'answered' {
  if (req.headers['apca-api-key-id'] !== ctx.keys.keyId || req.headers['apca-api-secret-key'] !== ctx.keys.secretKey) {
    send(res, 401, { message: 'unauthorized.' });
    return 'answered';
  }
  const fault = ctx.faults.failNext.shift() ?? ctx.faults.always;
  const resetAt = String(Math.ceil(ctx.now() / 1000) + 1);
  if (ctx.faults.rateLimitNext > 0 || fault === 429) {
    if (fault !== 429) ctx.faults.rateLimitNext--;
    send(res, 429, { message: 'too many requests.' }, {
      'x-ratelimit-limit': '200',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': resetAt,
    });
    return 'answered';
  }
  if (typeof fault === 'object') {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
    if (fault.resetAt !== undefined) headers['x-ratelimit-reset'] = String(fault.resetAt);
    send(res, 429, { message: 'too many requests.' }, headers);
    return 'answered';
  }
  if (fault === 'hang') {
    ctx.hold(res);
    return 'answered';
  }
  if (fault === 'malformed') {
    send(res, 200, '{"bars": {"TQQQ": [ {"t": ');
    return 'answered';
  }
  if (fault === 'echo-secret') {
    send(res, 200, `${ctx.keys.secretKey} is not a valid request`);
    return 'answered';
  }
  if (typeof fault === 'number') {
    send(res, fault, { message: fault === 403 ? 'subscription does not permit querying recent SIP data' : `error ${fault}` });
    return 'answered';
  }
  return fault;
}

/** `GET /v2/stocks/bars` as Alpaca serves it: multi-symbol, `limit` across symbols, `next_page_token`. */
export function handleBarsRequest(req: IncomingMessage, res: ServerResponse, ctx: Context): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET' || url.pathname !== '/v2/stocks/bars') {
    send(res, 404, { message: 'not found' });
    return;
  }
  const fault = common(req, res, ctx);
  if (fault === 'answered') return;
  const q = url.searchParams;
  const symbols = (q.get('symbols') ?? '').split(',').filter(Boolean);
  const timeframe = q.get('timeframe');
  // [1-59]Min or [1-59]T, as Alpaca documents; a multi-minute bar groups the minutes of its clock
  // interval (5Min: :00, :05, ...; Alpaca's own answer: "always starting at N * n"), labeled by its start.
  const tf = /^([1-9]|[1-5][0-9])(Min|T)$/.exec(timeframe ?? '');
  if (symbols.length === 0 || tf === null) {
    send(res, 422, { message: symbols.length === 0 ? 'missing symbols' : `unsupported timeframe ${String(timeframe)}` });
    return;
  }
  const spanMs = Number(tf[1]) * 60_000;
  const start = parseTime(q.get('start'), 0);
  const end = parseTime(q.get('end'), Number.MAX_SAFE_INTEGER);
  if (Number.isNaN(start) || Number.isNaN(end)) {
    send(res, 422, { message: 'invalid start or end' });
    return;
  }
  const limit = Math.min(Number(q.get('limit') ?? 1000) || 1000, 10_000, ctx.faults.pageLimit);
  let offset = 0;
  const token = q.get('page_token');
  if (token) offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
  // Alpaca orders a multi-symbol response by symbol, then time.
  const all: Bar[] = [];
  for (const s of [...symbols].sort()) all.push(...(spanMs === 60_000 ? ctx.store.range(s, start, end) : group(ctx.store.range(s, start, end), spanMs)));
  const page = all.slice(offset, offset + limit);
  const bars: Record<string, Record<string, unknown>[]> = {};
  for (const b of page) {
    const m: Record<string, unknown> = { t: formatTime(b.start), o: b.open, h: b.high, l: b.low, c: b.close, v: b.volume };
    if (b.tradeCount !== undefined) m.n = b.tradeCount;
    if (b.vwap !== undefined) m.vw = b.vwap;
    if (fault === 'bad-field') delete m.o;
    (bars[b.symbol] ??= []).push(m);
  }
  const next =
    fault === 'loop-token'
      ? Buffer.from(String(offset)).toString('base64url')
      : offset + limit < all.length
        ? Buffer.from(String(offset + limit)).toString('base64url')
        : null;
  send(res, 200, { bars, next_page_token: next });
}

/** What the corporate-actions endpoint serves. */
export interface ActionsContext extends Context {
  readonly actions: readonly CorporateAction[];
}

/**
 * `GET /v1/corporate-actions` as Alpaca documents it: `symbols`, `types` (`forward_split`,
 * `reverse_split`, `cash_dividend`, ...), `start`/`end` (dates, inclusive, on the ex-date here),
 * `limit` (at most 1000, and `pageLimit`), `sort`, `page_token`; the answer groups the actions by type
 * (`forward_splits`, `reverse_splits`, `cash_dividends`, each with `symbol`, `ex_date`, ...,
 * `old_rate`/`new_rate` or `rate`) and carries `next_page_token`. The same faults as the bars.
 */
export function handleActionsRequest(req: IncomingMessage, res: ServerResponse, ctx: ActionsContext): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const fault = common(req, res, ctx);
  if (fault === 'answered') return;
  const q = url.searchParams;
  const symbols = new Set((q.get('symbols') ?? '').split(',').filter(Boolean));
  const types = new Set((q.get('types') ?? 'forward_split,reverse_split,cash_dividend').split(',').filter(Boolean));
  const start = q.get('start') ?? '0000-00-00';
  const end = q.get('end') ?? '9999-99-99';
  const limit = Math.min(Number(q.get('limit') ?? 100) || 100, 1000, ctx.faults.pageLimit);
  const token = q.get('page_token');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  const all = ctx.actions
    .filter((a) => (symbols.size === 0 || symbols.has(a.symbol)) && types.has(a.kind) && a.exDate >= start && a.exDate <= end)
    .sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : a.symbol < b.symbol ? -1 : 1));
  const page = all.slice(offset, offset + limit);
  const groups: Record<string, Record<string, unknown>[]> = {};
  for (const a of page) {
    const dates = { process_date: a.exDate, ex_date: a.exDate, record_date: a.exDate, payable_date: a.exDate };
    if (a.kind === 'cash_dividend') (groups.cash_dividends ??= []).push({ symbol: a.symbol, rate: fault === 'bad-field' ? 'x' : a.amount, special: false, foreign: false, ...dates });
    else {
      // Rates as Alpaca writes them: whole numbers of shares (1 old for 10 new, 10 old for 1 new).
      const [oldRate, newRate] = (a.ratio as number) >= 1 ? [1, a.ratio as number] : [Math.round(1 / (a.ratio as number)), 1];
      (groups[a.kind === 'forward_split' ? 'forward_splits' : 'reverse_splits'] ??= []).push({ symbol: a.symbol, old_rate: oldRate, new_rate: fault === 'bad-field' ? null : newRate, ...dates });
    }
  }
  const next = fault === 'loop-token' ? Buffer.from(String(offset)).toString('base64url') : offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
  send(res, 200, { corporate_actions: groups, next_page_token: next });
}
