import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TradingStatus } from '@feed/core';
import { FeedError, makeTradingStatus } from '@feed/core';
import { FakeAlpacaServer } from '../src/testing.js';
import type { StreamEncoding } from '../src/index.js';
import { defaultWebSocketFactory } from '@feed/live';
import { bars, data, feedOn, record, OPEN, until } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

describe.each<[StreamEncoding, 'message' | 'headers']>([
  ['json', 'message'],
  ['msgpack', 'message'],
  ['json', 'headers'],
  ['msgpack', 'headers'],
])('happy path (%s, auth by %s)', (encoding, auth) => {
  it('connects, authenticates, subscribes and delivers every bar unchanged and in order', async () => {
    const feed = feedOn(server, { encoding, auth });
    const rec = record(feed);
    await feed.connect();
    expect(feed.state).toBe('connected');
    expect(feed.subscription.bars).toEqual(['TQQQ', 'SQQQ']);
    await feed.start();
    const sent = bars(['TQQQ', 'SQQQ'], 150);
    server.publish(sent, { frameSize: 100 });
    await until(() => expect(rec.bars).toHaveLength(300));
    expect(rec.bars.map(data)).toEqual(sent.map(data));
    expect(rec.errors).toEqual([]);
    const s = feed.stats();
    expect(s.barsBySymbol).toEqual({ TQQQ: 150, SQQQ: 150 });
    expect(s.malformed).toBe(0);
    expect(s.connectAttempts).toBe(1);
    expect(s.latency.count).toBe(300);
    expect(rec.events.map((e) => e.type).filter((t) => t !== 'state')).toEqual(['open', 'authenticated', 'subscription']);
    await feed.disconnect();
    expect(feed.state).toBe('closed');
    await server.waitFor((st) => st.open === 0);
    expect(server.stats.cleanCloses).toBe(1);
    expect(feed.resources()).toEqual({ timers: 0, socketListeners: 0, sockets: 0 });
  });
});

describe('trading statuses (channels statuses and lulds)', () => {
  it('subscribes the channels, delivers each status of a subscribed symbol as a tradingStatus event, json and msgpack', async () => {
    for (const encoding of ['json', 'msgpack'] as const) {
      const feed = feedOn(server, { encoding, channels: { statuses: true, lulds: true } });
      const got: TradingStatus[] = [];
      feed.on('tradingStatus', (e) => got.push(e.status));
      await feed.connect();
      expect(feed.subscription.statuses).toEqual(['TQQQ', 'SQQQ']);
      expect(feed.subscription.lulds).toEqual(['TQQQ', 'SQQQ']);
      await feed.start();
      const sent = [
        makeTradingStatus({ symbol: 'TQQQ', at: OPEN + 30_500, kind: 'status', effect: 'halt', code: 'H', message: 'Trading Halt', reasonCode: 'LUDP', reasonMessage: 'Volatility Trading Pause', tape: 'C', receivedAt: 0 }),
        makeTradingStatus({ symbol: 'SQQQ', at: OPEN + 40_000, kind: 'luld', effect: 'none', code: 'A', limitUp: 21, limitDown: 19, tape: 'C', receivedAt: 0 }),
        makeTradingStatus({ symbol: 'TQQQ', at: OPEN + 330_500, kind: 'status', effect: 'resume', code: 'T', message: 'Trading Resumption', tape: 'C', receivedAt: 0 }),
      ];
      expect(server.publishStatus(sent)).toBe(3);
      await until(() => expect(got).toHaveLength(3));
      expect(got.map(({ receivedAt: _, ...rest }) => rest)).toEqual(sent.map(({ receivedAt: _, ...rest }) => rest));
      expect(feed.stats().tradingStatuses).toBe(3);
      await feed.disconnect();
    }
  });

  it('without the channels nothing is subscribed and nothing arrives', async () => {
    const feed = feedOn(server);
    const got: TradingStatus[] = [];
    feed.on('tradingStatus', (e) => got.push(e.status));
    await feed.connect();
    await feed.start();
    expect(feed.subscription.statuses).toEqual([]);
    expect(server.publishStatus([makeTradingStatus({ symbol: 'TQQQ', at: OPEN, kind: 'status', effect: 'halt', code: 'H', receivedAt: 0 })])).toBe(0);
    await feed.disconnect();
    expect(got).toEqual([]);
  });
});

describe('messages', () => {
  it('accepts times with fractional seconds', async () => {
    await server.close();
    server = await FakeAlpacaServer.start({ fractionalSeconds: true });
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    const sent = bars(['TQQQ'], 3);
    server.publish(sent);
    await until(() => expect(rec.bars).toHaveLength(3));
    expect(rec.bars.map((b) => b.start)).toEqual(sent.map((b) => b.start));
    await feed.disconnect();
  });

  it('delivers updated bars as revisions with the same start, and counts them', async () => {
    const feed = feedOn(server, { channels: { updatedBars: true } });
    const rec = record(feed);
    await feed.connect();
    expect(feed.subscription.updatedBars).toEqual(['TQQQ', 'SQQQ']);
    await feed.start();
    const [first] = bars(['TQQQ'], 1);
    server.publish([first!]);
    server.publish([{ ...first!, close: first!.close + 0.02, volume: first!.volume + 5 }], { updated: true });
    await until(() => expect(rec.bars).toHaveLength(2));
    expect(rec.bars[1]!.start).toBe(rec.bars[0]!.start);
    expect(rec.bars[1]!.volume).toBe(first!.volume + 5);
    expect(feed.stats().updatedBars).toBe(1);
    await feed.disconnect();
  });

  it('emits daily bars as dailyBar events, not bars', async () => {
    const feed = feedOn(server, { channels: { dailyBars: true } });
    const rec = record(feed);
    const daily: unknown[] = [];
    feed.on('dailyBar', (e) => daily.push(e.bar));
    await feed.connect();
    await feed.start();
    server.publish(bars(['TQQQ'], 1), { daily: true });
    await until(() => expect(daily).toHaveLength(1));
    expect(rec.bars).toHaveLength(0);
    expect((daily[0] as { end: number; start: number }).end - (daily[0] as { start: number }).start).toBe(86_400_000);
    await feed.disconnect();
  });

  it.each(['json', 'msgpack'] as const)('a malformed frame or message is counted and reported; good messages in the same frame are delivered (%s)', async (encoding) => {
    const feed = feedOn(server, { encoding });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    server.sendRaw(encoding === 'json' ? '[{"T":"b","S":"TQQQ",' : new Uint8Array([0xc1, 0x00]));
    server.sendRaw(
      JSON.stringify([
        { T: 'b', S: 'TQQQ', o: 1, h: 1, l: 1, c: 1, v: 10, t: '2025-10-16T13:30:00Z' },
        { T: 'b', S: 'TQQQ', o: 'x', h: 1, l: 1, c: 1, v: 10, t: '2025-10-16T13:31:00Z' },
        { T: 'b', S: 'TQQQ', o: 1, h: 1, l: 1, c: 1, v: 10, t: 'yesterday' },
        { T: 't', S: 'TQQQ', p: 1 },
        42,
        { T: 'b', S: 'TQQQ', o: 2, h: 2, l: 2, c: 2, v: 20, t: '2025-10-16T13:32:00Z' },
      ]),
    );
    await until(() => expect(rec.bars).toHaveLength(2));
    expect(rec.bars.map((b) => b.close)).toEqual([1, 2]);
    const s = feed.stats();
    expect(s.malformed).toBe(4);
    expect(s.unknownMessages).toBe(1);
    expect(rec.errors).toHaveLength(4);
    expect(rec.errors.every((e) => FeedError.isInstance(e) && e.code === 'protocol')).toBe(true);
    expect(rec.errors.map((e) => e.message).join('\n')).toMatch(/field 'o' is "x"/);
    expect(feed.state).toBe('streaming');
    await feed.disconnect();
  });

  it('keeps bars that arrive between connect() and start(), and delivers them on start()', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    server.publish(bars(['TQQQ'], 2));
    await until(() => expect(feed.stats().messages).toBe(5)); // connected, authenticated, subscription, 2 bars
    expect(rec.bars).toHaveLength(0);
    await feed.start();
    expect(rec.bars.map((b) => b.start)).toEqual([OPEN, OPEN + 60_000]);
    await feed.disconnect();
  });

  it('ignores bars that arrive after stop(), and counts them', async () => {
    const feed = feedOn(server, { gapFill: false });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await feed.stop();
    server.publish(bars(['TQQQ'], 2));
    await until(() => expect(feed.stats().ignoredWhileStopped).toBe(2));
    await feed.start();
    server.publish(bars(['TQQQ'], 1, OPEN + 600_000));
    await until(() => expect(rec.bars).toHaveLength(1));
    await feed.disconnect();
  });
});

describe('subscriptions', () => {
  it('subscribes and unsubscribes while running, resolving on the server reply', async () => {
    const feed = feedOn(server, { symbols: ['TQQQ'] });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await feed.subscribe(['SQQQ', 'UVXY']);
    expect(feed.subscription.bars).toEqual(['TQQQ', 'SQQQ', 'UVXY']);
    await feed.unsubscribe(['TQQQ']);
    expect(feed.subscription.bars).toEqual(['SQQQ', 'UVXY']);
    expect(feed.symbols).toEqual(['SQQQ', 'UVXY']);
    server.publish(bars(['TQQQ', 'SQQQ', 'UVXY'], 1));
    await until(() => expect(rec.bars).toHaveLength(2));
    expect(rec.bars.map((b) => b.symbol)).toEqual(['SQQQ', 'UVXY']);
    await feed.disconnect();
  });

  it('subscribes everything again after a reconnect, including symbols added while running', async () => {
    const feed = feedOn(server, { symbols: ['TQQQ'] });
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await feed.subscribe(['SVIX']);
    server.drop();
    await until(() => expect(feed.stats().reconnects).toBe(1));
    expect(feed.state).toBe('streaming');
    expect(feed.subscription.bars).toEqual(['TQQQ', 'SVIX']);
    server.publish(bars(['TQQQ', 'SVIX'], 1));
    await until(() => expect(rec.bars).toHaveLength(2));
    const states = rec.events.filter((e) => e.type === 'state').map((e) => e.to);
    expect(states).toEqual(['connecting', 'connected', 'streaming', 'reconnecting', 'streaming']);
    await feed.disconnect();
  });
});

describe('large messages', () => {
  it.each(['json', 'msgpack'] as const)('subscribing 5 000 symbols goes in fragments of at most 32 KiB and is understood (%s)', async (encoding) => {
    const symbols = Array.from({ length: 5000 }, (_, i) => `SYM${i}`);
    const sizes: number[] = [];
    const feed = feedOn(server, {
      encoding,
      symbols,
      webSocketFactory: (url, init) => {
        const socket = defaultWebSocketFactory(url, init);
        const send = socket.send.bind(socket);
        socket.send = (data, options) => {
          sizes.push(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
          send(data, options);
        };
        return socket;
      },
    });
    await feed.connect();
    expect(feed.subscription.bars).toHaveLength(5000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(32_768);
    expect(sizes.length).toBeGreaterThan(2);
    await feed.disconnect();
  });
});
