import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '@feed/core';
import { FeedError, ManualClock, MINUTE_MS } from '@feed/core';
import type { HistoricalBars } from '@feed/core';
import type { AlpacaFeedOptions, AlpacaMultiSymbolFeed, BarsRequest } from '../src/index.js';
import { AlpacaHistoricalClient } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, data, feedOn, record, OPEN, until } from './helpers.js';

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
async function streamingAfterMinute0(options: Partial<Omit<AlpacaFeedOptions, 'clock'>> = {}): Promise<{ clock: ManualClock; feed: AlpacaMultiSymbolFeed; rec: ReturnType<typeof record> }> {
  const clock = new ManualClock(OPEN + MINUTE_MS + 50);
  const feed = feedOn(server, { clock, ...options });
  const rec = record(feed);
  await feed.connect();
  await feed.start();
  server.publish(minute(0));
  await until(() => expect(rec.bars).toHaveLength(2));
  return { clock, feed, rec };
}

describe('gap fill', () => {
  it('after a reconnect, delivers the missed bars in order before the live ones, each once', async () => {
    const { clock, feed, rec } = await streamingAfterMinute0();
    server.drop();
    // While the client is away: minutes 1-3 happen (kept by the server, sent to no one).
    for (let m = 1; m <= 3; m++) server.publish(minute(m));
    clock.set(OPEN + 4 * MINUTE_MS + 50);
    await until(() => expect(feed.stats().reconnects).toBe(1));
    server.publish(minute(4));
    await until(() => expect(rec.bars).toHaveLength(10));
    const expected = [0, 1, 2, 3, 4].flatMap(minute);
    expect(rec.bars.map(data)).toEqual(expected.map(data));
    expect(feed.stats().barsRecovered).toBe(6);
    expect(rec.events.filter((e) => e.type === 'gapFill').map((e) => e.recovered)).toEqual([6]);
    await feed.disconnect();
  });

  it('a bar that arrives live while the backfill is in flight is held, then delivered once', async () => {
    let release: (() => void) | undefined;
    const requests: BarsRequest[] = [];
    const real = new AlpacaHistoricalClient({ baseUrl: server.restUrl, keys: server.keys, clock: new ManualClock(OPEN + 10 * MINUTE_MS) });
    const slow: HistoricalBars = {
      async barsBySymbol(request) {
        requests.push(request);
        await new Promise<void>((r) => {
          release = r;
        });
        return real.barsBySymbol(request);
      },
    };
    // A deadline longer than the clock's jump below: this test is about holding, not about the deadline.
    const { clock, feed, rec } = await streamingAfterMinute0({ gapFill: { history: slow, timeoutMs: 600_000 } });
    server.drop();
    server.publish(minute(1));
    clock.set(OPEN + 2 * MINUTE_MS + 50);
    await until(() => expect(requests).toHaveLength(1));
    // The backfill is in flight: minute 2 arrives live, and minute 1 is still missing.
    server.publish(minute(2));
    await until(() => expect(feed.stats().latency.count).toBe(2));
    expect(rec.bars).toHaveLength(2);
    // The REST answer will also hold minute 2 (end = now - 1 min covers it once the clock moves on).
    clock.set(OPEN + 3 * MINUTE_MS + 50);
    release?.();
    await until(() => expect(rec.bars).toHaveLength(6));
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
    await until(() => expect(rec.bars).toHaveLength(8));
    expect(feed.stats().barsRecovered).toBe(6);
    await feed.disconnect();
  });

  it('a restart after stop() recovers what arrived while stopped', async () => {
    const { clock, feed, rec } = await streamingAfterMinute0();
    await feed.stop();
    server.publish(minute(1));
    await until(() => expect(feed.stats().ignoredWhileStopped).toBe(2));
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
    await until(() => expect(feed.stats().gapFillFailures).toBe(1));
    server.publish(minute(3));
    await until(() => expect(rec.bars).toHaveLength(4));
    const gap = rec.errors.find((e) => FeedError.isInstance(e) && e.code === 'gap_unfilled') as FeedError;
    expect(gap.message).toMatch(/gap fill \(reconnect\) failed: bars of TQQQ, SQQQ from 2025-10-16T13:31:00.000Z to 2025-10-16T13:32:00.055Z may be missing; HTTP 403/);
    expect(gap.detail).toMatchObject({ symbols: ['TQQQ', 'SQQQ'], from: OPEN + MINUTE_MS, to: OPEN + 2 * MINUTE_MS + 55, reason: 'reconnect', timedOut: false });
    expect(feed.stats().errorsByCode).toMatchObject({ gap_unfilled: 1 });
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
    await until(() => expect(rec.events.filter((e) => e.type === 'gapFill')).toHaveLength(1));
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
    await until(() => expect(feed.stats().reconnects).toBe(1));
    await feed.start();
    server.publish(minute(1));
    await until(() => expect(rec.bars).toHaveLength(2));
    await feed.disconnect();
  });
});

describe('bounded gap fill', () => {
  /** A started feed after minute 0, then a drop while minutes 1-2 happen; the reconnect's fill meets `fault`. */
  async function dropWith(fault: (typeof server.rest.failNext)[number], options: Partial<Omit<AlpacaFeedOptions, 'clock'>> = {}, held = true) {
    const ctx = await streamingAfterMinute0(options);
    server.rest.always = fault;
    server.drop();
    for (let m = 1; m <= 2; m++) server.publish(minute(m));
    ctx.clock.set(OPEN + 3 * MINUTE_MS + 50);
    await until(() => expect(ctx.feed.stats().reconnects).toBe(1));
    // Minute 3 arrives live after the reconnect: held behind a fill that waits (a fast-failing one
    // may already be over, and then there is nothing to hold).
    server.publish(minute(3));
    if (held) await until(() => expect(ctx.feed.stats().heldBars).toBe(2));
    return ctx;
  }

  it('a REST that never answers: the held live bars go out at the deadline, the gap is reported, and no request follows', async () => {
    const { clock, feed, rec } = await dropWith('hang');
    await until(() => expect(server.hangingRequests).toBe(1));
    const requests = server.stats.restRequests;
    expect(feed.stats().gapFillInProgress).toBe(true);
    clock.advance(9_999);
    expect(rec.bars).toHaveLength(2);
    clock.advance(1);
    await until(() => expect(rec.bars).toHaveLength(4));
    expect(rec.bars.slice(2).map(data)).toEqual(minute(3).map(data));
    const gap = rec.errors.find((e) => FeedError.isInstance(e) && e.code === 'gap_unfilled') as FeedError;
    expect(gap.message).toMatch(/did not finish within 10000 ms/);
    expect(gap.detail).toMatchObject({ symbols: ['TQQQ', 'SQQQ'], from: OPEN + MINUTE_MS, timedOut: true });
    const s = feed.stats();
    expect(s).toMatchObject({ gapFillFailures: 1, gapFillTimeouts: 1, gapFillInProgress: false, heldBars: 0 });
    expect(server.stats.restRequests).toBe(requests);
    await feed.disconnect();
  });

  it('disconnect() during a hanging fill resolves at once (clock still) and makes no request after', async () => {
    const { clock, feed } = await dropWith('hang');
    await until(() => expect(server.hangingRequests).toBe(1));
    const t = clock.now();
    const requests = server.stats.restRequests;
    await feed.disconnect();
    expect(clock.now()).toBe(t);
    expect(feed.state).toBe('closed');
    expect(server.stats.restRequests).toBe(requests);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stop() during a hanging fill resolves at once; the restart fills the gap', async () => {
    const { clock, feed, rec } = await dropWith('hang');
    await feed.stop();
    expect(feed.stats().ignoredWhileStopped).toBe(2);
    server.rest.always = undefined;
    clock.set(OPEN + 4 * MINUTE_MS + 50);
    await feed.start();
    expect(rec.bars.map(data)).toEqual([0, 1, 2, 3].flatMap(minute).map(data));
    await feed.disconnect();
  });

  it('a repeating next_page_token is a protocol error at once: gap reported, held bars released, requests stop', async () => {
    const { feed, rec } = await dropWith('loop-token', {}, false);
    await until(() => expect(rec.bars).toHaveLength(4));
    expect(server.stats.restRequests).toBe(2);
    const gap = rec.errors.find((e) => FeedError.isInstance(e) && e.code === 'gap_unfilled') as FeedError;
    expect(gap.message).toMatch(/was already followed \(the pages loop\)/);
    expect((gap.cause as FeedError).code).toBe('protocol');
    const requests = server.stats.restRequests;
    await feed.disconnect();
    expect(server.stats.restRequests).toBe(requests);
  });

  it('429 without headers: retried with backoff inside the deadline, and nothing is lost', async () => {
    const { clock, feed, rec } = await dropWith({ status: 429, headers: false });
    // The first 429 has been answered once the client waits 500 ms on the clock; only then do the
    // next answers change (two more 429s, then bars), so the order cannot race the request.
    await until(() => expect(clock.nextTimerAt()).toBe(clock.now() + 500));
    server.rest.always = undefined;
    server.rest.failNext.push({ status: 429, headers: false }, { status: 429, headers: false });
    clock.advance(500);
    for (const wait of [1000, 2000]) {
      await until(() => expect(clock.nextTimerAt()).toBe(clock.now() + wait));
      clock.advance(wait);
    }
    await until(() => expect(rec.bars).toHaveLength(8));
    expect(rec.bars.map(data)).toEqual([0, 1, 2, 3].flatMap(minute).map(data));
    expect(feed.stats().gapFillFailures).toBe(0);
    await feed.disconnect();
  });
});
