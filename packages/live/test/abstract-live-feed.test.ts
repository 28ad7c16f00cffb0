/**
 * `AbstractLiveFeed` with the smallest provider there is (written here: JSON frames, a one-message
 * handshake), on fake sockets and a `ManualClock`: the lifecycle and the bar path every provider
 * inherits, tested once without any provider's protocol.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Bar, FeedError, HistoricalBars, TradingStatus } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues, makeTradingStatus, parseOptions } from '@feed/core';
import { z } from 'zod';
import type { Session } from '../src/index.js';
import { AbstractLiveFeed, MAX_HELD_BEFORE_START, liveOptionsShape, resolveLiveOptions } from '../src/index.js';
import type { LiveFeedOptions } from '../src/index.js';
import { fakeFactory } from './fake-socket.js';
import type { FakeSocket } from './fake-socket.js';

const T0 = Date.UTC(2025, 9, 16, 13, 30);
const schema = z.object(liveOptionsShape);

/** A toy provider: `{"hello":1}` completes the handshake; `{"s":SYM,"m":MINUTE,"u":true?}` is a bar. */
class ToyFeed extends AbstractLiveFeed {
  readonly type = 'toy';
  sent: unknown[] = [];
  constructor(options: LiveFeedOptions, readonly history: HistoricalBars = { barsBySymbol: () => Promise.resolve(new Map()) }) {
    super(resolveLiveOptions(parseOptions(schema, options, 'ToyFeed options')), { url: 'ws://toy.invalid/stream', headers: () => ({}), secrets: () => ['toy-secret-1234567890'], isFatal: () => false });
  }
  protected createHistory(): HistoricalBars {
    return this.history;
  }
  protected sendSubscription(_s: Session, action: string, symbols: readonly string[]): Promise<void> {
    this.sent.push({ action, symbols });
    return Promise.resolve();
  }
  protected onFrame(session: Session, data: string | Uint8Array): void {
    const m = JSON.parse(String(data)) as { hello?: number; s?: string; m?: number; u?: boolean };
    this.countMessages(1);
    if (m.hello !== undefined) {
      this.authenticated();
      this.handshakeDone(session);
      return;
    }
    this.acceptBar(bar(m.s ?? '', m.m ?? 0, this.clock.now()), m.u === true);
  }
}

const bar = (symbol: string, minute: number, receivedAt = 0, close = 10): Bar => barFromValues(symbol, T0 + minute * MINUTE_MS, MINUTE_MS, 10, 11, 9, close, 100, Number.NaN, -1, receivedAt);

function toy(extra: Partial<LiveFeedOptions> = {}, history?: HistoricalBars) {
  const clock = new ManualClock(T0 + 30 * MINUTE_MS);
  const { factory, sockets } = fakeFactory();
  const feed = new ToyFeed({ symbols: ['AAA', 'BBB'], clock, webSocketFactory: factory, keepAlive: false, watchdog: false, gapFill: false, reconnect: { initialDelayMs: 10, maxDelayMs: 10, jitter: 0 }, ...extra }, history);
  const bars: Bar[] = [];
  const errors: FeedError[] = [];
  feed.on('bar', (e) => bars.push(e.bar));
  feed.on('error', (e) => errors.push(e.error));
  feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
  const socket = (): FakeSocket => sockets[sockets.length - 1] as FakeSocket;
  const open = async (): Promise<void> => {
    const done = feed.connect();
    socket().open();
    socket().receive('{"hello":1}');
    await done;
  };
  const send = (m: Record<string, unknown>): void => socket().receive(JSON.stringify(m));
  return { feed, clock, sockets, socket, open, send, bars, errors };
}

const minutes = (bars: Bar[]): string[] => bars.map((b) => `${b.symbol}${(b.start - T0) / MINUTE_MS}`);

describe('AbstractLiveFeed: the lifecycle every provider inherits', () => {
  it('stop() while connecting cancels the connect and resolves: connect() rejects with aborted, the feed is idle, no socket left', async () => {
    const t = toy();
    const connecting = t.feed.connect().catch((e: unknown) => e);
    expect(t.feed.state).toBe('connecting');
    await t.feed.stop();
    expect(await connecting).toMatchObject({ code: 'aborted' });
    expect(t.feed.state).toBe('idle');
    expect(t.feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
    expect(t.errors).toEqual([]);
  });

  it('disconnect() while connecting (a slow or absent network) resolves and ends closed', async () => {
    const t = toy();
    const connecting = t.feed.connect().catch((e: unknown) => e);
    t.socket().serverClose(1006); // the first attempt fails; the second waits in its backoff
    await t.feed.disconnect();
    expect(await connecting).toMatchObject({ code: 'aborted' });
    expect(t.feed.state).toBe('closed');
    expect(t.feed.resources().timers).toBe(0);
  });
});

describe('AbstractLiveFeed: the bar path every provider inherits', () => {
  it('bars before the first start are kept up to the cap and delivered on start; past the cap, counted as ignored', async () => {
    const t = toy();
    await t.open();
    for (let i = 0; i < MAX_HELD_BEFORE_START + 2; i++) t.send({ s: 'AAA', m: i % 30 });
    expect(t.feed.stats()).toMatchObject({ heldBars: MAX_HELD_BEFORE_START, ignoredWhileStopped: 2 });
    await t.feed.start();
    // Delivered in arrival order: the first 30 minutes, then every later copy is a duplicate.
    expect(minutes(t.bars)).toEqual(Array.from({ length: 30 }, (_, m) => `AAA${m}`));
    expect(t.feed.stats()).toMatchObject({ heldBars: 0, duplicatesDropped: MAX_HELD_BEFORE_START - 30 });
    await t.feed.disconnect();
  });

  it('bars while stopped are dropped and counted (ignoredWhileStopped); after the restart, delivery goes on', async () => {
    const t = toy();
    await t.open();
    await t.feed.start();
    t.send({ s: 'AAA', m: 0 });
    await t.feed.stop();
    t.send({ s: 'AAA', m: 1 });
    t.send({ s: 'BBB', m: 1 });
    expect(t.feed.stats().ignoredWhileStopped).toBe(2);
    await t.feed.start();
    t.send({ s: 'AAA', m: 2 });
    expect(minutes(t.bars)).toEqual(['AAA0', 'AAA2']);
    await t.feed.disconnect();
  });

  it('a bar for an unsubscribed symbol, off the grid, or ahead of the clock is refused, typed and counted; a duplicate dropped; a revision passes', async () => {
    const t = toy();
    await t.open();
    await t.feed.start();
    t.send({ s: 'AAA', m: 0 });
    t.send({ s: 'ZZZ', m: 0 });
    t.send({ s: 'AAA', m: 0.5 });
    t.send({ s: 'AAA', m: 40 });
    t.send({ s: 'AAA', m: 0 });
    t.send({ s: 'AAA', m: 0, u: true });
    t.send({ s: 'AAA', m: 1 });
    expect(minutes(t.bars)).toEqual(['AAA0', 'AAA0', 'AAA1']);
    const s = t.feed.stats();
    expect(s).toMatchObject({ unexpectedSymbolBars: 1, rejectedBars: 2, duplicatesDropped: 1, messages: 8, frames: 8 });
    expect(t.errors.map((e) => e.code)).toEqual(['unknown_symbol', 'invalid_bar', 'invalid_bar']);
    expect(s.latency.count).toBe(3);
    expect(s.latencyBySymbol.AAA?.count).toBe(3);
    await t.feed.disconnect();
  });

  it('recovered bars are checked like live ones: an off-grid one from the history is refused, the rest delivered once, in order', async () => {
    const history: HistoricalBars = {
      barsBySymbol: () => Promise.resolve(new Map([['AAA', [bar('AAA', 1), { ...bar('AAA', 2), start: T0 + 2 * MINUTE_MS + 7 }, bar('AAA', 3)]]])),
    };
    const t = toy({ gapFill: { timeoutMs: 10_000 } }, history);
    await t.open();
    await t.feed.start();
    t.send({ s: 'AAA', m: 0 });
    t.socket().serverClose(1006);
    await vi.waitFor(() => expect(t.sockets).toHaveLength(2));
    t.socket().open();
    t.socket().receive('{"hello":1}');
    await vi.waitFor(() => expect(minutes(t.bars)).toEqual(['AAA0', 'AAA1', 'AAA3']));
    expect(t.feed.stats()).toMatchObject({ barsRecovered: 2, rejectedBars: 1, gapFills: 1, reconnects: 1 });
    await t.feed.disconnect();
  });

  it('subscribe() checks symbols as tickers, records the addition for gap fill, and sends when connected', async () => {
    const t = toy();
    expect(() => t.feed.subscribe(['../x'])).toThrow(/must be a ticker/);
    await t.open();
    await t.feed.subscribe(['CCC', 'AAA']);
    expect(t.feed.sent).toEqual([{ action: 'subscribe', symbols: ['CCC'] }]);
    await t.feed.start();
    t.send({ s: 'CCC', m: 0 });
    expect(minutes(t.bars)).toEqual(['CCC0']);
    await t.feed.unsubscribe(['CCC']);
    t.send({ s: 'CCC', m: 1 });
    expect(t.feed.stats().unexpectedSymbolBars).toBe(1);
    await t.feed.disconnect();
  });

  it('every error leaves without the secret, even when the server echoes it', async () => {
    const t = toy();
    await t.open();
    await t.feed.start();
    t.send({ s: 'toy-secret-1234567890', m: 0 });
    expect(t.errors[0]?.message).not.toContain('secret-12345');
    await t.feed.disconnect();
  });
});

describe('AbstractLiveFeed: warm-up that joins live (warmUp)', () => {
  /**
   * The provider's history, written here: AAA every regular-hours minute, BBB every other one, over
   * 2025-10-15 and 2025-10-16 up to the minute in progress (a REST service may serve a minute not yet
   * ended: it must not be used). `asked` records every request.
   */
  function truth(now: () => number) {
    const asked: { start: number; end: number; symbols: readonly string[] }[] = [];
    const all: Bar[] = [];
    for (const open of [T0 - 86_400_000, T0]) {
      for (let m = 0; m < 390; m++) {
        const start = open + m * MINUTE_MS;
        all.push(barFromValues('AAA', start, MINUTE_MS, 10, 11, 9, 10 + m / 100, 100, Number.NaN, -1, 0));
        if (m % 2 === 0) all.push(barFromValues('BBB', start, MINUTE_MS, 20, 21, 19, 20 + m / 100, 100, Number.NaN, -1, 0));
      }
    }
    let gate: Promise<void> = Promise.resolve();
    const history: HistoricalBars & { hold(): () => void } = {
      barsBySymbol: async (req) => {
        const start = req.start as number;
        const end = req.end as number;
        asked.push({ start, end, symbols: req.symbols });
        await gate;
        const out = new Map<string, Bar[]>();
        for (const s of req.symbols) out.set(s, all.filter((b) => b.symbol === s && b.start >= start && b.start <= end && b.start <= now()));
        return out;
      },
      hold: () => {
        let release = (): void => undefined;
        gate = new Promise((r) => {
          release = r;
        });
        return release;
      },
    };
    return { all, asked, history };
  }

  /** Every start a listener saw per symbol, warm-up then bars, in order. */
  function seen(feed: ToyFeed) {
    const starts: { AAA: number[]; BBB: number[]; [symbol: string]: number[] | undefined } = { AAA: [], BBB: [] };
    feed.on('warmup', (e) => {
      for (const b of e.bars) starts[b.symbol]?.push(b.start);
    });
    feed.on('bar', (e) => starts[e.bar.symbol]?.push(e.bar.start));
    return starts;
  }

  const expectedStarts = (all: Bar[], symbol: string, count: number, through: number): number[] => {
    const mine = all.filter((b) => b.symbol === symbol && b.start <= through).map((b) => b.start);
    return mine.slice(-count);
  };

  it('the seam inside a minute: exactly N regular-hours bars per symbol, then live with no gap and no duplicate', async () => {
    let now = (): number => 0;
    const { all, history } = truth(() => now());
    // The feed's own history (its gap fill's) serves the warm-up.
    const h = toy({ gapFill: { timeoutMs: 10_000, history } });
    now = () => h.clock.now();
    const starts = seen(h.feed);
    h.clock.set(T0 + 30 * MINUTE_MS + 30_000); // 10:00:30: the 10:00 minute is in progress
    await h.open();
    const r = await h.feed.warmUp({ bars: 200 });
    // The last minute that has ended is 09:59; BBB (every other minute) reaches back into the day before for its 200.
    expect(r).toMatchObject({ to: T0 + 29 * MINUTE_MS, counts: { AAA: 200, BBB: 200 }, short: [], requested: { bars: 200 } });
    expect(starts.AAA).toEqual(expectedStarts(all, 'AAA', 200, T0 + 29 * MINUTE_MS));
    expect(starts.BBB).toEqual(expectedStarts(all, 'BBB', 200, T0 + 29 * MINUTE_MS));
    expect(starts.BBB[0]).toBeLessThan(T0 - 12 * 3_600_000);
    // The 09:59 bar arrives live too (late), before start: a duplicate of the warm-up's, dropped.
    h.send({ s: 'AAA', m: 29 });
    await h.feed.start();
    h.clock.set(T0 + 31 * MINUTE_MS + 100);
    h.send({ s: 'AAA', m: 30 });
    h.send({ s: 'BBB', m: 30 });
    expect(starts.AAA.slice(-2)).toEqual([T0 + 29 * MINUTE_MS, T0 + 30 * MINUTE_MS]);
    expect(starts.BBB.slice(-2)).toEqual([T0 + 28 * MINUTE_MS, T0 + 30 * MINUTE_MS]);
    for (const s of ['AAA', 'BBB']) expect(new Set(starts[s]).size).toBe(starts[s]?.length);
    expect(h.feed.stats()).toMatchObject({ warmUpBars: 400, duplicatesDropped: 1, barsReceived: 2 });
    await h.feed.disconnect();
  });

  it('a reconnect during the warm-up: the minutes the stream missed are filled at start(), every minute exactly once', async () => {
    let now = (): number => 0;
    const { all, history, asked } = truth(() => now());
    const t = toy({ gapFill: { timeoutMs: 10_000, history } });
    now = () => t.clock.now();
    const starts = seen(t.feed);
    t.clock.set(T0 + 30 * MINUTE_MS + 10_000);
    await t.open();
    const release = history.hold();
    const warming = t.feed.warmUp({ minutes: 60 });
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    // The connection drops while the history request is out; the clock moves on three minutes; reconnect.
    t.socket().serverClose(1006);
    t.clock.set(T0 + 33 * MINUTE_MS + 10_000);
    await vi.waitFor(() => expect(t.sockets).toHaveLength(2));
    t.socket().open();
    t.socket().receive('{"hello":1}');
    await vi.waitFor(() => expect(t.feed.stats().reconnects).toBe(1));
    // Live again: the 10:33 minute arrives on the new connection (10:30-10:32 came while it was down).
    t.clock.set(T0 + 34 * MINUTE_MS + 100);
    t.send({ s: 'AAA', m: 33 });
    release();
    const r = await warming;
    expect(r).toMatchObject({ to: T0 + 29 * MINUTE_MS, counts: { AAA: 60, BBB: 30 } });
    await t.feed.start();
    await vi.waitFor(() => expect(t.feed.stats().gapFillInProgress).toBe(false));
    // The warm-up: the last 60 regular-hours minutes to 09:59 (30 today, 30 the day before); then
    // 10:00-10:03 (m = 30-33) at start(), once each.
    const firstWarm = expectedStarts(all, 'AAA', 60, T0 + 29 * MINUTE_MS)[0] as number;
    for (const s of ['AAA', 'BBB']) {
      const through = s === 'AAA' ? T0 + 33 * MINUTE_MS : T0 + 32 * MINUTE_MS;
      const want = all.filter((b) => b.symbol === s && b.start >= firstWarm && b.start <= through).map((b) => b.start);
      expect(starts[s], s).toEqual(want);
    }
    // At start() (10:34) REST already has 10:33: the fill brings AAA 10:00-10:03 and BBB 10:00, 10:02; the
    // live 10:03 held behind it is then a duplicate, dropped.
    expect(t.feed.stats()).toMatchObject({ barsRecovered: 4 + 2, duplicatesDropped: 1 });
    await t.feed.disconnect();
  });

  it('a second warmUp(), or one after start(): a StateError', async () => {
    const { history } = truth(() => Date.now());
    const t = toy({ gapFill: { timeoutMs: 10_000, history } });
    await t.open();
    await t.feed.warmUp({ minutes: 1 });
    await expect(t.feed.warmUp({ minutes: 1 })).rejects.toMatchObject({ code: 'invalid_state' });
    const u = toy({ gapFill: { timeoutMs: 10_000, history } });
    await u.open();
    await u.feed.start();
    await expect(u.feed.warmUp({ bars: 10 })).rejects.toMatchObject({ code: 'invalid_state' });
    await t.feed.disconnect();
    await u.feed.disconnect();
  });
});

describe('AbstractLiveFeed: trading statuses', () => {
  it('a status of a subscribed symbol is delivered at once; another symbol or while stopped: dropped and counted', async () => {
    class StatusToy extends ToyFeed {
      push(s: TradingStatus): void {
        this.acceptStatus(s);
      }
    }
    const clock = new ManualClock(T0);
    const { factory, sockets } = fakeFactory();
    const feed = new StatusToy({ symbols: ['AAA'], clock, webSocketFactory: factory, keepAlive: false, watchdog: false, gapFill: false });
    const got: TradingStatus[] = [];
    const errors: FeedError[] = [];
    feed.on('tradingStatus', (e) => got.push(e.status));
    feed.on('error', (e) => errors.push(e.error));
    const st = (symbol: string) => makeTradingStatus({ symbol, at: T0, kind: 'status', effect: 'halt', code: 'H', receivedAt: T0 });
    feed.push(st('AAA'));
    feed.push(st('ZZZ'));
    expect(got.map((s) => s.symbol)).toEqual(['AAA']);
    expect(errors.map((e) => e.code)).toEqual(['unknown_symbol']);
    const connected = feed.connect();
    (sockets[0] as FakeSocket).open();
    (sockets[0] as FakeSocket).receive('{"hello":1}');
    await connected;
    await feed.start();
    feed.push(st('AAA'));
    await feed.stop();
    feed.push(st('AAA'));
    expect(got).toHaveLength(2);
    expect(feed.stats()).toMatchObject({ tradingStatuses: 2, statusesDropped: 2 });
    await feed.disconnect();
  });
});
