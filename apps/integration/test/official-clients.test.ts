import { Alpaca, TimeFrame } from '@alpacahq/alpaca-trade-api';
import type { Bar } from '@feed/core';
import { MINUTE_MS, makeBar } from '@feed/core';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { FakePolygonServer } from '@feed/polygon/testing';
import { restClient, websocketClient } from '@polygon.io/client-js';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The fake servers are users' test tools, and a user's code may talk to them with the providers'
 * official clients: Alpaca's SDK (@alpacahq/alpaca-trade-api 4) and Polygon's (@polygon.io/client-js
 * 8), each pointed at its fake as it would be at a proxy, must read the same bars the fakes hold.
 */
const OPEN = Date.UTC(2025, 9, 16, 13, 30); // 2025-10-16 09:30 New York
function session(symbol: string, base: number): Bar[] {
  return Array.from({ length: 391 }, (_, i) => {
    const c = Math.round((base + Math.sin(i / 7) * 2 + i * 0.01) * 100) / 100;
    return makeBar({ symbol, start: OPEN + i * MINUTE_MS, open: c, high: c + 0.25, low: c - 0.25, close: c + 0.1, volume: 1000 + i, receivedAt: OPEN + (i + 1) * MINUTE_MS });
  });
}
const ohlcv = (b: Bar): number[] => [b.start, b.open, b.high, b.low, b.close, b.volume];

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe("Alpaca's official SDK against FakeAlpacaServer", () => {
  it('pages through REST history (collectStockBarsBySymbol) and reads the stream (stockStream) bar for bar', async () => {
    const server = await FakeAlpacaServer.start();
    closers.push(() => server.close());
    const tqqq = session('TQQQ', 100);
    const sqqq = session('SQQQ', 20);
    server.addHistory([...tqqq, ...sqqq]);
    server.rest.pageLimit = 150; // several pages, across symbols
    const alpaca = new Alpaca({
      keyId: server.keys.keyId,
      secret: server.keys.secretKey,
      rateLimit: false,
      // The SDK has no data-host option: its fetch is the documented seam (a proxy in production).
      fetchApi: (input, init) => fetch(String(input).replace('https://data.alpaca.markets', server.restUrl), init),
    });
    const bySymbol = await alpaca.marketData.collectStockBarsBySymbol({
      symbols: 'TQQQ,SQQQ',
      timeframe: TimeFrame.Minute,
      start: new Date(OPEN),
      end: new Date(OPEN + 391 * MINUTE_MS),
      feed: 'iex',
    });
    const got = (symbol: string): number[][] => (bySymbol[symbol] ?? []).map((b) => [Date.parse(String(b.t)), b.o, b.h, b.l, b.c, b.v]);
    expect(got('TQQQ')).toEqual(tqqq.map(ohlcv));
    expect(got('SQQQ')).toEqual(sqqq.map(ohlcv));
    expect(server.stats.restRequests).toBeGreaterThanOrEqual(Math.ceil((2 * 391) / 150));

    const stream = alpaca.marketData.stockStream({ feed: 'iex', url: server.url() });
    closers.push(() => Promise.resolve(stream.disconnect()));
    const bars: number[][] = [];
    const all = new Promise<void>((resolve) => {
      stream.onBar((b) => {
        bars.push([Date.parse(String(b.timestamp)), b.open, b.high, b.low, b.close, b.volume]);
        if (bars.length === 30) resolve();
      });
    });
    stream.onConnect(() => stream.subscribeForBars(['TQQQ']));
    stream.connect();
    await server.waitFor((s) => s.subscribeMessages >= 1 && s.authenticated === 1);
    server.publish(tqqq.slice(0, 30), { keep: false });
    await all;
    expect(bars).toEqual(tqqq.slice(0, 30).map(ohlcv));
  }, 30_000);
});

describe("Polygon's official client against FakePolygonServer", () => {
  it('asks for dates (YYYY-MM-DD) and for millisecond timestamps, follows next_url, and reads the AM stream', async () => {
    const server = await FakePolygonServer.start({ pageSize: 100 });
    closers.push(() => server.close());
    const tqqq = session('TQQQ', 100);
    server.addBars(tqqq);
    const rest = restClient(server.apiKey, server.url, { pagination: true });
    for (const [from, to] of [
      ['2025-10-16', '2025-10-16'],
      [String(OPEN), String(OPEN + 390 * MINUTE_MS)],
    ] as const) {
      const r = await rest.getStocksAggregates('TQQQ', 1, 'minute' as never, from, to, true, 'asc' as never, 50_000);
      const results = (r as { results?: { t: number; o: number; h: number; l: number; c: number; v: number }[] }).results ?? [];
      // client-js 8.2.0 joins the pages it follows last page first; in time order they are the session.
      const rows = results.map((x) => [x.t, x.o, x.h, x.l, x.c, x.v]).sort((a, b) => (a[0] as number) - (b[0] as number));
      expect(rows, `${from}..${to}`).toEqual(tqqq.map(ohlcv));
    }
    expect(server.requests.some((u) => u.includes('/range/1/minute/2025-10-16/2025-10-16'))).toBe(true);
    expect(server.requests.filter((u) => u.includes('limit=100'))).toHaveLength(2 * 3); // next_url pages, both forms

    const base = server.wsUrl.replace(/\/stocks$/, '');
    // Its socket type comes from the `websocket` package, whose types it does not ship: the part used here.
    const ws = websocketClient(server.apiKey, base).stocks() as unknown as { onmessage: (e: { data: unknown }) => void; send(s: string): void; close(): void };
    closers.push(() => Promise.resolve(ws.close()));
    const bars: number[][] = [];
    const all = new Promise<void>((resolve) => {
      ws.onmessage = ({ data }: { data: unknown }) => {
        for (const m of JSON.parse(String(data)) as { ev: string; status?: string; s?: number; o: number; h: number; l: number; c: number; v: number }[]) {
          if (m.ev === 'status' && m.status === 'auth_success') ws.send(JSON.stringify({ action: 'subscribe', params: 'AM.TQQQ' }));
          if (m.ev === 'AM') bars.push([m.s as number, m.o, m.h, m.l, m.c, m.v]);
        }
        if (bars.length === 30) resolve();
      };
    });
    await waitUntil(() => server.subscribeMessages >= 1);
    server.publish(tqqq.slice(0, 30), { keep: false });
    await all;
    expect(bars).toEqual(tqqq.slice(0, 30).map(ohlcv));
  }, 30_000);
});

/** Polls a condition on the event loop (no timers to fake: real sockets). */
async function waitUntil(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
