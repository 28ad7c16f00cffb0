import { describe, expect, expectTypeOf, it } from 'vitest';
import { bar, T0 } from '../test/factories.js';
import type { Bar } from './bar.js';
import type { BarFeed, FeedState } from './bar-feed.js';
import { AbstractBarFeed } from './abstract-feed.js';
import { ManualClock } from './clock.js';
import { FeedError, StateError } from './errors.js';
import { ManualBarFeed } from './manual-feed.js';

/** A manual feed over fixed bars, whose connect may fail. */
class ListFeed extends ManualBarFeed {
  connects = 0;
  constructor(
    private readonly bars: Bar[],
    private readonly failConnect = false,
  ) {
    super(['TQQQ', 'SQQQ'], new ManualClock(T0));
  }
  protected override doConnect(): Promise<void> {
    this.connects++;
    return this.failConnect ? Promise.reject(new FeedError({ code: 'connection', message: 'refused' })) : Promise.resolve();
  }
  send(): void {
    this.push(...this.bars);
  }
  finish(): void {
    this.end();
  }
}

describe('AbstractBarFeed lifecycle', () => {
  it('moves idle -> connecting -> connected -> streaming -> stopped -> closed, emitting each change', async () => {
    const f = new ListFeed([]);
    const states: string[] = [];
    f.on('state', (e) => states.push(`${e.from}>${e.to}`));
    expect(f.isConnected()).toBe(false);
    await f.connect();
    expect(f.isConnected()).toBe(true);
    await f.start();
    expect(f.isActive()).toBe(true);
    await f.stop();
    expect(f.isActive()).toBe(false);
    await f.start();
    await f.disconnect();
    await f.disconnect(); // idempotent
    expect(states).toEqual([
      'idle>connecting',
      'connecting>connected',
      'connected>streaming',
      'streaming>stopped',
      'stopped>streaming',
      'streaming>closed',
    ]);
  });

  it('rejects calls out of order with a StateError instead of hanging', async () => {
    const f = new ListFeed([]);
    await expect(f.start()).rejects.toSatisfy((e: unknown) => StateError.isInstance(e) && e.code === 'invalid_state');
    await f.connect();
    await expect(f.connect()).rejects.toThrowError(/cannot connect\(\) in state 'connected'/);
    await f.disconnect();
    await expect(f.start()).rejects.toThrowError(/state 'closed'/);
  });

  it('goes back to idle when connect fails, so it can be retried', async () => {
    const f = new ListFeed([], true);
    await expect(f.connect()).rejects.toThrowError('refused');
    expect(f.state).toBe<FeedState>('idle');
    await expect(f.connect()).rejects.toThrowError('refused');
    expect(f.connects).toBe(2);
  });
});

describe('AbstractBarFeed events and stats', () => {
  it('counts bars per symbol and errors per code; unsubscribe stops delivery', async () => {
    const bars = [bar(), bar({ symbol: 'SQQQ' }), bar({ start: T0 + 60_000, receivedAt: T0 + 120_000 })];
    const f = new ListFeed(bars);
    await f.connect();
    await f.start();
    const seen: Bar[] = [];
    const off = f.on('bar', (e) => seen.push(e.bar));
    f.send();
    off();
    f.send();
    f.fail(new FeedError({ code: 'protocol', message: 'bad frame' }));
    expect(seen).toEqual(bars);
    expect(f.stats()).toEqual({
      barsReceived: 6,
      barsBySymbol: { TQQQ: 4, SQQQ: 2 },
      errors: 1,
      errorsByCode: { protocol: 1 },
      reconnects: 0,
      barsRecovered: 0,
      lastBarAt: T0 + 120_000,
    });
  });

  it('a listener that throws does not stop the others and is reported as an error event', async () => {
    const f = new ListFeed([bar()]);
    await f.connect();
    await f.start();
    const errors: string[] = [];
    let second = 0;
    f.on('error', (e) => errors.push(e.error.code));
    f.on('bar', () => {
      throw new Error('strategy bug');
    });
    f.on('bar', () => second++);
    f.send();
    expect(second).toBe(1);
    expect(errors).toEqual(['listener']);
  });

  it('iterates bars asynchronously until the feed stops, losing none delivered while busy', async () => {
    const bars = [bar(), bar({ start: T0 + 60_000 }), bar({ start: T0 + 120_000 })];
    const f = new ListFeed(bars);
    await f.connect();
    await f.start();
    const got: Bar[] = [];
    const done = (async () => {
      for await (const b of f) got.push(b);
    })();
    f.send();
    f.finish();
    await done;
    expect(got).toEqual(bars);
    expect(f['emitter'].listenerCount()).toBe(0);
  });

  it('push() outside streaming is a typed error', async () => {
    const f = new ListFeed([bar()]);
    expect(() => f.send()).toThrowError(/cannot push\(\) in state 'idle'/);
    await f.connect();
    await f.start();
    f.send();
    expect(f.stats().barsReceived).toBe(1);
  });

  it('breaking out of the loop unsubscribes', async () => {
    const f = new ListFeed([bar(), bar({ start: T0 + 60_000 })]);
    await f.connect();
    await f.start();
    const done = (async () => {
      for await (const b of f) {
        expect(b.start).toBe(T0);
        break;
      }
    })();
    f.send();
    await done;
    expect(f['emitter'].listenerCount()).toBe(0);
  });
});

describe('a feed with events of its own', () => {
  class ProgressFeed extends AbstractBarFeed<{ readonly type: 'progress'; readonly percent: number }> {
    readonly type = 'progress-feed';
    constructor() {
      super(['TQQQ'], new ManualClock(T0));
    }
    protected doConnect(): Promise<void> {
      return Promise.resolve();
    }
    protected doStart(): Promise<void> {
      this.emitter.emit({ type: 'progress', percent: 50 });
      this.deliver(bar({ symbol: 'TQQQ', start: T0 }));
      return Promise.resolve();
    }
    protected doStop(): Promise<void> {
      return Promise.resolve();
    }
    protected doDisconnect(): Promise<void> {
      return Promise.resolve();
    }
  }

  it('is still a plain BarFeed (the one-line switch between replay and live type-checks)', async () => {
    const feed: BarFeed = new ProgressFeed();
    expectTypeOf<ProgressFeed>().toExtend<BarFeed>();
    const seen: string[] = [];
    feed.on('bar', (e) => seen.push(e.bar.symbol));
    (feed as ProgressFeed).on('progress', (e) => seen.push(`${e.percent}%`));
    await feed.connect();
    await feed.start();
    expect(seen).toEqual(['50%', 'TQQQ']);
  });
});
