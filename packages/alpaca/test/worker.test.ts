import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '@feed/core';
import { ConfigError, ManualClock, MINUTE_MS, isFrozenBar } from '@feed/core';
import type { AlpacaFeedOptions, AlpacaFeedStats } from '../src/index.js';
import { AlpacaError, AlpacaMultiSymbolFeed } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, feedOn, record, OPEN, until } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

const SYMBOLS = ['TQQQ', 'SQQQ'];
const minute = (m: number): Bar[] => bars(SYMBOLS, 1, OPEN + m * MINUTE_MS);

interface Outcome {
  bars: Bar[];
  events: unknown[];
  errors: { name: string; code: string; message: string }[];
  stats: AlpacaFeedStats;
  states: string[];
}

/**
 * One script on a fresh server: bars in two encodings' worth of frames, an updated bar, a daily bar,
 * a malformed message, a drop with minutes missed (recovered by gap fill), a late subscription.
 */
async function script(options: Partial<Omit<AlpacaFeedOptions, 'clock'>>): Promise<Outcome> {
  const clock = new ManualClock(OPEN + MINUTE_MS + 50);
  const feed = feedOn(server, { clock, encoding: 'msgpack', channels: { bars: true, updatedBars: true, dailyBars: true }, ...options });
  const rec = record(feed);
  await feed.connect();
  await feed.start();
  server.publish(minute(0), { frameSize: 1 });
  await until(() => expect(rec.bars).toHaveLength(2));
  server.publish([{ ...(minute(0)[0] as Bar), close: 50.02, high: 50.06 }], { updated: true });
  server.publish(bars(['TQQQ'], 1, OPEN - 24 * 60 * MINUTE_MS), { daily: true, keep: false });
  server.sendRaw(JSON.stringify([{ T: 'b', S: 'TQQQ', o: 'x' }]));
  await until(() => expect(rec.bars).toHaveLength(3));
  await until(() => expect(feed.stats().malformed).toBe(1));
  server.drop();
  for (let m = 1; m <= 3; m++) server.publish(minute(m));
  clock.set(OPEN + 4 * MINUTE_MS + 50);
  await until(() => expect(feed.stats().reconnects).toBe(1));
  server.publish(minute(4));
  await until(() => expect(rec.bars).toHaveLength(11));
  await feed.subscribe(['UPRO']);
  clock.set(OPEN + 5 * MINUTE_MS + 50);
  server.publish(bars(['TQQQ', 'SQQQ', 'UPRO'], 1, OPEN + 5 * MINUTE_MS));
  await until(() => expect(rec.bars).toHaveLength(14));
  const stats = feed.stats();
  await feed.disconnect();
  return {
    bars: rec.bars,
    events: rec.events.filter((e) => e.type !== 'state'),
    errors: rec.errors.map((e) => ({ name: e.name, code: (e as unknown as { code: string }).code, message: e.message })),
    stats,
    states: rec.events.filter((e) => e.type === 'state').map((e) => `${String(e.from)}->${String(e.to)}`),
  };
}

describe('worker: true (socket, decoding and validation in a worker thread)', () => {
  it('gives the same bars, events, errors, states and statistics as inline', async () => {
    const inline = await script({});
    await server.close();
    server = await FakeAlpacaServer.start();
    const worker = await script({ worker: true });
    expect(worker.bars).toHaveLength(14);
    expect(worker.bars).toEqual(inline.bars);
    expect(worker.bars.every(isFrozenBar)).toBe(true);
    expect(worker.events).toEqual(inline.events);
    expect(worker.errors).toEqual(inline.errors);
    expect(worker.states).toEqual(inline.states);
    expect(worker.stats).toEqual(inline.stats);
    expect(worker.stats.barsRecovered).toBe(6);
    expect(worker.stats.updatedBars).toBe(1);
    expect(worker.stats.dailyBars).toBe(1);
    expect(worker.stats.malformed).toBe(1);
    expect(new Set(worker.events.map((e) => (e as { type: string }).type))).toEqual(
      new Set(['open', 'authenticated', 'subscription', 'dailyBar', 'disconnected', 'retry', 'reconnected', 'gapFill']),
    );
    expect(worker.states).toContain('streaming->reconnecting');
    expect(worker.errors.length).toBeGreaterThan(0);
  });

  it('a refused authentication fails connect() with the same typed error, and no secret leaves the worker', async () => {
    const keys = { keyId: 'WRONGKEYID123', secretKey: 'WRONGSECRETKEY456' };
    const inline = new AlpacaMultiSymbolFeed({ symbols: SYMBOLS, url: server.url(), keys, keepAlive: false, watchdog: false });
    const worker = new AlpacaMultiSymbolFeed({ symbols: SYMBOLS, url: server.url(), keys, keepAlive: false, watchdog: false, worker: true });
    const errors: Error[] = [];
    worker.on('error', (e) => errors.push(e.error));
    const a = await inline.connect().then(() => undefined, (e: unknown) => e as Error);
    const b = await worker.connect().then(() => undefined, (e: unknown) => e as Error);
    expect(a).toBeInstanceOf(AlpacaError);
    expect(b).toBeInstanceOf(AlpacaError);
    expect(AlpacaError.isInstance(b)).toBe(true);
    expect((b as AlpacaError).alpacaCode).toBe((a as AlpacaError).alpacaCode);
    expect(b?.message).toBe(a?.message);
    expect(worker.state).toBe(inline.state);
    expect(worker.stats().errors).toBe(inline.stats().errors);
    for (const e of [b, ...errors]) {
      const text = `${e?.message} ${e?.stack} ${JSON.stringify(e)}`;
      expect(text).not.toContain(keys.secretKey);
      expect(text).not.toContain(keys.keyId);
    }
    await worker.disconnect();
    await inline.disconnect();
  });

  it('refuses options that cannot cross threads, naming them', () => {
    const base = { symbols: SYMBOLS, keys: server.keys, worker: true } as const;
    const cases: [string, Partial<AlpacaFeedOptions>][] = [
      ['webSocketFactory', { webSocketFactory: () => ({}) as never }],
      ['random', { random: () => 0.5 }],
      ['gapFill.history', { gapFill: { history: { barsBySymbol: () => Promise.resolve(new Map<string, Bar[]>()) } } }],
      ['watchdog.calendar', { watchdog: { calendar: { sessionAt: () => undefined } } }],
    ];
    for (const [path, extra] of cases) {
      let caught: unknown;
      try {
        new AlpacaMultiSymbolFeed({ ...base, ...extra });
      } catch (error) {
        caught = error;
      }
      expect(ConfigError.isInstance(caught)).toBe(true);
      expect((caught as ConfigError).issues[0]?.path).toBe(path);
    }
  });
});
