import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues } from '@feed/core';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { PolygonHistoricalClient } from '@feed/polygon';
import { FakePolygonServer } from '@feed/polygon/testing';

const T0 = Date.UTC(2025, 9, 16, 13, 30);
const SYMBOLS = ['TQQQ', 'SQQQ'];
const minute = (m: number): Bar[] => SYMBOLS.map((s, k) => barFromValues(s, T0 + m * MINUTE_MS, MINUTE_MS, 50 + k + m, 51 + k + m, 49 + k + m, 50.5 + k + m, 100 + m, Number.NaN, -1, 0));
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 2 });

let alpaca: FakeAlpacaServer;
let polygon: FakePolygonServer;
beforeEach(async () => {
  alpaca = await FakeAlpacaServer.start();
  polygon = await FakePolygonServer.start();
});
afterEach(async () => {
  await alpaca.close();
  await polygon.close();
});

describe("Alpaca's live feed with Polygon's history: gap fill takes either provider", () => {
  it('after a reconnect, the minutes missed come from Polygon, in order, each once', async () => {
    const clock = new ManualClock(T0 + MINUTE_MS + 50);
    const history = new PolygonHistoricalClient({ baseUrl: polygon.url, apiKey: polygon.apiKey, clock });
    const feed = new AlpacaMultiSymbolFeed({
      symbols: SYMBOLS,
      url: alpaca.url(),
      keys: alpaca.keys,
      clock,
      keepAlive: false,
      watchdog: false,
      reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0 },
      gapFill: { history },
    });
    feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
    const got: Bar[] = [];
    feed.on('bar', (e) => got.push(e.bar));
    await feed.connect();
    await feed.start();
    alpaca.publish(minute(0));
    await until(() => expect(got).toHaveLength(2));
    alpaca.drop();
    // Minutes 1-3 happen while the client is away: Polygon has them, Alpaca's REST does not.
    polygon.addBars([1, 2, 3].flatMap(minute));
    clock.set(T0 + 4 * MINUTE_MS + 50);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    alpaca.publish(minute(4), { keep: false });
    await until(() => expect(got).toHaveLength(10));
    expect(got.map((b) => `${b.symbol}@${(b.start - T0) / MINUTE_MS}`)).toEqual([0, 1, 2, 3, 4].flatMap((m) => SYMBOLS.map((s) => `${s}@${m}`)));
    expect(feed.stats().barsRecovered).toBe(6);
    expect(polygon.requests.length).toBeGreaterThanOrEqual(2);
    await feed.disconnect();
  });
});
