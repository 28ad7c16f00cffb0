/**
 * A fake Polygon (Massive) REST server for tests, on 127.0.0.1: the minute aggregates endpoint with
 * pagination by `next_url`, the key checked as Polygon checks it (`apiKey` query parameter), and
 * faults to inject (429 with `Retry-After`, 5xx, a `next_url` that repeats, a stalled response).
 * `@feed/polygon/testing`, as `@feed/alpaca/testing` has Alpaca's.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bar } from '@feed/core';

/** A fault for the next request(s): served instead of the answer. */
export type PolygonFault =
  | { readonly status: 429; readonly retryAfter?: string }
  | { readonly status: 500 | 502 | 503 }
  | { readonly status: 'loop' }
  | { readonly status: 'malformed' };

/** Options of `FakePolygonServer.start`. */
export interface FakePolygonOptions {
  /** @default 'FAKEPOLYGONKEY' */
  readonly apiKey?: string;
  /** Results per page (Polygon's `limit` caps it too). @default 50000 */
  readonly pageSize?: number;
}

/** The fake server (see the module's comment). */
export class FakePolygonServer {
  readonly apiKey: string;
  readonly #server: Server;
  readonly #bars = new Map<string, Bar[]>();
  readonly #faults: PolygonFault[] = [];
  #pageSize: number;
  /** Requests served, with the key removed from their URLs. */
  readonly requests: string[] = [];

  private constructor(server: Server, options: FakePolygonOptions) {
    this.#server = server;
    this.apiKey = options.apiKey ?? 'FAKEPOLYGONKEY';
    this.#pageSize = options.pageSize ?? 50_000;
  }

  static async start(options: FakePolygonOptions = {}): Promise<FakePolygonServer> {
    const holder: { self?: FakePolygonServer } = {};
    const server = createServer((req, res) => holder.self?.handle(req, res));
    const self = new FakePolygonServer(server, options);
    holder.self = self;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** The REST base URL (`baseUrl` of `PolygonHistoricalClient`). */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
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

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
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
    const m = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/1\/minute\/(\d+)\/(\d+)$/.exec(u.pathname);
    if (m === null) {
      json(404, { status: 'NOT_FOUND', request_id: 'fake', message: 'no such endpoint' });
      return;
    }
    const fault = this.#faults.shift();
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
    const from = Number(m[2]);
    const to = Number(m[3]);
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
