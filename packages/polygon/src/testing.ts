/**
 * A fake Polygon (Massive) REST server for tests, on 127.0.0.1: the minute aggregates endpoint with
 * pagination by `next_url`, the key checked as Polygon checks it (`apiKey` query parameter), and
 * faults to inject (429 with `Retry-After`, 5xx, a `next_url` that repeats, a stalled response).
 * `@feed/polygon/testing`, as `@feed/alpaca/testing` has Alpaca's.
 * @module @feed/polygon/testing
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bar, CorporateAction, TradingStatus } from '@feed/core';
import { NEW_YORK, zonedTimeToEpoch } from '@feed/core';
import type { TestServer } from '@feed/live/testing';
import { startTestServer } from '@feed/live/testing';
import type { WebSocket } from 'ws';

/** A fault for the next request(s): served instead of the answer. */
export type PolygonFault =
  | { readonly status: 429; readonly retryAfter?: string }
  | { readonly status: 500 | 502 | 503 }
  | { readonly status: 'loop' }
  | { readonly status: 'malformed' }
  /** No answer at all, until the server closes (a client's timeout or deadline must end the wait). */
  | { readonly status: 'hang' };

/** Options of `FakePolygonServer.start`. */
export interface FakePolygonOptions {
  /** @default 'FAKEPOLYGONKEY' */
  readonly apiKey?: string;
  /** Results per page (Polygon's `limit` caps it too). @default 50000 */
  readonly pageSize?: number;
}

/** A client of the fake stream: authenticated or not, its subscriptions. */
interface StreamClient {
  readonly socket: WebSocket;
  authenticated: boolean;
  readonly subscriptions: Set<string>;
  /** Symbols subscribed on `LULD.<SYMBOL>`. */
  readonly luld: Set<string>;
}

/**
 * The fake server (see the module's comment), and the stream: `wsUrl` speaks Polygon's WebSocket
 * protocol (a `connected` status on open, `auth` with the key, `subscribe` to `AM.<SYMBOL>` answered
 * by one `success` status per symbol, per-minute aggregates `ev: "AM"`).
 */
export class FakePolygonServer {
  readonly apiKey: string;
  /** The shared HTTP + WebSocket scaffolding (`@feed/live/testing`); the protocol is this class's. */
  #server: TestServer | undefined;
  #ignorePings = false;
  /** Pings received from clients (each answered with a pong unless `ignorePings(true)`). */
  pingsReceived = 0;
  readonly #clients = new Set<StreamClient>();
  /** At most this many authenticated streams at once; one more gets `max_connections` and is closed. */
  maxConnections = Infinity;
  /** Subscribe messages received, over all clients. */
  subscribeMessages = 0;
  readonly #bars = new Map<string, Bar[]>();
  readonly #faults: PolygonFault[] = [];
  #pageSize: number;
  /** Requests served, with the key removed from their URLs. */
  readonly requests: string[] = [];
  /** Authentications refused with `max_connections` by `refuseConnections()`. */
  refusedConnections = 0;
  #refuseNext = 0;
  readonly #muted = new Set<WebSocket>();
  readonly #actions: CorporateAction[] = [];
  #luldSeq = 0;

  private constructor(options: FakePolygonOptions) {
    this.apiKey = options.apiKey ?? 'FAKEPOLYGONKEY';
    this.#pageSize = options.pageSize ?? 50_000;
  }

  static async start(options: FakePolygonOptions = {}): Promise<FakePolygonServer> {
    const self = new FakePolygonServer(options);
    self.#server = await startTestServer({ http: (req, res) => self.handle(req, res), ws: (ws) => self.#onStream(ws), autoPong: false });
    return self;
  }

  get #kit(): TestServer {
    return this.#server as TestServer;
  }

  /** The REST base URL (`baseUrl` of `PolygonHistoricalClient`). */
  get url(): string {
    return this.#kit.httpUrl;
  }

  /** Results per page from now on. */
  set pageSize(n: number) {
    this.#pageSize = n;
  }

  /** Stores bars for the aggregates endpoint (a bar with the start of a stored one replaces it). */
  addBars(bars: Iterable<Bar>): void {
    for (const b of bars) {
      const list = this.#bars.get(b.symbol) ?? [];
      const i = list.findIndex((x) => x.start === b.start);
      if (i >= 0) list[i] = b;
      else list.push(b);
      list.sort((x, y) => x.start - y.start);
      this.#bars.set(b.symbol, list);
    }
  }

  /** Faults served, in order, to the next requests. */
  fault(...faults: PolygonFault[]): void {
    this.#faults.push(...faults);
  }

  /** The stream's URL (`url` of `PolygonMultiSymbolFeed`). */
  get wsUrl(): string {
    return this.#kit.wsUrl('/stocks');
  }

  /**
   * Sends bars as per-minute aggregates (`AM`) to every client subscribed to their symbol, in frames
   * of `frameSize` messages; also keeps them for the REST endpoint unless `keep: false`.
   */
  publish(bars: readonly Bar[], options: { frameSize?: number; keep?: boolean } = {}): void {
    if (options.keep !== false) this.addBars(bars);
    const size = options.frameSize ?? 100;
    for (const c of this.#clients) {
      if (this.#muted.has(c.socket)) continue;
      const mine = bars.filter((b) => c.authenticated && c.subscriptions.has(b.symbol));
      for (let i = 0; i < mine.length; i += size) {
        c.socket.send(
          JSON.stringify(
            mine.slice(i, i + size).map((b) => ({ ev: 'AM', sym: b.symbol, v: b.volume, av: b.volume, op: b.open, vw: b.vwap, o: b.open, c: b.close, h: b.high, l: b.low, a: b.vwap, z: 1, n: b.tradeCount, s: b.start, e: b.end })),
          ),
        );
      }
    }
  }

  /**
   * Sends trading statuses as Polygon `LULD` events to every client subscribed to `LULD.<SYMBOL>`:
   * a halt as indicator 17, a resumption as 18, a band (kind `luld`) with its `h`/`l` and its code's
   * numeric indicators; timestamps in nanoseconds, as Polygon's sample shows them.
   */
  publishStatus(statuses: readonly TradingStatus[]): number {
    let sent = 0;
    for (const c of this.#clients) {
      if (!c.authenticated || this.#muted.has(c.socket)) continue;
      const mine = statuses.filter((x) => c.luld.has(x.symbol));
      if (mine.length === 0) continue;
      c.socket.send(
        JSON.stringify(
          mine.map((x) => {
            const indicators = x.effect === 'halt' ? [17] : x.effect === 'resume' ? [18] : x.code.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
            return { ev: 'LULD', T: x.symbol, ...(x.limitUp === undefined ? {} : { h: x.limitUp }), ...(x.limitDown === undefined ? {} : { l: x.limitDown }), i: indicators, z: 3, t: x.at * 1e6, q: ++this.#luldSeq };
          }),
        ),
      );
      sent += mine.length;
    }
    return sent;
  }

  /** Sends a raw text frame to every client (a malformed frame, an unknown message). */
  sendRaw(text: string): void {
    for (const c of this.#clients) c.socket.send(text);
  }

  /** Sends a status message to every client. */
  sendStatus(status: string, message: string): void {
    this.sendRaw(JSON.stringify([{ ev: 'status', status, message }]));
  }

  /** The next `attempts` authentications get `max_connections` (another program holds the stream), then they succeed. */
  refuseConnections(attempts: number): void {
    this.#refuseNext = attempts;
  }

  /**
   * Mutes the connected clients (`publish` sends them nothing; the bars still go to REST): a
   * connection that answers pings but delivers no data. A client that connects later is not muted;
   * `silence(false)` unmutes them all.
   */
  silence(on: boolean): void {
    this.#muted.clear();
    if (on) for (const c of this.#clients) this.#muted.add(c.socket);
  }

  /** REST requests held without an answer now (`hang` faults). */
  get hangingRequests(): number {
    return this.#kit.held;
  }

  /** Faults queued and not yet served. */
  get faultsLeft(): number {
    return this.#faults.length;
  }

  /** Drops every stream connection without a close frame (a network failure). */
  drop(): void {
    for (const c of this.#clients) c.socket.terminate();
    this.#clients.clear();
  }

  /** Stops (or resumes) answering pings: a client's keep-alive then sees a dead connection. */
  ignorePings(on: boolean): void {
    this.#ignorePings = on;
  }

  /** Authenticated stream clients now. */
  get streams(): number {
    return [...this.#clients].filter((c) => c.authenticated).length;
  }

  #onStream(socket: WebSocket): void {
    const client: StreamClient = { socket, authenticated: false, subscriptions: new Set(), luld: new Set() };
    this.#clients.add(client);
    socket.on('close', () => this.#clients.delete(client));
    socket.on('ping', (data) => {
      this.pingsReceived++;
      if (!this.#ignorePings) socket.pong(data);
    });
    socket.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
    socket.on('message', (data) => {
      let m: { action?: unknown; params?: unknown };
      try {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
        m = JSON.parse(text) as typeof m;
      } catch {
        socket.send(JSON.stringify([{ ev: 'status', status: 'error', message: 'invalid JSON' }]));
        return;
      }
      if (m.action === 'auth') {
        if (m.params !== this.apiKey) {
          socket.send(JSON.stringify([{ ev: 'status', status: 'auth_failed', message: 'authentication failed' }]));
          socket.close();
          return;
        }
        if (this.#refuseNext > 0 || this.streams >= this.maxConnections) {
          if (this.#refuseNext > 0) {
            this.#refuseNext--;
            this.refusedConnections++;
          }
          socket.send(JSON.stringify([{ ev: 'status', status: 'max_connections', message: 'Maximum number of websocket connections exceeded. You have reached the connection limit for your account.' }]));
          socket.close(1008);
          return;
        }
        client.authenticated = true;
        socket.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
        return;
      }
      if (!client.authenticated) {
        socket.send(JSON.stringify([{ ev: 'status', status: 'error', message: 'not authorized' }]));
        return;
      }
      const params = typeof m.params === 'string' ? m.params.split(',').map((p) => p.trim()) : [];
      if (m.action === 'subscribe') {
        this.subscribeMessages++;
        const replies = params.map((p) => {
          if (p.startsWith('AM.')) client.subscriptions.add(p.slice(3));
          if (p.startsWith('LULD.')) client.luld.add(p.slice(5));
          return { ev: 'status', status: 'success', message: `subscribed to: ${p}` };
        });
        socket.send(JSON.stringify(replies));
      } else if (m.action === 'unsubscribe') {
        for (const p of params) {
          if (p.startsWith('AM.')) client.subscriptions.delete(p.slice(3));
          if (p.startsWith('LULD.')) client.luld.delete(p.slice(5));
        }
        socket.send(JSON.stringify(params.map((p) => ({ ev: 'status', status: 'success', message: `unsubscribed to: ${p}` }))));
      }
    });
  }

  async close(): Promise<void> {
    await this.#kit.close();
  }

  /** Corporate actions the reference endpoints serve (`/v3/reference/splits`, `/v3/reference/dividends`). */
  addCorporateActions(actions: Iterable<CorporateAction>): void {
    for (const a of actions) this.#actions.push(a);
  }

  /** `GET /v3/reference/splits` and `/v3/reference/dividends`: by `ticker`, the date range, `limit`, `next_url`; the aggregates' faults. */
  #reference(u: URL, json: (status: number, body: unknown) => void, res: ServerResponse): void {
    const fault = this.#faults.shift();
    if (fault?.status === 'hang') {
      this.#kit.hold(res);
      return;
    }
    if (fault?.status === 429 || fault?.status === 500 || fault?.status === 502 || fault?.status === 503) {
      json(fault.status, { status: 'ERROR', error: fault.status === 429 ? "You've exceeded the maximum requests per minute" : 'internal error' });
      return;
    }
    if (fault?.status === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results": [');
      return;
    }
    const ticker = u.searchParams.get('ticker');
    const splits = u.pathname.endsWith('/splits');
    const field = splits ? 'execution_date' : 'ex_dividend_date';
    const gte = u.searchParams.get(`${field}.gte`) ?? '0000-00-00';
    const lte = u.searchParams.get(`${field}.lte`) ?? '9999-99-99';
    const all = this.#actions
      .filter((a) => (ticker === null || a.symbol === ticker) && (splits ? a.kind !== 'cash_dividend' : a.kind === 'cash_dividend') && a.exDate >= gte && a.exDate <= lte)
      .sort((a, b) => (a.exDate < b.exDate ? -1 : 1));
    const { page, next } = referencePage(all, u, this.url, this.#pageSize);
    const results = page.map((a) => {
      if (a.kind === 'cash_dividend') return { ticker: a.symbol, ex_dividend_date: a.exDate, cash_amount: a.amount, currency: 'USD', dividend_type: 'CD', pay_date: a.exDate, record_date: a.exDate };
      // Whole shares, as Polygon writes them: 10 from 1 (2-for-1: from 1 to 2; 1-for-10: from 10 to 1).
      const [from, to] = (a.ratio as number) >= 1 ? [1, a.ratio as number] : [Math.round(1 / (a.ratio as number)), 1];
      return { ticker: a.symbol, execution_date: a.exDate, split_from: from, split_to: to, id: `${a.symbol}-${a.exDate}` };
    });
    json(200, { status: 'OK', request_id: 'fake', results, ...(next === undefined ? {} : { next_url: next }) });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', this.url);
    const key = u.searchParams.get('apiKey');
    u.searchParams.delete('apiKey');
    this.requests.push(u.pathname + u.search);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (key !== this.apiKey) {
      json(401, { status: 'ERROR', request_id: 'fake', error: 'Unknown API Key' });
      return;
    }
    if (u.pathname === '/v3/reference/splits' || u.pathname === '/v3/reference/dividends') {
      this.#reference(u, json, res);
      return;
    }
    // `from` and `to` are millisecond timestamps or dates (YYYY-MM-DD), as Polygon documents; a date
    // is taken as that New York calendar day (from its first millisecond, to its last).
    const m = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/1\/minute\/(\d+|\d{4}-\d{2}-\d{2})\/(\d+|\d{4}-\d{2}-\d{2})$/.exec(u.pathname);
    if (m === null) {
      json(404, { status: 'NOT_FOUND', request_id: 'fake', message: 'no such endpoint' });
      return;
    }
    const fault = this.#faults.shift();
    if (fault?.status === 'hang') {
      this.#kit.hold(res);
      return;
    }
    if (fault?.status === 429) {
      json(429, { status: 'ERROR', error: "You've exceeded the maximum requests per minute" }, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
      return;
    }
    if (fault?.status === 500 || fault?.status === 502 || fault?.status === 503) {
      json(fault.status, { status: 'ERROR', error: 'internal error' });
      return;
    }
    if (fault?.status === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results": [');
      return;
    }
    const symbol = decodeURIComponent(m[1] as string);
    const from = rangeEnd(m[2] as string, 'from');
    const to = rangeEnd(m[3] as string, 'to');
    const limit = Math.min(Number(u.searchParams.get('limit') ?? 50_000), this.#pageSize);
    const all = (this.#bars.get(symbol) ?? []).filter((b) => b.start >= from && b.start <= to);
    const page = all.slice(0, limit);
    const rest = all.length - page.length;
    const nextFrom = fault?.status === 'loop' ? from : (all[limit]?.start ?? 0);
    const next = rest > 0 || fault?.status === 'loop' ? `${this.url}/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/minute/${nextFrom}/${to}?adjusted=${u.searchParams.get('adjusted') ?? 'true'}&sort=asc&limit=${limit}` : undefined;
    json(200, {
      ticker: symbol,
      queryCount: page.length,
      resultsCount: page.length,
      adjusted: u.searchParams.get('adjusted') !== 'false',
      results: page.map((b) => ({ v: b.volume, vw: b.vwap, o: b.open, c: b.close, h: b.high, l: b.low, t: b.start, n: b.tradeCount })),
      status: 'OK',
      request_id: 'fake',
      count: page.length,
      ...(next === undefined ? {} : { next_url: next }),
    });
  }
}

/** One page of a reference endpoint's results after `offset`, and the `next_url` of the rest. */
function referencePage<T>(all: readonly T[], u: URL, base: string, pageSize: number): { page: T[]; next: string | undefined } {
  const offset = Number(u.searchParams.get('cursor') ?? 0);
  const limit = Math.min(Number(u.searchParams.get('limit') ?? 10) || 10, 1000, pageSize);
  const page = all.slice(offset, offset + limit);
  if (offset + limit >= all.length) return { page, next: undefined };
  const next = new URL(u.pathname, base);
  next.searchParams.set('cursor', String(offset + limit));
  next.searchParams.set('limit', String(limit));
  for (const [k, v] of u.searchParams) if (k !== 'cursor' && k !== 'limit') next.searchParams.set(k, v);
  return { page, next: next.toString() };
}

/** A range end of the aggregates path: milliseconds, or a date's first (`from`) or last (`to`) millisecond in New York. */
function rangeEnd(text: string, end: 'from' | 'to'): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (d === null) return Number(text);
  const [y, mo, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  if (end === 'from') return zonedTimeToEpoch(NEW_YORK, y, mo, day);
  const next = new Date(Date.UTC(y, mo - 1, day + 1));
  return zonedTimeToEpoch(NEW_YORK, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) - 1;
}
