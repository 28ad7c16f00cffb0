import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { ManualBarFeed, barFromValues, sameBarData } from '@feed/core';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { BarPublisher, NatsBarFeed, connectNats } from '../src/index.js';
import { NatsCluster } from '../src/testing.js';
import { NATS_SERVER } from './nats-server.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 9, 6, 13, 30);
const SYMBOLS = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const MINUTES = 120;

function minute(m: number): Bar[] {
  return SYMBOLS.map((s, i) => barFromValues(s, T0 + m * MIN, MIN, 50 + i + m / 10, 51 + i + m / 10, 49 + i + m / 10, 50.5 + i + m / 10, 1000 + m, Number.NaN, -1, T0 + (m + 1) * MIN + 20));
}

/** Waits for real I/O (servers electing, replicating, answering): never a wait for time. */
const until = (check: () => void, timeout = 60_000): Promise<void> => vi.waitFor(check, { timeout, interval: 20 });

describe.skipIf(NATS_SERVER === undefined)('a real three-server JetStream cluster (routes on loopback, the stream at 3 replicas)', () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await NatsCluster.start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('the stream leader killed with kill -9 mid-publish: publisher and consumers carry on against the others, every bar exactly once at both, and the restarted server catches up', async () => {
    const nc: NatsConnection = await connectNats({ servers: cluster.urls, reconnectTimeWait: 50 });
    const source = new ManualBarFeed(SYMBOLS);
    await source.connect();
    await source.start();
    const publisher = await BarPublisher.start({ feed: source, connection: nc, streamConfig: { num_replicas: 3 }, ackTimeoutMs: 1_000 });
    const errors: string[] = [];
    publisher.on('error', (e) => errors.push(e.error.message));
    const consumers = ['a', 'b'].map((name) => new NatsBarFeed({ symbols: 'all', connection: { servers: cluster.urls, reconnectTimeWait: 50 }, from: 'all', durable: `cluster-${name}`, batch: 50 }));
    const got = consumers.map((c) => {
      const out: Bar[] = [];
      c.on('bar', (e) => out.push(e.bar));
      return out;
    });
    for (const c of consumers) {
      await c.connect();
      await c.start();
    }
    // A minute a turn (one batch each), the first half before the kill.
    const push = async (from: number, to: number): Promise<void> => {
      for (let m = from; m < to; m++) {
        source.push(...minute(m));
        await new Promise((r) => setImmediate(r));
      }
    };
    await push(0, MINUTES / 2);
    await until(() => expect(Math.min(...got.map((g) => g.length))).toBeGreaterThan(6 * 10));
    const leader = await cluster.leaderOf('FEED_BARS');
    await cluster.server(leader).kill9();
    await push(MINUTES / 2, MINUTES);
    await publisher.flush();
    const all = Array.from({ length: MINUTES }, (_, m) => minute(m)).flat();
    for (const g of got) await until(() => expect(g.length).toBeGreaterThanOrEqual(all.length));
    const key = (b: Bar): string => `${b.symbol}@${b.start}`;
    const want = new Map(all.map((b) => [key(b), b]));
    for (const g of got) {
      // Exactly once by symbol and start, in each symbol's order, with the market data published.
      expect(g.map(key).sort()).toEqual([...want.keys()].sort());
      for (const b of g) expect(sameBarData(b, want.get(key(b)) as Bar)).toBe(true);
      for (const s of SYMBOLS) {
        const starts = g.filter((b) => b.symbol === s).map((b) => b.start);
        expect(starts).toEqual([...starts].sort((x, y) => x - y));
      }
    }
    expect(publisher.stats()).toMatchObject({ acknowledged: all.length, dropped: 0, refused: 0 });
    expect(errors).toEqual([]);
    // A new leader was elected among the two others.
    const after = await cluster.leaderOf('FEED_BARS');
    expect(after).not.toBe(leader);
    // Back on its store: it catches up with what it missed.
    await cluster.server(leader).restart();
    await cluster.waitForReplicas('FEED_BARS', 60_000);
    const direct = await connectNats({ servers: cluster.server(leader).url });
    const info = await (await jetstreamManager(direct)).streams.info('FEED_BARS');
    expect(info.state.last_seq).toBeGreaterThan(0);
    expect(info.cluster?.replicas?.every((r) => r.current)).toBe(true);
    await direct.close();
    for (const c of consumers) await c.disconnect();
    await publisher.close();
    await nc.close();
  }, 180_000);
});
