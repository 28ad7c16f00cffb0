import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedError, HttpError } from '@feed/core';
import { AlpacaHistoricalClient } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, data, OPEN } from './helpers.js';

let server: FakeAlpacaServer;
const sleeps: number[] = [];
const sleep = (ms: number): Promise<void> => {
  sleeps.push(ms);
  return Promise.resolve();
};
function client(options: Partial<ConstructorParameters<typeof AlpacaHistoricalClient>[0]> = {}): AlpacaHistoricalClient {
  return new AlpacaHistoricalClient({ baseUrl: server.restUrl, keys: server.keys, sleep, ...options });
}
const SYMBOLS = ['TQQQ', 'SQQQ', 'SVIX'];
const source = bars(SYMBOLS, 390);

beforeEach(async () => {
  server = await FakeAlpacaServer.start();
  server.addHistory(source);
  sleeps.length = 0;
});
afterEach(async () => {
  await server.close();
});

describe('AlpacaHistoricalClient', () => {
  it('follows next_page_token across several pages and symbols, returning every bar once', async () => {
    server.rest.pageLimit = 250;
    const c = client();
    const got = await c.barsBySymbol({ symbols: SYMBOLS, start: OPEN, end: OPEN + 389 * 60_000 });
    for (const s of SYMBOLS) expect(got.get(s)?.map(data)).toEqual(source.filter((b) => b.symbol === s).map(data));
    expect(c.stats().requests).toBe(Math.ceil((390 * 3) / 250));
  });

  it('streams: the async iterable yields bars page by page', async () => {
    server.rest.pageLimit = 100;
    let n = 0;
    for await (const b of client().bars({ symbols: ['TQQQ'], start: OPEN, maxBars: 150 })) {
      expect(b.symbol).toBe('TQQQ');
      n++;
    }
    expect(n).toBe(150);
    expect(server.stats.restRequests).toBe(2);
  });

  it('honours start and end (inclusive bar starts)', async () => {
    const got = await client().barsBySymbol({ symbols: ['TQQQ'], start: new Date(OPEN + 60_000), end: new Date(OPEN + 3 * 60_000).toISOString() });
    expect(got.get('TQQQ')?.map((b) => (b.start - OPEN) / 60_000)).toEqual([1, 2, 3]);
  });

  it('429: waits until the reset time, then goes on', async () => {
    server.rest.rateLimitNext = 2;
    const c = client();
    const got = await c.barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(got.get('TQQQ')).toHaveLength(390);
    expect(c.stats().rateLimitWaits).toBe(2);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(2050);
    }
  });

  it('5xx: retries with doubling delays, then succeeds', async () => {
    server.rest.failNext.push(500, 503);
    const c = client({ retryDelayMs: 100 });
    const got = await c.barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(got.get('TQQQ')).toHaveLength(390);
    expect(sleeps).toEqual([100, 200]);
    expect(c.stats().retries).toBe(2);
  });

  it('5xx beyond maxRetries: a typed HttpError with the status', async () => {
    server.rest.failNext.push(502, 502, 502);
    const error = await client({ maxRetries: 2 }).barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect(HttpError.isInstance(error)).toBe(true);
    expect((error as HttpError).status).toBe(502);
    expect((error as Error).message).toMatch(/after 3 attempts/);
  });

  it('network errors are retried', async () => {
    let calls = 0;
    const flaky: typeof fetch = (input, init) => {
      if (++calls <= 2) return Promise.reject(new TypeError('fetch failed'));
      return fetch(input, init);
    };
    const got = await client({ fetch: flaky }).barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(got.get('TQQQ')).toHaveLength(390);
    expect(calls).toBe(3);
  });

  it('401: says the key pair was rejected, without the secret', async () => {
    const keys = { keyId: 'AKWRONGKEY9876', secretKey: 'wrong-secret-value' };
    const error = await client({ keys }).barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect(HttpError.isInstance(error)).toBe(true);
    expect((error as HttpError).status).toBe(401);
    expect((error as Error).message).toMatch(/rejected the key pair \(key \.\.\.9876\)/);
    const text = `${(error as Error).message} ${inspect(error)} ${String(client({ keys }))}`;
    expect(text).not.toContain(keys.secretKey);
    expect(text).not.toContain(keys.keyId);
  });

  it('403: says the plan cannot read that feed or range', async () => {
    server.rest.failNext.push(403);
    const error = await client({ feed: 'sip' }).barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(403);
    expect((error as Error).message).toMatch(/plan cannot read the 'sip' feed/);
  });

  it('malformed JSON: a typed error naming the URL', async () => {
    server.rest.failNext.push('malformed');
    const error = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect(FeedError.isInstance(error)).toBe(true);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toMatch(/not JSON/);
  });

  it('a bar without a field: a typed error naming the field', async () => {
    server.rest.failNext.push('bad-field');
    const error = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toMatch(/bars\.TQQQ\[0\]: TQQQ: field 'o' is missing/);
  });
});
