import type { Bar } from '@feed/core';
import { MINUTE_MS, makeBar } from '@feed/core';
import type { AlpacaFeedOptions } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import type { FakeAlpacaServer } from '../src/testing.js';

/** 2025-10-16 09:30 New York. */
export const OPEN = Date.UTC(2025, 9, 16, 13, 30);

/** `count` minute bars per symbol from `from`, with prices that differ per symbol and minute. */
export function bars(symbols: readonly string[], count: number, from = OPEN): Bar[] {
  const out: Bar[] = [];
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < symbols.length; k++) {
      const p = 50 + k * 10 + i * 0.01;
      out.push(
        makeBar({
          symbol: symbols[k] as string,
          start: from + i * MINUTE_MS,
          open: p,
          high: p + 0.05,
          low: p - 0.05,
          close: p + 0.01,
          volume: 1000 + i,
          vwap: p + 0.005,
          tradeCount: 10 + i,
          receivedAt: 0,
        }),
      );
    }
  }
  return out;
}

/** The bar without `receivedAt`, for comparing what was sent with what arrived. */
export function data(b: Bar): Omit<Bar, 'receivedAt'> {
  const { receivedAt: _, ...rest } = b;
  return rest;
}

/** A feed on the fake server, with fast retries and no keep-alive or watchdog unless asked. */
export function feedOn(server: FakeAlpacaServer, options: Partial<AlpacaFeedOptions> = {}): AlpacaMultiSymbolFeed {
  return new AlpacaMultiSymbolFeed({
    symbols: ['TQQQ', 'SQQQ'],
    url: server.url(),
    restUrl: server.restUrl,
    keys: server.keys,
    keepAlive: false,
    watchdog: false,
    reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0 },
    ...options,
  });
}

/** Records every event of a feed, by type. */
type AnyEvent = { readonly type: string } & Readonly<Record<string, unknown>>;

export function record(feed: AlpacaMultiSymbolFeed): { bars: Bar[]; events: AnyEvent[]; errors: Error[] } {
  const out = { bars: [] as Bar[], events: [] as AnyEvent[], errors: [] as Error[] };
  feed.on('bar', (e) => out.bars.push(e.bar));
  feed.on('error', (e) => out.errors.push(e.error));
  for (const t of ['open', 'authenticated', 'subscription', 'disconnected', 'retry', 'reconnected', 'dailyBar', 'gapFill', 'state'] as const) {
    feed.on(t, (e) => out.events.push(e as unknown as AnyEvent));
  }
  return out;
}
