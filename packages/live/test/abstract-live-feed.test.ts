/**
 * `AbstractLiveFeed` with the smallest provider there is (written here: JSON frames, a one-message
 * handshake), on fake sockets and a `ManualClock`: the lifecycle and the bar path every provider
 * inherits, tested once without any provider's protocol.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Bar, FeedError, HistoricalBars } from '@feed/core';
import { MINUTE_MS, ManualClock, barFromValues, parseOptions } from '@feed/core';
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
