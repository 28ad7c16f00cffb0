import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bar, TradingStatus } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues, makeTradingStatus, nyse } from '@feed/core';
import type { PolygonFeedOptions } from '../src/index.js';
import { PolygonMultiSymbolFeed } from '../src/index.js';
import { FakePolygonServer } from '../src/testing.js';

const T0 = Date.UTC(2025, 9, 16, 13, 30);
const SYMBOLS = ['TQQQ', 'SQQQ'];
const minute = (m: number, symbols = SYMBOLS): Bar[] =>
  symbols.map((s, k) => barFromValues(s, T0 + m * MINUTE_MS, MINUTE_MS, 50 + k + m, 51 + k + m, 49 + k + m, 50.5 + k + m, 100 + m, 50.2 + k + m, 7 + m, 0));
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 2 });
const data = (b: Bar): unknown => ({ ...b, receivedAt: 0 });

let server: FakePolygonServer;
beforeEach(async () => {
  server = await FakePolygonServer.start();
});
afterEach(async () => {
  await server.close();
});

/** A feed on the fake server on a manual clock whose backoff waits run as they are announced. */
function feedOn(options: Partial<PolygonFeedOptions> = {}, clock = new ManualClock(T0 + 10 * MINUTE_MS)): { feed: PolygonMultiSymbolFeed; clock: ManualClock; bars: Bar[]; errors: Error[]; events: { type: string }[] } {
  const feed = new PolygonMultiSymbolFeed({
    symbols: SYMBOLS,
    url: server.wsUrl,
    restUrl: server.url,
    apiKey: server.apiKey,
    clock,
    keepAlive: false,
    watchdog: false,
    reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0, maxAttempts: 5 },
    ...options,
  });
  feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
  const bars: Bar[] = [];
  const errors: Error[] = [];
  const events: { type: string }[] = [];
  feed.on('bar', (e) => bars.push(e.bar));
  feed.on('error', (e) => errors.push(e.error));
  for (const t of ['open', 'authenticated', 'status', 'disconnected', 'retry', 'reconnected', 'gapFill'] as const) feed.on(t, (e) => events.push(e));
  return { feed, clock, bars, errors, events };
}

describe('PolygonMultiSymbolFeed on the fake Polygon stream', () => {
  it('luld: true subscribes LULD.<SYMBOL> beside AM.<SYMBOL>; a halt (17) and a resumption (18) arrive as tradingStatus events', async () => {
    const { feed, errors } = feedOn({ luld: true });
    const got: TradingStatus[] = [];
    feed.on('tradingStatus', (e) => got.push(e.status));
    await feed.connect();
    await feed.start();
    const sent = [
      makeTradingStatus({ symbol: 'TQQQ', at: T0 + 90_500, kind: 'status', effect: 'halt', code: 'H', receivedAt: 0 }),
      makeTradingStatus({ symbol: 'TQQQ', at: T0 + 390_500, kind: 'status', effect: 'resume', code: 'T', receivedAt: 0 }),
    ];
    expect(server.publishStatus(sent)).toBe(2);
    await until(() => expect(got).toHaveLength(2));
    expect(got.map((x) => [x.at, x.kind, x.code, x.effect])).toEqual([
      [T0 + 90_500, 'luld', '17', 'halt'],
      [T0 + 390_500, 'luld', '18', 'resume'],
    ]);
    expect(errors).toEqual([]);
    await feed.disconnect();
  });

  it('authenticates, subscribes to AM.<SYMBOL> and delivers per-minute aggregates as bars', async () => {
    const { feed, bars, events } = feedOn();
    await feed.connect();
    expect(server.subscribeMessages).toBe(1);
    await feed.start();
    server.publish([...minute(0), ...minute(1)]);
    await until(() => expect(bars).toHaveLength(4));
    expect(bars.map(data)).toEqual([...minute(0), ...minute(1)].map(data));
    expect(bars[0]).toMatchObject({ vwap: 50.2, tradeCount: 7, end: T0 + MINUTE_MS });
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['open', 'status', 'status']);
    expect(events.some((e) => e.type === 'authenticated')).toBe(true);
    expect(feed.stats()).toMatchObject({ barsReceived: 4, malformed: 0, errors: 0 });
    await feed.disconnect();
  });

  it('a refused key fails connect() at once (auth_failed is fatal), without the key in any text', async () => {
    const { feed, errors } = feedOn({ apiKey: 'WRONG-polygon-KEY-987' });
    const error = await feed.connect().then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/Polygon status 'auth_failed'/);
    expect(feed.stats().connectAttempts).toBe(1);
    for (const e of [error, ...errors]) expect(`${e?.message} ${e?.stack}`).not.toContain('WRONG-polygon-KEY-987');
  });

  it('max_connections (another program holds the stream) is retried with backoff until the slot frees', async () => {
    server.maxConnections = 0;
    const { feed, events } = feedOn();
    const connected = feed.connect();
    await until(() => expect(events.filter((e) => e.type === 'retry').length).toBeGreaterThanOrEqual(2));
    server.maxConnections = Infinity;
    await connected;
    expect(feed.stats().connectAttempts).toBeGreaterThanOrEqual(3);
    expect(feed.state).toBe('connected');
    await feed.disconnect();
  });

  it('a malformed frame or message is counted and reported; the good messages of its frame are delivered', async () => {
    const { feed, bars, errors } = feedOn();
    await feed.connect();
    await feed.start();
    server.sendRaw('not json');
    server.sendRaw('{"ev":"AM"}');
    const good = minute(0)[0] as Bar;
    server.sendRaw(JSON.stringify([{ ev: 'AM', sym: 'TQQQ', o: 'x', s: T0 }, { ev: 'XQ', sym: 'TQQQ' }, { ev: 'AM', sym: 'TQQQ', o: good.open, h: good.high, l: good.low, c: good.close, v: good.volume, vw: good.vwap, n: good.tradeCount, s: good.start, e: good.end }]));
    await until(() => expect(bars).toHaveLength(1));
    expect(feed.stats()).toMatchObject({ malformed: 3, unknownMessages: 1 });
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/not an array/),
      expect.stringMatching(/message 0 \(AM\): o is not a finite number/),
    ]);
    await feed.disconnect();
  });

  it('a drop: reconnects, and the minutes missed come from REST before the live ones, each once', async () => {
    const { feed, clock, bars, events } = feedOn({}, new ManualClock(T0 + MINUTE_MS + 50));
    await feed.connect();
    await feed.start();
    server.publish(minute(0));
    await until(() => expect(bars).toHaveLength(2));
    server.drop();
    for (let m = 1; m <= 3; m++) server.addBars(minute(m)); // happen while the client is away
    clock.set(T0 + 4 * MINUTE_MS + 50);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    server.publish(minute(4));
    await until(() => expect(bars).toHaveLength(10));
    expect(bars.map(data)).toEqual([0, 1, 2, 3, 4].flatMap((m) => minute(m)).map(data));
    expect(feed.stats().barsRecovered).toBe(6);
    expect(events.filter((e) => e.type === 'gapFill')).toHaveLength(1);
    await feed.disconnect();
  });

  it('keep-alive on the clock: no pong within the timeout reconnects (the same Heartbeat as Alpaca\'s feed)', async () => {
    const { feed, clock, errors } = feedOn({ keepAlive: { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 } });
    await feed.connect();
    await feed.start();
    const idle = feed.resources().timers;
    clock.advance(10_000);
    await until(() => expect(server.pingsReceived).toBe(1));
    // The pong cancels its timeout: back to the ping timer alone (waiting on the socket, not on time).
    await until(() => expect(feed.resources().timers).toBe(idle));
    clock.advance(5_000);
    expect(feed.stats().pongTimeouts).toBe(0);
    server.ignorePings(true);
    clock.advance(5_000);
    await until(() => expect(server.pingsReceived).toBe(2));
    server.ignorePings(false);
    clock.advance(5_000);
    expect(feed.stats().pongTimeouts).toBe(1);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(errors.some((e) => /no pong within 5000 ms/.test(e.message))).toBe(true);
    await feed.disconnect();
  });

  it('silence while the market is open trips the no-data watchdog and reconnects', async () => {
    const open = Date.UTC(2025, 9, 16, 13, 30);
    const { feed, clock, errors } = feedOn({ watchdog: { noDataMs: 120_000, checkIntervalMs: 10_000, calendar: nyse } }, new ManualClock(open + 3_600_000));
    await feed.connect();
    await feed.start();
    clock.set(open + 3_600_000 + 119_000);
    expect(feed.stats().watchdogTrips).toBe(0);
    clock.set(open + 3_600_000 + 121_000);
    expect(feed.stats().watchdogTrips).toBe(1);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(errors.some((e) => /no data for 120 s while the market is open/.test(e.message))).toBe(true);
    await feed.disconnect();
  });

  it('a bar off the minute grid or more than a minute ahead of the clock is refused and counted, as Alpaca\'s feed does', async () => {
    const { feed, clock, bars, errors } = feedOn();
    await feed.connect();
    await feed.start();
    const ahead = barFromValues('TQQQ', clock.now() + 2 * MINUTE_MS, MINUTE_MS, 1, 1, 1, 1, 1, Number.NaN, -1, 0);
    const offGrid = barFromValues('TQQQ', T0 + 30_000, MINUTE_MS, 1, 1, 1, 1, 1, Number.NaN, -1, 0);
    server.publish([ahead, offGrid, ...minute(0)]);
    await until(() => expect(bars).toHaveLength(2));
    expect(feed.stats().rejectedBars).toBe(2);
    expect(errors.map((e) => (e as { reason?: string }).reason)).toEqual(['future', 'off_grid']);
    await feed.disconnect();
  });

  it('subscribe() while streaming resolves on the server\'s confirmation; unknown statuses are reported', async () => {
    const { feed, bars, errors } = feedOn();
    await feed.connect();
    await feed.start();
    await feed.subscribe(['UPRO']);
    expect(server.subscribeMessages).toBe(2);
    server.publish(minute(0, ['UPRO']));
    await until(() => expect(bars).toHaveLength(1));
    server.sendStatus('error', 'something happened');
    await until(() => expect(errors).toHaveLength(1));
    expect(errors[0]?.message).toMatch(/Polygon status 'error': something happened/);
    await feed.disconnect();
  });
});
