import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlpacaError, ConfigError, ConnectionError, ManualClock, nyse } from '@feed/core';
import { FakeAlpacaServer } from '../src/testing.js';
import { AlpacaMultiSymbolFeed, defaultWebSocketFactory } from '../src/index.js';
import { bars, feedOn, record, OPEN } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

describe('Alpaca error codes', () => {
  it.each([402, 409, 410])('%i is fatal at connect: connect() rejects with a typed error and no retry', async (code) => {
    if (code === 409) {
      await server.close();
      server = await FakeAlpacaServer.start({ forbiddenFeeds: ['sip'] });
    }
    const keys = code === 402 ? { keyId: 'WRONGKEY1', secretKey: 'WRONGSECRET1' } : server.keys;
    const feed = feedOn(server, { keys, url: server.url(code === 409 ? 'sip' : 'iex') });
    if (code === 410) server.failNextSubscribe(410);
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(AlpacaError.isInstance(error)).toBe(true);
    expect((error as AlpacaError).alpacaCode).toBe(code);
    expect((error as AlpacaError).fatal).toBe(true);
    expect(feed.stats().connectAttempts).toBe(1);
    expect(feed.state).toBe('idle');
    expect(feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
    await feed.disconnect();
  });

  it('409 while running stops the feed with a fatal error event and closes it', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.failNextSubscribe(409);
    await expect(feed.subscribe(['SPY'])).rejects.toMatchObject({ alpacaCode: 409, fatal: true });
    expect(feed.state).toBe('closed');
    expect(rec.errors.map((e) => (e as AlpacaError).alpacaCode)).toEqual([409]);
    expect(feed.stats().errorsByCode).toEqual({ '409': 1 });
    expect(feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
  });

  it.each([400, 401, 403, 405, 500])('%i while running is reported with its code and the stream goes on', async (code) => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.sendError(code);
    server.publish(bars(['TQQQ'], 1));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(1));
    expect(rec.errors).toHaveLength(1);
    expect(AlpacaError.isInstance(rec.errors[0])).toBe(true);
    expect((rec.errors[0] as AlpacaError).alpacaCode).toBe(code);
    expect((rec.errors[0] as AlpacaError).fatal).toBe(false);
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });

  it('405 on subscribe rejects that subscribe() and keeps streaming', async () => {
    await server.close();
    server = await FakeAlpacaServer.start({ symbolLimit: 2 });
    const feed = feedOn(server);
    await feed.connect();
    await feed.start();
    await expect(feed.subscribe(['SPY'])).rejects.toMatchObject({ alpacaCode: 405 });
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });

  it('404 (auth timeout) during the handshake is retried', async () => {
    await server.close();
    server = await FakeAlpacaServer.start({ authTimeoutMs: 30 });
    let sockets = 0;
    // The first socket loses its auth message, so the server times it out with 404.
    const feed = feedOn(server, {
      webSocketFactory: (url, init) => {
        const socket = defaultWebSocketFactory(url, init);
        if (++sockets === 1) socket.send = () => undefined;
        return socket;
      },
    });
    const rec = record(feed);
    await feed.connect();
    expect(rec.errors.map((e) => (e as AlpacaError).alpacaCode)).toEqual([404]);
    expect(feed.stats().connectAttempts).toBe(2);
    await feed.disconnect();
  });

  it('406 during the handshake is retried with backoff', async () => {
    const feed = feedOn(server);
    server.refuse406({ attempts: 2 });
    const rec = record(feed);
    await feed.connect();
    expect(server.stats.refused406).toBe(2);
    expect(rec.errors.map((e) => (e as AlpacaError).alpacaCode)).toEqual([406, 406]);
    expect(rec.events.filter((e) => e.type === 'retry').map((e) => e.delayMs)).toEqual([5, 10]);
    expect(feed.stats().connectAttempts).toBe(3);
    await feed.disconnect();
  });
});

describe('faults and recovery', () => {
  it('dropped connection: reconnects, resubscribes, and goes on delivering', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.publish(bars(['TQQQ'], 1));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(1));
    server.drop();
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    server.publish(bars(['TQQQ'], 1, OPEN + 60_000));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(2));
    expect(server.stats.subscribeMessages).toBe(2);
    expect(rec.events.some((e) => e.type === 'disconnected')).toBe(true);
    await feed.disconnect();
  });

  it('406 for a while after a drop: backs off (delays grow) and recovers', async () => {
    const feed = feedOn(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 1000, jitter: 0 } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.refuse406({ attempts: 4 });
    server.drop();
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1), { timeout: 3000 });
    const delays = rec.events.filter((e) => e.type === 'retry').map((e) => e.delayMs);
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(server.stats.refused406).toBe(4);
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });

  it('407 then close: reports the slow-client error and reconnects', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.slowClient();
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    expect(rec.errors.map((e) => (e as AlpacaError).alpacaCode)).toContain(407);
    await feed.disconnect();
  });

  it('no pong: reconnects after the pong timeout', async () => {
    const feed = feedOn(server, { keepAlive: { pingIntervalMs: 20, pongTimeoutMs: 30 } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await server.waitFor((s) => s.pingsReceived >= 2);
    expect(feed.stats().pongTimeouts).toBe(0);
    server.ignorePings(true);
    await vi.waitFor(() => expect(feed.stats().pongTimeouts).toBeGreaterThanOrEqual(1));
    server.ignorePings(false);
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    expect(rec.errors.some((e) => /no pong/.test(e.message))).toBe(true);
    await feed.disconnect();
  });

  it('silence while the market is open trips the watchdog; silence after the close does not', async () => {
    const clock = new ManualClock(OPEN + 3600_000);
    const feed = feedOn(server, { clock, watchdog: { noDataMs: 120_000, checkIntervalMs: 10, calendar: nyse } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.silence(true);
    clock.set(OPEN + 3600_000 + 119_000);
    await new Promise((r) => setTimeout(r, 40));
    expect(feed.stats().watchdogTrips).toBe(0);
    clock.set(OPEN + 3600_000 + 121_000);
    await vi.waitFor(() => expect(feed.stats().watchdogTrips).toBe(1));
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    expect(rec.errors.some((e) => /no data for 121 s while the market is open/.test(e.message))).toBe(true);
    // After the close (16:00 New York = 20:00 UTC): quiet is normal.
    clock.set(Date.UTC(2025, 9, 16, 21, 0));
    await new Promise((r) => setTimeout(r, 40));
    expect(feed.stats().watchdogTrips).toBe(1);
    await feed.disconnect();
  });

  it('an unreachable server at connect is retried, then a typed error after maxAttempts', async () => {
    const port = Number(new URL(server.url()).port);
    await server.close();
    const feed = new AlpacaMultiSymbolFeed({
      symbols: ['TQQQ'],
      url: `ws://127.0.0.1:${port}/v2/iex`,
      keys: { keyId: 'K1234567', secretKey: 'S1234567' },
      keepAlive: false,
      watchdog: false,
      reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, jitter: 0 },
    });
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/gave up after 3 attempts/);
    expect(feed.stats().connectAttempts).toBe(3);
    server = await FakeAlpacaServer.start();
  });

  it('a failed reconnect attempt is just another attempt: recovers when the server comes back', async () => {
    const port = Number(new URL(server.url()).port);
    const feed = feedOn(server, { reconnect: { initialDelayMs: 20, maxDelayMs: 20, jitter: 0, maxAttempts: Infinity } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await server.close();
    await vi.waitFor(() => expect(rec.errors.length).toBeGreaterThanOrEqual(2));
    server = await FakeAlpacaServer.start({ port });
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });
});

describe('leaks', () => {
  it('100 reconnects leave no extra listeners, timers or sockets', async () => {
    const feed = feedOn(server, { keepAlive: { pingIntervalMs: 50, pongTimeoutMs: 50 }, reconnect: { initialDelayMs: 0, maxDelayMs: 0, jitter: 0 } });
    record(feed);
    await feed.connect();
    await feed.start();
    const before = feed.resources();
    const emitter = (feed as unknown as { emitter: { listenerCount(): number } }).emitter;
    const listenersBefore = emitter.listenerCount();
    const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timeoutsBefore = timeouts();
    for (let i = 1; i <= 100; i++) {
      server.drop();
      await vi.waitFor(() => expect(feed.stats().reconnects).toBe(i), { interval: 2 });
    }
    // Each reconnect runs a gap fill over REST: let the last one finish.
    await vi.waitFor(() => expect(feed.stats().gapFills).toBe(100), { interval: 2 });
    expect(feed.resources()).toEqual(before);
    expect(timeouts()).toBeLessThanOrEqual(timeoutsBefore + 1);
    expect(server.stats.open).toBe(1);
    expect(emitter.listenerCount()).toBe(listenersBefore);
    expect(before.socketListeners).toBeGreaterThan(0);
    await feed.disconnect();
    expect(feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
  });
});

describe('secrets', () => {
  it('never appear in events, errors, toString, inspect or JSON', async () => {
    const keys = { keyId: 'AKSECRETKEYID123', secretKey: 'sk-very-secret-value-456' };
    await server.close();
    server = await FakeAlpacaServer.start({ keys });
    const feed = feedOn(server, { keys, auth: 'headers', reconnect: { initialDelayMs: 1, maxDelayMs: 2, jitter: 0, maxAttempts: 2 } });
    const texts: string[] = [];
    for (const t of ['bar', 'error', 'state', 'open', 'authenticated', 'subscription', 'disconnected', 'retry', 'reconnected'] as const) {
      feed.on(t, (e) => {
        texts.push(JSON.stringify(e), inspect(e, { depth: 5 }));
        if (e.type === 'error') texts.push(e.error.message, String(e.error.stack), inspect(e.error));
      });
    }
    await feed.connect();
    await feed.start();
    server.sendError(400, `bad request from ${keys.keyId} / ${keys.secretKey}`);
    server.drop();
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    texts.push(String(feed), inspect(feed, { depth: 5 }), JSON.stringify(feed), JSON.stringify(feed.stats()));
    await server.close();
    await vi.waitFor(() => expect(feed.state).toBe('closed'));
    const all = texts.join('\n');
    expect(all).toMatch(/Alpaca error 400/);
    expect(all).toMatch(/gave up after 2 attempts/);
    expect(all).not.toContain(keys.keyId);
    expect(all).not.toContain(keys.secretKey);
    server = await FakeAlpacaServer.start();
  });

  it('says which variables to set when no keys are given', () => {
    return expect(new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: {} }).connect()).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && /APCA_API_KEY_ID and APCA_API_SECRET_KEY/.test((e as Error).message),
    );
  });

  it('reads the original design variables, and names the missing half of a pair', () => {
    expect(() => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: { ALPACA_PAPER_API_KEY: 'abcd1234', ALPACA_PAPER_SECRET_KEY: 'efgh5678' } })).not.toThrow();
    expect(() => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: { APCA_API_KEY_ID: 'abcd1234' } })).toThrow(/APCA_API_SECRET_KEY is not set/);
  });
});
