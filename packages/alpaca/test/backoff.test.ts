import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConnectionError, ManualClock } from '@feed/core';
import type { WebSocketLike } from '@feed/live';
import type { AlpacaFeedOptions } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import { driveRetries } from './helpers.js';

/** A socket that fails to connect, asynchronously, like a refused TCP connection. */
class RefusedSocket extends EventEmitter implements WebSocketLike {
  readyState = 0;
  constructor() {
    super();
    queueMicrotask(() => {
      this.readyState = 3;
      this.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:9'));
      this.emit('close', 1006, Buffer.alloc(0));
    });
  }
  send(): void {}
  ping(): void {}
  close(): void {}
  terminate(): void {}
}

/** A feed whose every connection attempt is refused; `times` gets each attempt's clock time. */
function refusedFeed(options: Partial<AlpacaFeedOptions>): { feed: AlpacaMultiSymbolFeed; times: number[]; clock: ManualClock } {
  const times: number[] = [];
  const clock = new ManualClock(0);
  const feed = new AlpacaMultiSymbolFeed({
    symbols: ['TQQQ'],
    url: 'ws://127.0.0.1:9/v2/iex',
    keys: { keyId: 'KEY12345', secretKey: 'SECRET12345' },
    keepAlive: false,
    watchdog: false,
    clock,
    webSocketFactory: () => {
      times.push(clock.now());
      return new RefusedSocket();
    },
    ...options,
  });
  driveRetries(feed, clock);
  return { feed, times, clock };
}

describe('retry timing (manual clock)', () => {
  it('attempts at 0, 1, 3, 7, 15, 31, 63, 127, 191, 255 s, then gives up with a typed error', async () => {
    const { feed, times, clock } = refusedFeed({ random: () => 0.5 });
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/gave up after 10 attempts in a row; last: .*ECONNREFUSED/);
    expect(times).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000, 127000, 191000, 255000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never waits less than the jittered delay and never more', async () => {
    let r = 0;
    const randoms = [0, 0.999999];
    const { feed, times } = refusedFeed({ reconnect: { maxAttempts: 3 }, random: () => randoms[r++ % 2] as number });
    await feed.connect().catch(() => undefined);
    expect(times).toEqual([0, 800, 800 + 2400]);
  });
});
