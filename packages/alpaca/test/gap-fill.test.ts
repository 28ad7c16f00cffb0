import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { ManualClock, MINUTE_MS } from '@feed/core';
import type { AlpacaFeedOptions, AlpacaMultiSymbolFeed, BarsRequest, HistoricalBars } from '../src/index.js';
import { AlpacaHistoricalClient } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, data, feedOn, record, OPEN } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

const SYMBOLS = ['TQQQ', 'SQQQ'];
const minute = (m: number): Bar[] => bars(SYMBOLS, 1, OPEN + m * MINUTE_MS);

/** A started feed on a manual clock that has delivered minute 0 live. */
async function streamingAfterMinute0(options: Partial<AlpacaFeedOptions> = {}): Promise<{ clock: ManualClock; feed: AlpacaMultiSymbolFeed; rec: ReturnType<typeof record> }> {
  const clock = new ManualClock(OPEN + MINUTE_MS + 50);
  const feed = feedOn(server, { clock, ...options });
  const rec = record(feed);
  await feed.connect();
  await feed.start();
  server.publish(minute(0));
  await vi.waitFor(() => expect(rec.bars).toHaveLength(2));
  return { clock, feed, rec };
}

describe('gap fill', () => {
  it('after a reconnect, delivers the missed bars in order before the live ones, each once', async () => {
    const { clock, feed, rec } = await streamingAfterMinute0();
    server.drop();
    // While the client is away: minutes 1-3 happen (kept by the server, sent to no one).
    for (let m = 1; m <= 3; m++) server.publish(minute(m));
    clock.set(OPEN + 4 * MINUTE_MS + 50);
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    server.publish(minute(4));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(10));
    const expected = [0, 1, 2, 3, 4].flatMap(minute);
    expect(rec.bars.map(data)).toEqual(expected.map(data));
    expect(feed.stats().barsRecovered).toBe(6);
    expect(rec.events.filter((e) => e.type === 'gapFill').map((e) => e.recovered)).toEqual([6]);
    await feed.disconnect();
  });

  it('a bar that arrives live while the backfill is in flight is held, then delivered once', async () => {
    let release: (() => void) | undefined;
    const requests: BarsRequest[] = [];
    const real = new AlpacaHistoricalClient({ baseUrl: server.restUrl, keys: server.keys });
    const slow: HistoricalBars = {
      async barsBySymbol(request) {
        requests.push(request);
        await new Promise<void>((r) => {
          release = r;
        });
        return real.barsBySymbol(request);
      },
    };
    const { clock, feed, rec } = await streamingAfterMinute0({ gapFill: { history: slow } });
    server.drop();
    server.publish(minute(1));
    clock.set(OPEN + 2 * MINUTE_MS + 50);
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    // The backfill is in flight: minute 2 arrives live, and minute 1 is still missing.
    server.publish(minute(2));
    await vi.waitFor(() => expect(feed.stats().latency.count).toBe(2));
    expect(rec.bars).toHaveLength(2);
    // The REST answer will also hold minute 2 (end = now - 1 min covers it once the clock moves on).
    clock.set(OPEN + 3 * MINUTE_MS + 50);
    release?.();
    await vi.waitFor(() => expect(rec.bars).toHaveLength(6));
    expect(rec.bars.map(data)).toEqual([0, 1, 2].flatMap(minute).map(data));
    const s = feed.stats();
    expect(s.barsRecovered + s.duplicatesDropped).toBeGreaterThanOrEqual(2);
    expect(new Set(rec.bars.map((b) => `${b.symbol}@${b.start}`)).size).toBe(6);
    await feed.disconnect();
  });

  it('warm-up: the first start delivers each symbol\'s last N bars before the live ones', async () => {
    server.addHistory([0, 1, 2, 3, 4, 5].flatMap(minute));
    const clock = new ManualClock(OPEN + 6 * MINUTE_MS + 50);
    const feed = feedOn(server, { clock, gapFill: { warmupBars: 3 } });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    expect(rec.bars.map(data)).toEqual([3, 4, 5].flatMap(minute).map(data));
    server.publish(minute(6));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(8));
    expect(feed.stats().barsRecovered).toBe(6);
    await feed.disconnect();
  });

  it('a restart after stop() recovers what arrived while stopped', async () => {
    const { clock, feed, rec } = await streamingAfterMinute0();
    await feed.stop();
    server.publish(minute(1));
    await vi.waitFor(() => expect(feed.stats().ignoredWhileStopped).toBe(2));
    clock.set(OPEN + 2 * MINUTE_MS + 50);
    await feed.start();
    expect(rec.bars.map(data)).toEqual([0, 1].flatMap(minute).map(data));
    await feed.disconnect();
  });

  it('a failed backfill is reported, counted, and the held live bars are still delivered', async () => {
    const { clock, feed, rec } = await streamingAfterMinute0();
    server.rest.failNext.push(403);
    clock.set(OPEN + 3 * MINUTE_MS + 50);
    server.drop();
    await vi.waitFor(() => expect(feed.stats().gapFillFailures).toBe(1));
    server.publish(minute(5));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(4));
    expect(rec.errors.some((e) => /gap fill failed \(reconnect\).*HTTP 403/.test(e.message))).toBe(true);
    await feed.disconnect();
  });
});

describe('gap fill for a symbol subscribed while running', () => {
  it('recovers its bars from its subscription on, not from before', async () => {
    const clock = new ManualClock(OPEN + MINUTE_MS + 50);
    const feed = feedOn(server, { clock, symbols: ['TQQQ'] });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.publish(bars(['TQQQ', 'SVIX'], 1));
    clock.set(OPEN + 10 * MINUTE_MS + 50);
    await feed.subscribe(['SVIX']);
    server.drop();
    for (let m = 1; m <= 11; m++) server.publish(bars(['TQQQ', 'SVIX'], 1, OPEN + m * MINUTE_MS));
    clock.set(OPEN + 12 * MINUTE_MS + 50);
    await vi.waitFor(() => expect(feed.stats().gapFills).toBe(1));
    const svix = rec.bars.filter((b) => b.symbol === 'SVIX').map((b) => (b.start - OPEN) / MINUTE_MS);
    // Subscribed during minute 10 (clock at 10:00.05): from the bar in progress then, minute 9, on.
    expect(svix).toEqual([9, 10, 11]);
    expect(rec.bars.filter((b) => b.symbol === 'TQQQ')).toHaveLength(12);
    await feed.disconnect();
  });
});

describe('a reconnect before the first start()', () => {
  it('does not leave live bars held: start() delivers, and later bars flow', async () => {
    const clock = new ManualClock(OPEN + MINUTE_MS + 50);
    const feed = feedOn(server, { clock });
    const rec = record(feed);
    await feed.connect();
    server.drop();
    await vi.waitFor(() => expect(feed.stats().reconnects).toBe(1));
    await feed.start();
    server.publish(minute(1));
    await vi.waitFor(() => expect(rec.bars).toHaveLength(2));
    await feed.disconnect();
  });
});
