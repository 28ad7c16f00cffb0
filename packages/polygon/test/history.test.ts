import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '@feed/core';
import { ConfigError, FeedError, HttpError, MINUTE_MS, ManualClock, barFromValues } from '@feed/core';
import type { RetryInfo } from '@feed/live';
import { PolygonHistoricalClient } from '../src/index.js';
import { FakePolygonServer } from '../src/testing.js';

const T0 = Date.UTC(2025, 9, 6, 13, 30);
let server: FakePolygonServer;
beforeEach(async () => {
  server = await FakePolygonServer.start();
});
afterEach(async () => {
  await server.close();
});

function day(symbol: string, minutes: number, base = 50): Bar[] {
  return Array.from({ length: minutes }, (_, m) => barFromValues(symbol, T0 + m * MINUTE_MS, MINUTE_MS, base + m, base + m + 1, base + m - 1, base + m + 0.5, 1000 + m, base + m + 0.2, 10 + m, 0));
}

/** A client on the fake server whose retry waits run on a manual clock, advanced as each is announced. */
function client(extra: Partial<ConstructorParameters<typeof PolygonHistoricalClient>[0]> = {}): { c: PolygonHistoricalClient; retries: RetryInfo[] } {
  const clock = new ManualClock(T0 + 1000 * MINUTE_MS);
  const retries: RetryInfo[] = [];
  const c = new PolygonHistoricalClient({
    baseUrl: server.url,
    apiKey: server.apiKey,
    clock,
    onRetry: (info) => {
      retries.push(info);
      queueMicrotask(() => clock.advance(info.delayMs));
    },
    ...extra,
  });
  return { c, retries };
}

const data = (b: Bar): unknown => ({ ...b, receivedAt: 0 });

describe('PolygonHistoricalClient on the fake server', () => {
  it('pages by next_url to the end, the key attached again and never in the next_url it was given', async () => {
    server.addBars([...day('TQQQ', 390), ...day('SQQQ', 390, 20)]);
    server.pageSize = 100;
    const { c } = client();
    const got = await c.barsBySymbol({ symbols: ['TQQQ', 'SQQQ'], start: T0, end: T0 + 389 * MINUTE_MS });
    expect(got.get('TQQQ')?.map(data)).toEqual(day('TQQQ', 390).map(data));
    expect(got.get('SQQQ')).toHaveLength(390);
    expect(server.requests).toHaveLength(8); // 4 pages a symbol
    expect(server.requests.join(' ')).not.toContain(server.apiKey);
    const bar = got.get('TQQQ')?.[5] as Bar;
    expect(bar).toMatchObject({ start: T0 + 5 * MINUTE_MS, end: T0 + 6 * MINUTE_MS, open: 55, vwap: 55.2, tradeCount: 15 });
  });

  it('a next_url that repeats is a protocol error, not an endless loop', async () => {
    server.addBars(day('TQQQ', 10));
    server.fault({ status: 'loop' }, { status: 'loop' });
    const { c } = client();
    const error = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + 9 * MINUTE_MS }).catch((e: unknown) => e);
    expect(FeedError.isInstance(error) && error.code === 'protocol').toBe(true);
    expect((error as Error).message).toMatch(/next_url .* was already followed/);
    expect((error as Error).message).not.toContain(server.apiKey);
  });

  it('waits out a 429 as Retry-After says and retries 5xx with backoff, within the budget', async () => {
    server.addBars(day('TQQQ', 10));
    server.fault({ status: 429, retryAfter: '3' }, { status: 503 }, { status: 500 });
    const { c, retries } = client();
    const got = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + 9 * MINUTE_MS });
    expect(got.get('TQQQ')).toHaveLength(10);
    expect(retries.map((r) => [r.status, r.delayMs])).toEqual([
      [429, 3000],
      [503, 500],
      [500, 1000],
    ]);
    expect(c.stats()).toMatchObject({ requests: 4, retries: 3, rateLimitWaits: 1 });
  });

  it('gives up when the retry budget is spent, with the last reason', async () => {
    server.addBars(day('TQQQ', 10));
    server.fault({ status: 500 }, { status: 500 }, { status: 500 });
    const { c } = client({ retryBudget: 2, maxRetries: 10 });
    const error = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + 9 * MINUTE_MS }).catch((e: unknown) => e);
    expect(HttpError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/retry budget of 2 spent; last: server error \(500\)/);
  });

  it('a wrong key is an HttpError 401 that names the key by its last four characters only', async () => {
    const { c } = client({ apiKey: 'WRONG-KEY-123456789' });
    const error = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + MINUTE_MS }).catch((e: unknown) => e);
    expect(HttpError.isInstance(error) && error.status === 401).toBe(true);
    expect((error as Error).message).toMatch(/not authorized: Polygon rejected the key \(key \.\.\.6789\); Polygon says: Unknown API Key/);
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain('WRONG-KEY-123456789');
  });

  it('a malformed page is a protocol error naming where; an abort ends the call at once', async () => {
    server.addBars(day('TQQQ', 10));
    server.fault({ status: 'malformed' });
    const { c } = client();
    const error = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + 9 * MINUTE_MS }).catch((e: unknown) => e);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toMatch(/not JSON/);
    const controller = new AbortController();
    controller.abort();
    const aborted = await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, signal: controller.signal }).catch((e: unknown) => e);
    expect((aborted as FeedError).code).toBe('aborted');
  });

  it('reads the key from POLYGON_API_KEY, and without one says what to set', () => {
    expect(() => new PolygonHistoricalClient({ env: {} })).toThrowError(ConfigError);
    expect(() => new PolygonHistoricalClient({ env: {} })).toThrowError(/set POLYGON_API_KEY/);
    expect(String(new PolygonHistoricalClient({ env: { POLYGON_API_KEY: 'abcdefgh12345678' } }))).toBe('PolygonHistoricalClient(https://api.polygon.io, key ...5678)');
  });

  it('is a HistoricalBars: adjusted is sent as asked', async () => {
    server.addBars(day('TQQQ', 3));
    const { c } = client({ adjusted: false });
    await c.barsBySymbol({ symbols: ['TQQQ'], start: T0, end: T0 + 2 * MINUTE_MS });
    expect(server.requests[0]).toContain('adjusted=false');
  });
});

describe('the fake Polygon server accepts what Polygon accepts', () => {
  it('dates (YYYY-MM-DD, a New York day) as well as millisecond timestamps in the aggregates path, as official clients send them', async () => {
    // 2025-10-06: the session, plus a bar at 23:30 ET (after midnight UTC) and one the next morning.
    const day = [0, 1, 389].map((m) => barFromValues('TQQQ', T0 + m * MINUTE_MS, MINUTE_MS, 10, 11, 9, 10.5, 100, Number.NaN, -1, 0));
    const late = barFromValues('TQQQ', Date.UTC(2025, 9, 7, 3, 30), MINUTE_MS, 10, 11, 9, 10.5, 100, Number.NaN, -1, 0);
    const next = barFromValues('TQQQ', Date.UTC(2025, 9, 7, 13, 30), MINUTE_MS, 10, 11, 9, 10.5, 100, Number.NaN, -1, 0);
    server.addBars([...day, late, next]);
    const get = async (from: string, to: string): Promise<number[]> => {
      const r = await fetch(`${server.url}/v2/aggs/ticker/TQQQ/range/1/minute/${from}/${to}?adjusted=true&sort=asc&limit=50000&apiKey=${server.apiKey}`);
      expect(r.status).toBe(200);
      return ((await r.json()) as { results: { t: number }[] }).results.map((x) => x.t);
    };
    const byDate = await get('2025-10-06', '2025-10-06');
    expect(byDate).toEqual([...day, late].map((b) => b.start));
    expect(await get(String(T0), String(T0 + 389 * MINUTE_MS))).toEqual(day.map((b) => b.start));
    expect(await get('2025-10-06', String(T0 + MINUTE_MS))).toEqual(day.slice(0, 2).map((b) => b.start));
    // Anything else is still an unknown endpoint.
    const bad = await fetch(`${server.url}/v2/aggs/ticker/TQQQ/range/1/minute/2025-10/2025-10-06?apiKey=${server.apiKey}`);
    expect(bad.status).toBe(404);
  });
});
