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

  it('refuses what cannot cross to the thread, by name', () => {
    expect(() => new PolygonMultiSymbolFeed({ symbols: SYMBOLS, apiKey: 'k', worker: true, random: () => 0.5 })).toThrow(/random: cannot cross to the worker thread/);
  });
});
