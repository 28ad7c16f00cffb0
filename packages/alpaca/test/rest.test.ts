import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedError, HttpError, ManualClock } from '@feed/core';
import { AlpacaHistoricalClient } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { LATER, bars, data, OPEN, until } from './helpers.js';

let server: FakeAlpacaServer;
let clock: ManualClock;
/** Every retry wait the client announced, in clock milliseconds; each is run at once on the clock. */
const sleeps: number[] = [];
function client(options: Partial<ConstructorParameters<typeof AlpacaHistoricalClient>[0]> = {}): AlpacaHistoricalClient {
  return new AlpacaHistoricalClient({
    baseUrl: server.restUrl,
    keys: server.keys,
    clock,
    onRetry: (r) => {
      sleeps.push(r.delayMs);
      queueMicrotask(() => clock.advance(r.delayMs));
    },
    ...options,
  });
}
const SYMBOLS = ['TQQQ', 'SQQQ', 'SVIX'];
const source = bars(SYMBOLS, 390);

beforeEach(async () => {
  clock = new ManualClock(LATER);
  server = await FakeAlpacaServer.start({ clock });
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
    // X-RateLimit-Reset is one or two whole seconds ahead (plus 50 ms of margin), on the server's clock, which is the client's.
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThan(50);
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

  it('a 200 body that echoes the secret: the error quotes no piece of it', async () => {
    const keys = { keyId: 'AKECHOKEY0001', secretKey: 'echoed-secret-abcdefghij' };
    await server.close();
    server = await FakeAlpacaServer.start({ keys, clock });
    server.rest.failNext.push('echo-secret');
    const error = await client({ keys }).barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as FeedError).code).toBe('protocol');
    const text = `${(error as Error).message} ${String((error as Error).stack)} ${inspect(error, { depth: 5 })}`;
    for (let i = 0; i + 8 <= keys.secretKey.length; i++) expect(text).not.toContain(keys.secretKey.slice(i, i + 8));
  });
});

describe('AlpacaHistoricalClient limits', () => {
  it('a request that takes longer than timeoutMs (clock time) is aborted and retried, then a typed error', async () => {
    server.rest.always = 'hang';
    const c = client({ timeoutMs: 10_000, maxRetries: 1, retryDelayMs: 100 });
    const result = c.barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    await until(() => expect(server.stats.restRequests).toBe(1));
    clock.advance(10_000);
    await until(() => expect(server.stats.restRequests).toBe(2));
    clock.advance(10_000);
    const error = await result;
    expect(HttpError.isInstance(error)).toBe(true);
    expect((error as HttpError).status).toBe(0);
    expect((error as Error).message).toMatch(/no response after 2 attempts: GET .* timed out after 10000 ms/);
    expect(c.stats()).toMatchObject({ requests: 2, retries: 1, timeouts: 2 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('an abort signal ends a hanging request and its call at once; no request follows', async () => {
    server.rest.always = 'hang';
    const ac = new AbortController();
    const c = client();
    const result = c.barsBySymbol({ symbols: ['TQQQ'], start: OPEN, signal: ac.signal }).catch((e: unknown) => e);
    await until(() => expect(server.stats.restRequests).toBe(1));
    ac.abort();
    const error = await result;
    expect((error as FeedError).code).toBe('aborted');
    expect(server.stats.restRequests).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('Retry-After in seconds is honoured', async () => {
    server.rest.failNext.push({ status: 429, retryAfter: '7' });
    const got = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(got.get('TQQQ')).toHaveLength(390);
    expect(sleeps).toEqual([7000]);
  });

  it('Retry-After as an HTTP date is honoured, on the clock', async () => {
    server.rest.failNext.push({ status: 429, retryAfter: new Date(LATER + 3000).toUTCString() });
    await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(sleeps).toEqual([3000]);
  });

  it('a reset far away (year 2100) is an error, not a sleep', async () => {
    server.rest.failNext.push({ status: 429, resetAt: Date.UTC(2100, 0, 1) / 1000 });
    const error = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(429);
    expect((error as Error).message).toMatch(/asks to wait \d+ s, more than maxRateLimitWaitMs \(60000 ms\)/);
    expect(sleeps).toEqual([]);
  });

  it('429 without any header backs off 500, 1000, 2000 ms', async () => {
    server.rest.failNext.push({ status: 429, headers: false }, { status: 429, headers: false }, { status: 429, headers: false });
    await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN });
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('a next_page_token seen before is a protocol error at once', async () => {
    server.rest.failNext.push('loop-token', 'loop-token');
    const error = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toMatch(/next_page_token '.*' was already followed/);
    expect(server.stats.restRequests).toBe(2);
  });

  it('the retry budget bounds one call over all its pages', async () => {
    server.rest.pageLimit = 100;
    server.rest.always = 503;
    const c = client({ retryBudget: 3, maxRetries: 10, retryDelayMs: 10 });
    const error = await c.barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as HttpError).status).toBe(503);
    expect((error as Error).message).toMatch(/retry budget of 3 spent; last: server error \(503\)/);
    expect(c.stats().requests).toBe(4);
  });

  it('a bar without a field: a typed error naming the field', async () => {
    server.rest.failNext.push('bad-field');
    const error = await client().barsBySymbol({ symbols: ['TQQQ'], start: OPEN }).catch((e: unknown) => e);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toMatch(/bars\.TQQQ\[0\]: TQQQ: field 'o' is missing/);
  });
});
