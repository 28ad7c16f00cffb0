import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BarValidationError, ConfigError, ConnectionError, FeedError, MINUTE_MS, ManualClock, nyse } from '@feed/core';
import { FakeAlpacaServer } from '../src/testing.js';
import { defaultWebSocketFactory } from '@feed/live';
import { AlpacaError, AlpacaMultiSymbolFeed } from '../src/index.js';
import { LATER, OPEN, bars, clockOf, feedOn, record, until } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

const codes = (errors: readonly Error[]): number[] => errors.filter((e) => AlpacaError.isInstance(e)).map((e) => (e).alpacaCode);

describe('Alpaca error codes', () => {
  it.each([402, 409, 410])('%i is fatal at connect: connect() rejects with a typed error, emitted and counted, and no retry', async (code) => {
    if (code === 409) {
      await server.close();
      server = await FakeAlpacaServer.start({ forbiddenFeeds: ['sip'] });
    }
    const keys = code === 402 ? { keyId: 'WRONGKEY1', secretKey: 'WRONGSECRET1' } : server.keys;
    const feed = feedOn(server, { keys, url: server.url(code === 409 ? 'sip' : 'iex') });
    const rec = record(feed);
    if (code === 410) server.failNextSubscribe(410);
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(AlpacaError.isInstance(error)).toBe(true);
    expect((error as AlpacaError).alpacaCode).toBe(code);
    expect((error as AlpacaError).fatal).toBe(true);
    expect((error as AlpacaError).code).toBe('provider');
    expect(rec.errors).toEqual([error]);
    expect(feed.stats().errorsByCode).toEqual({ [String(code)]: 1 });
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
    expect(codes(rec.errors)).toEqual([409]);
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
    await until(() => expect(rec.bars).toHaveLength(1));
    expect(codes(rec.errors)).toEqual([code]);
    expect((rec.errors[0] as AlpacaError).fatal).toBe(false);
    expect(feed.stats().errorsByCode).toEqual({ [String(code)]: 1 });
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
    expect(codes(rec.errors)).toEqual([404]);
    expect(feed.stats().connectAttempts).toBe(2);
    await feed.disconnect();
  });

  it('406 during the handshake is retried with backoff', async () => {
    const feed = feedOn(server);
    server.refuse406({ attempts: 2 });
    const rec = record(feed);
    await feed.connect();
    expect(server.stats.refused406).toBe(2);
    expect(codes(rec.errors)).toEqual([406, 406]);
    expect(rec.events.filter((e) => e.type === 'retry').map((e) => e.delayMs)).toEqual([5, 10]);
    expect(feed.stats().connectAttempts).toBe(3);
    expect(feed.stats().errorsByCode).toEqual({ '406': 2 });
    await feed.disconnect();
  });
});

describe('encodings', () => {
  it.each([
    ['json', 'msgpack'],
    ['msgpack', 'json'],
  ] as const)('a %s client facing a %s server fails the handshake at once, naming both encodings', async (client, serverEncoding) => {
    await server.close();
    server = await FakeAlpacaServer.start({ forceEncoding: serverEncoding });
    const feed = feedOn(server, { encoding: client });
    const rec = record(feed);
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(FeedError.isInstance(error)).toBe(true);
    expect((error as FeedError).code).toBe('protocol');
    expect((error as Error).message).toContain(`sends ${serverEncoding} frames but the feed expects ${client}`);
    // At once: one attempt, no retry, and the clock never moved (no connect timeout was waited for).
    expect(feed.stats().connectAttempts).toBe(1);
    expect(rec.events.filter((e) => e.type === 'retry')).toEqual([]);
    expect(clockOf(feed).now()).toBe(LATER);
    expect(feed.stats().errorsByCode).toEqual({ protocol: 1 });
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
    await until(() => expect(rec.bars).toHaveLength(1));
    server.drop();
    await until(() => expect(feed.stats().reconnects).toBe(1));
    server.publish(bars(['TQQQ'], 1, OPEN + 60_000));
    await until(() => expect(rec.bars).toHaveLength(2));
    expect(server.stats.subscribeMessages).toBe(2);
    expect(rec.events.some((e) => e.type === 'disconnected')).toBe(true);
    await feed.disconnect();
  });

  it('406 for a while after a drop: backs off (delays grow), recovers, and reconnected counts this reconnect\'s attempts', async () => {
    const feed = feedOn(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 1000, jitter: 0 } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    const t0 = clockOf(feed).now();
    server.refuse406({ attempts: 4 });
    server.drop();
    await until(() => expect(feed.stats().reconnects).toBe(1));
    const delays = rec.events.filter((e) => e.type === 'retry').map((e) => e.delayMs);
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    // The attempts ran at clock time 5, 15, 35, 75 and 155 ms after the drop: no real waiting.
    expect(clockOf(feed).now() - t0).toBe(155);
    expect(server.stats.refused406).toBe(4);
    expect(feed.state).toBe('streaming');
    server.drop();
    await until(() => expect(feed.stats().reconnects).toBe(2));
    expect(rec.events.filter((e) => e.type === 'reconnected').map((e) => e.attempts)).toEqual([5, 1]);
    await feed.disconnect();
  });

  it('407 then close: reports the slow-client error and reconnects', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.slowClient();
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(codes(rec.errors)).toContain(407);
    await feed.disconnect();
  });

  it('keep-alive on the clock: a pong in time keeps the connection; no pong reconnects after the pong timeout', async () => {
    const feed = feedOn(server, { keepAlive: { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 } });
    const rec = record(feed);
    const clock = clockOf(feed);
    await feed.connect();
    await feed.start();
    const idle = feed.resources().timers;
    clock.advance(10_000);
    await server.waitFor((s) => s.pingsReceived === 1);
    // The pong cancels its timeout: back to the ping timer alone.
    await until(() => expect(feed.resources().timers).toBe(idle));
    clock.advance(5_000);
    expect(feed.stats().pongTimeouts).toBe(0);
    server.ignorePings(true);
    clock.advance(5_000); // the second ping, 10 s after the first
    await server.waitFor((s) => s.pingsReceived === 2);
    clock.advance(4_999);
    expect(feed.stats().pongTimeouts).toBe(0);
    server.ignorePings(false);
    clock.advance(1);
    expect(feed.stats().pongTimeouts).toBe(1);
    expect(feed.state).toBe('reconnecting');
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(rec.errors.some((e) => /no pong within 5000 ms/.test(e.message))).toBe(true);
    await feed.disconnect();
  });

  it('silence while the market is open trips the watchdog; silence after the close does not', async () => {
    const clock = new ManualClock(OPEN + 3600_000);
    const feed = feedOn(server, { clock, watchdog: { noDataMs: 120_000, checkIntervalMs: 10_000, calendar: nyse } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.silence(true);
    clock.set(OPEN + 3600_000 + 119_000);
    expect(feed.stats().watchdogTrips).toBe(0);
    clock.set(OPEN + 3600_000 + 121_000);
    expect(feed.stats().watchdogTrips).toBe(1);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(rec.errors.some((e) => /no data for 120 s while the market is open/.test(e.message))).toBe(true);
    await feed.disconnect();
  });

  it('after the close silence is normal all night; the next morning it trips noDataMs after the open', async () => {
    // 16:01 New York (20:01 UTC), the evening before a session.
    const clock = new ManualClock(Date.UTC(2025, 9, 16, 20, 1));
    const feed = feedOn(server, { clock, watchdog: { noDataMs: 120_000, checkIntervalMs: 10_000, calendar: nyse } });
    await feed.connect();
    await feed.start();
    server.silence(true);
    clock.set(Date.UTC(2025, 9, 17, 13, 31, 50));
    expect(feed.stats().watchdogTrips).toBe(0);
    clock.set(Date.UTC(2025, 9, 17, 13, 32));
    expect(feed.stats().watchdogTrips).toBe(1);
    await feed.disconnect();
  });

  it('an unreachable server at connect is retried, then a typed error after maxAttempts', async () => {
    const url = server.url();
    await server.close();
    const feed = feedOn(server, { url, reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, jitter: 0 } });
    const rec = record(feed);
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/gave up after 3 attempts/);
    expect(feed.stats().connectAttempts).toBe(3);
    // Two failed attempts reported before their retry, then the final error.
    expect(rec.errors).toHaveLength(3);
    expect(feed.stats().errorsByCode).toEqual({ connection: 3 });
    server = await FakeAlpacaServer.start();
  });

  it('a failed reconnect attempt is just another attempt: recovers when the server comes back', async () => {
    const port = Number(new URL(server.url()).port);
    const feed = feedOn(server, { drive: false, reconnect: { initialDelayMs: 20, maxDelayMs: 20, jitter: 0, maxAttempts: Infinity } });
    const clock = clockOf(feed);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await server.close();
    await until(() => expect(rec.events.filter((e) => e.type === 'retry')).toHaveLength(1));
    clock.advance(20);
    await until(() => expect(rec.events.filter((e) => e.type === 'retry')).toHaveLength(2));
    expect(rec.errors).toHaveLength(1);
    server = await FakeAlpacaServer.start({ port });
    clock.advance(20);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });
});

describe('bars the feed must not trust', () => {
  it('a bar stamped 2030, then ten good minutes: the ten are delivered, the bad one reported and never a reference', async () => {
    const clock = new ManualClock(OPEN + 11 * MINUTE_MS);
    const feed = feedOn(server, { clock, symbols: ['TQQQ'] });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.publish(bars(['TQQQ'], 1, Date.UTC(2030, 0, 2, 14, 30)), { keep: false });
    server.publish(bars(['TQQQ'], 10));
    await until(() => expect(rec.bars).toHaveLength(10));
    expect(rec.bars.map((b) => (b.start - OPEN) / MINUTE_MS)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rec.errors).toHaveLength(1);
    const e = rec.errors[0] as BarValidationError;
    expect(BarValidationError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: 'invalid_bar', reason: 'future', symbol: 'TQQQ', field: 'start' });
    expect(e.message).toMatch(/2030-01-02T14:30:00.000Z is more than one minute ahead of the clock/);
    const s = feed.stats();
    expect(s.rejectedBars).toBe(1);
    expect(s.duplicatesDropped).toBe(0);
    expect(s.errorsByCode).toEqual({ invalid_bar: 1 });
    await feed.disconnect();
  });

  it('an updated bar stamped 16:00:30 (off the minute) is reported, not delivered as a bar starting 16:00:30', async () => {
    const feed = feedOn(server, { symbols: ['TQQQ'], channels: { updatedBars: true } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    const close = Date.UTC(2025, 9, 16, 20, 0);
    server.publish(bars(['TQQQ'], 1, close + 30_000), { updated: true, keep: false });
    server.publish(bars(['TQQQ'], 1, close));
    await until(() => expect(rec.bars).toHaveLength(1));
    expect(rec.bars[0]!.start).toBe(close);
    expect(rec.errors[0]).toMatchObject({ code: 'invalid_bar', reason: 'off_grid', field: 'start' });
    expect(feed.stats().rejectedBars).toBe(1);
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
    const clockTimers = clockOf(feed).pendingTimers;
    for (let i = 1; i <= 100; i++) {
      server.drop();
      await until(() => expect(feed.stats().reconnects).toBe(i));
    }
    // Each reconnect runs a gap fill over REST: let the last one finish.
    await until(() => expect(feed.stats().gapFills).toBe(100));
    await until(() => expect(feed.stats().gapFillInProgress).toBe(false));
    expect(feed.resources()).toEqual(before);
    expect(clockOf(feed).pendingTimers).toBe(clockTimers);
    expect(timeouts()).toBeLessThanOrEqual(timeoutsBefore + 1);
    expect(server.stats.open).toBe(1);
    expect(emitter.listenerCount()).toBe(listenersBefore);
    expect(before.socketListeners).toBeGreaterThan(0);
    await feed.disconnect();
    expect(feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
    expect(clockOf(feed).pendingTimers).toBe(0);
  });
});

describe('secrets', () => {
  const keys = { keyId: 'AKSECRETKEYID123', secretKey: 'sk-very-secret-value-4567890' };
  const pieces = (text: string): string[] => {
    const out: string[] = [];
    for (const s of [keys.keyId, keys.secretKey]) for (let i = 0; i + 8 <= s.length; i++) if (text.includes(s.slice(i, i + 8))) out.push(s.slice(i, i + 8));
    return out;
  };

  it('never appear in events, errors, causes, stacks, toString, inspect or JSON, even when the server echoes them', async () => {
    await server.close();
    server = await FakeAlpacaServer.start({ keys });
    const feed = feedOn(server, { keys, auth: 'headers', reconnect: { initialDelayMs: 1, maxDelayMs: 2, jitter: 0, maxAttempts: 2 } });
    const texts: string[] = [];
    for (const t of ['bar', 'error', 'state', 'open', 'authenticated', 'subscription', 'disconnected', 'retry', 'reconnected'] as const) {
      feed.on(t, (e) => {
        texts.push(JSON.stringify(e), inspect(e, { depth: 8 }));
        if (e.type === 'error') texts.push(e.error.message, String(e.error.stack), inspect(e.error, { depth: 8 }));
      });
    }
    await feed.connect();
    await feed.start();
    // Echoes: whole values, the secret cut to 10 and 12 characters, a piece from its middle.
    server.sendError(400, `bad request from ${keys.keyId} / ${keys.secretKey}`);
    server.sendError(500, `internal: secret=${keys.secretKey.slice(0, 10)}...`);
    server.sendError(405, `${keys.secretKey.slice(6, 18)} over the limit`);
    server.sendRaw(`[{"T":"b","S":"TQQQ","o":"${keys.secretKey}"`, { text: true });
    await until(() => expect(feed.stats().errors).toBe(4));
    server.drop();
    await until(() => expect(feed.stats().reconnects).toBe(1));
    texts.push(String(feed), inspect(feed, { depth: 5 }), JSON.stringify(feed), JSON.stringify(feed.stats()));
    await server.close();
    await until(() => expect(feed.state).toBe('closed'));
    const all = texts.join('\n');
    expect(all).toMatch(/Alpaca error 400: bad request from \*\*\* \/ \*\*\*/);
    expect(all).toMatch(/Alpaca error 500: internal: secret=\*\*\*\.\.\./);
    expect(all).toMatch(/gave up after 2 attempts/);
    expect(pieces(all)).toEqual([]);
    server = await FakeAlpacaServer.start();
  });

  it('says which variables to set when no keys are given, as an error event too', async () => {
    const feed = new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: {} });
    const rec = record(feed);
    await expect(feed.connect()).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && /APCA_API_KEY_ID and APCA_API_SECRET_KEY/.test((e as Error).message),
    );
    expect(rec.errors).toHaveLength(1);
  });

  it('reads the original design variables, and names the missing half of a pair', () => {
    expect(() => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: { ALPACA_PAPER_API_KEY: 'abcd1234', ALPACA_PAPER_SECRET_KEY: 'efgh5678' } })).not.toThrow();
    expect(() => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], env: { APCA_API_KEY_ID: 'abcd1234' } })).toThrow(/APCA_API_SECRET_KEY is not set/);
  });
});

describe('options', () => {
  it('are validated once, every problem named by its path', () => {
    const bad = (): unknown =>
      new AlpacaMultiSymbolFeed({
        symbols: ['TQQQ'],
        keys: { keyId: 'k1234567', secretKey: 's1234567' },
        url: 'http://example.com',
        encoding: 'xml' as 'json',
        reconnect: { jitter: 2 },
        gapFill: { timeoutMs: -1 },
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const paths = (e as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['url', 'encoding', 'reconnect.jitter', 'gapFill.timeoutMs']));
      expect((e as Error).message).toMatch(/^invalid AlpacaMultiSymbolFeed options: /);
    }
  });
});
