import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar } from '@feed/core';
import { vi } from 'vitest';
import type { AlpacaFeedOptions } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import type { FakeAlpacaServer } from '../src/testing.js';

/** 2025-10-16 09:30 New York. */
export const OPEN = Date.UTC(2025, 9, 16, 13, 30);

/** Where a test's manual clock starts unless it says otherwise: the evening after the test bars. */
export const LATER = Date.UTC(2025, 9, 16, 23, 0);

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

/**
 * Advances `clock` by each backoff delay the feed announces (its `retry` event), right after the
 * feed set the timer: reconnect tests run in clock time, with no real wait and no race.
 */
export function driveRetries(feed: AlpacaMultiSymbolFeed, clock: ManualClock): () => void {
  return feed.on('retry', (e) => {
    queueMicrotask(() => clock.advance(e.delayMs));
  });
}

/**
 * A feed on the fake server, with fast retries and no keep-alive or watchdog unless asked. Its clock
 * is a `ManualClock` (at `LATER` unless one is given) whose backoff waits are driven by `driveRetries`.
 */
export function feedOn(
  server: FakeAlpacaServer,
  { drive = true, ...options }: Partial<AlpacaFeedOptions> & { clock?: ManualClock; drive?: boolean } = {},
): AlpacaMultiSymbolFeed {
  const clock = options.clock ?? new ManualClock(LATER);
  const feed = new AlpacaMultiSymbolFeed({
    symbols: ['TQQQ', 'SQQQ'],
    url: server.url(),
    restUrl: server.restUrl,
    keys: server.keys,
    keepAlive: false,
    watchdog: false,
    reconnect: { initialDelayMs: 5, maxDelayMs: 40, jitter: 0 },
    ...options,
    clock,
  });
  if (drive) driveRetries(feed, clock);
  return feed;
}

/** The feed's manual clock. */
export function clockOf(feed: AlpacaMultiSymbolFeed): ManualClock {
  return feed.clock as ManualClock;
}

/**
 * Waits for real I/O (the fake server's frames) until `check` passes: never a wait for time. The
 * bound only turns a hang into a failure; it is generous so that a loaded machine does not fail it.
 */
export function until(check: () => void): Promise<void> {
  return vi.waitFor(check, { timeout: 20_000, interval: 2 });
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
