import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues, isFrozenBar } from '@feed/core';
import type { PolygonFeedOptions, PolygonFeedStats } from '../src/index.js';
import { PolygonMultiSymbolFeed } from '../src/index.js';
import { FakePolygonServer } from '../src/testing.js';

const T0 = Date.UTC(2025, 9, 16, 13, 30);
const SYMBOLS = ['TQQQ', 'SQQQ'];
const minute = (m: number, symbols = SYMBOLS): Bar[] =>
  symbols.map((s, k) => barFromValues(s, T0 + m * MINUTE_MS, MINUTE_MS, 50 + k + m, 51 + k + m, 49 + k + m, 50.5 + k + m, 100 + m, 50.2 + k + m, 7 + m, 0));
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 2 });

let server: FakePolygonServer;
beforeEach(async () => {
  server = await FakePolygonServer.start();
});
afterEach(async () => {
  await server.close();
});

interface Outcome {
  bars: Bar[];
  events: unknown[];
  errors: { name: string; code: string; message: string }[];
  stats: PolygonFeedStats;
  states: string[];
}

/** One script on a fresh server: bars, a malformed message, an off-grid bar, a drop with missed minutes (gap fill), a late subscription. */
async function script(options: Partial<PolygonFeedOptions>): Promise<Outcome> {
  const clock = new ManualClock(T0 + MINUTE_MS + 50);
  const feed = new PolygonMultiSymbolFeed({ symbols: SYMBOLS, url: server.wsUrl, restUrl: server.url, apiKey: server.apiKey, clock, keepAlive: false, watchdog: false, reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0, maxAttempts: 5 }, ...options });
  feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
  const bars: Bar[] = [];
  const errors: Error[] = [];
  const events: { type: string }[] = [];
  feed.on('bar', (e) => bars.push(e.bar));
  feed.on('error', (e) => errors.push(e.error));
  for (const t of ['open', 'authenticated', 'status', 'disconnected', 'retry', 'reconnected', 'gapFill', 'state'] as const) feed.on(t, (e) => events.push(e));
  await feed.connect();
  await feed.start();
  server.publish(minute(0));
  await until(() => expect(bars).toHaveLength(2));
  server.sendRaw(JSON.stringify([{ ev: 'AM', sym: 'TQQQ', o: 'x' }]));
  await until(() => expect(feed.stats().malformed).toBe(1));
  server.drop();
  for (let m = 1; m <= 3; m++) server.addBars(minute(m));
  clock.set(T0 + 4 * MINUTE_MS + 50);
  await until(() => expect(feed.stats().reconnects).toBe(1));
  server.publish(minute(4));
  await until(() => expect(bars).toHaveLength(10));
  await feed.subscribe(['UPRO']);
  clock.set(T0 + 5 * MINUTE_MS + 50);
  server.publish(minute(5, ['TQQQ', 'SQQQ', 'UPRO']));
  await until(() => expect(bars).toHaveLength(13));
  const stats = feed.stats();
  await feed.disconnect();
  return {
    bars,
    events: events.filter((e) => e.type !== 'state'),
    // Each script has its own server: its URL is named the same in both.
    errors: errors.map((e) => ({ name: e.name, code: (e as unknown as { code: string }).code, message: e.message.replaceAll(server.wsUrl, 'WS') })),
    stats,
    states: events.filter((e) => e.type === 'state').map((e) => `${String((e as { from?: string }).from)}->${String((e as { to?: string }).to)}`),
  };
}

describe('worker: true for Polygon (the same @feed/live worker as Alpaca\'s)', () => {
  it('gives the same bars, events, errors, states and statistics as inline', async () => {
    const inline = await script({});
    await server.close();
    server = await FakePolygonServer.start();
    const worker = await script({ worker: true });
    expect(worker.bars).toHaveLength(13);
    expect(worker.bars).toEqual(inline.bars);
    expect(worker.bars.every(isFrozenBar)).toBe(true);
    expect(worker.events).toEqual(inline.events);
    expect(worker.errors).toEqual(inline.errors);
    expect(worker.states).toEqual(inline.states);
    expect(worker.stats).toEqual(inline.stats);
    expect(worker.stats.barsRecovered).toBe(6);
  });

  it("puts the worker's timers on the main thread's ManualClock: nextTimerAt() and runNextTimer() drive its watchdog and REST retries, sync() makes its state current", async () => {
    const clock = new ManualClock(T0 + MINUTE_MS + 50);
    const feed = new PolygonMultiSymbolFeed({ symbols: SYMBOLS, url: server.wsUrl, restUrl: server.url, apiKey: server.apiKey, clock, keepAlive: false, watchdog: { noDataMs: 60_000, checkIntervalMs: 5_000 }, reconnect: { initialDelayMs: 200, jitter: 0 }, worker: true });
    const retries: { delayMs: number; status: number }[] = [];
    // Waits move the clock, as a test of an inline feed does: the backoff, the REST retry.
    feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
    feed.on('historyRetry', (e) => {
      retries.push({ delayMs: e.delayMs, status: e.status });
      queueMicrotask(() => clock.advance(e.delayMs));
    });
    await feed.connect();
    await feed.start();
    await feed.sync();
    // The watchdog's check, set in the worker, is a timer here.
    expect(clock.nextTimerAt()).toBe(T0 + MINUTE_MS + 50 + 5_000);
    server.silence(true);
    server.fault({ status: 503 });
    // Minute 1 (closed by the time the watchdog trips) is missed live: REST has it.
    server.addBars(minute(1));
    // The checks run one by one until the silence trips the watchdog (a minute without data).
    for (let i = 0; feed.stats().watchdogTrips === 0; i++) {
      if (i > 20) throw new Error(`no trip: ${JSON.stringify(feed.stats())}`);
      clock.runNextTimer();
      await feed.sync();
    }
    // Then the reconnect after its backoff, and the gap fill after its 503 and retry wait.
    await until(() => expect(feed.stats().barsRecovered).toBe(2));
    expect(feed.stats().watchdogTrips).toBe(1);
    expect(retries.map((r) => r.status)).toEqual([503]);
    expect(retries[0]?.delayMs).toBeGreaterThan(0);
    expect(feed.stats().reconnects).toBe(1);
    await feed.disconnect();
    // Nothing of the worker is left on the clock.
    expect(clock.pendingTimers).toBe(0);
  }, 30_000);

  it('refuses what cannot cross to the thread, by name', () => {
    expect(() => new PolygonMultiSymbolFeed({ symbols: SYMBOLS, apiKey: 'k', worker: true, random: () => 0.5 })).toThrow(/random: cannot cross to the worker thread/);
  });
});
