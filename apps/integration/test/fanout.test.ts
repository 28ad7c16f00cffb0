import { describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar } from '@feed/core';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { BarPublisher, NatsBarFeed, connectNats } from '@feed/nats';
import { NatsServer, findNatsServer } from '@feed/nats/testing';

const NATS = findNatsServer();
if (NATS === undefined && process.env.FEED_REQUIRE_NATS === '1') throw new Error('FEED_REQUIRE_NATS=1 but nats-server is not installed');

const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const OPEN = Date.UTC(2025, 9, 16, 13, 30);

function minute(m: number): Bar[] {
  return SIX.map((symbol, i) => {
    const p = 20 + i * 7 + m * 0.01;
    return makeBar({ symbol, start: OPEN + m * MINUTE_MS, open: p, high: p + 0.1, low: p - 0.1, close: p + 0.02, volume: 100 + m, receivedAt: 0 });
  });
}

const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 5 });

describe.skipIf(NATS === undefined)('fan-out: one Alpaca connection, one publisher, three programs over NATS', () => {
  it('the fake Alpaca server -> AlpacaMultiSymbolFeed -> BarPublisher -> three NatsBarFeed consumers: identical bars and histories', async () => {
    const alpaca = await FakeAlpacaServer.start();
    const nats = await NatsServer.start();
    const clock = new ManualClock(OPEN + 60 * MINUTE_MS);
    const live = new AlpacaMultiSymbolFeed({ symbols: SIX, url: alpaca.url(), restUrl: alpaca.restUrl, keys: alpaca.keys, clock, keepAlive: false, watchdog: false, encoding: 'msgpack' });
    const sent: Bar[] = [];
    live.on('bar', (e) => sent.push(e.bar));
    const publisherConnection = await connectNats({ servers: nats.url });
    const publisher = await BarPublisher.start({ feed: live, connection: publisherConnection });
    // Three programs, each with its own connection, consumer and data manager.
    const programs = await Promise.all(
      ['strategy', 'recorder', 'dashboard'].map(async (name) => {
        const feed = new NatsBarFeed({ symbols: SIX, connection: { servers: nats.url, name }, durable: name, from: 'all' });
        const dm = new MultiSymbolDataManager({ symbols: SIX, clock });
        const bars: Bar[] = [];
        feed.on('bar', (e) => bars.push(e.bar));
        dm.attach(feed);
        await feed.connect();
        await feed.start();
        return { feed, dm, bars };
      }),
    );
    await live.connect();
    await live.start();
    for (let m = 0; m < 30; m++) alpaca.publish(minute(m));
    await until(() => expect(sent).toHaveLength(180));
    await publisher.flush();
    for (const p of programs) await until(() => expect(p.bars).toHaveLength(180));
    for (const p of programs) {
      expect(p.bars).toEqual(sent);
      for (const s of SIX) expect(p.dm.history(s)).toEqual((programs[0] as (typeof programs)[number]).dm.history(s));
      expect(p.dm.history('SVIX')).toHaveLength(30);
    }
    expect(publisher.stats()).toMatchObject({ received: 180, acknowledged: 180, dropped: 0, refused: 0 });
    for (const p of programs) await p.feed.disconnect();
    await publisher.close();
    await live.disconnect();
    await publisherConnection.close();
    await nats.stop();
    await alpaca.close();
  }, 60_000);
});
