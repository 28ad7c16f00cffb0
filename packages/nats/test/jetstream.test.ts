import { createServer } from 'node:net';
import { decode } from '@msgpack/msgpack';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bar, BarEvent, FeedError, Listener } from '@feed/core';
import { ConnectionError, ManualBarFeed, ManualClock, barFromValues } from '@feed/core';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { PublisherStats } from '../src/index.js';
import { BarPublisher, NatsBarFeed, batchId, connectNats, decodeBar, decodeBars, encodeBar, encodeBars, messageId } from '../src/index.js';
import { NatsServer } from '../src/testing.js';
import { NATS_SERVER } from './nats-server.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 9, 6, 13, 30);
const SYMBOLS = ['TQQQ', 'SQQQ', 'UPRO'];

function minute(m: number, close = 100 + m): Bar[] {
  return SYMBOLS.map((s, i) => barFromValues(s, T0 + m * MIN, MIN, close + i, close + i + 0.5, close + i - 0.5, close + i + 0.1, 1000 + m, Number.NaN, -1, T0 + (m + 1) * MIN + 20));
}

/** Waits for real I/O (the server's replies) until `check` passes; never a wait for time. */
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 5 });

function collect(feed: NatsBarFeed): Bar[] {
  const out: Bar[] = [];
  feed.on('bar', (e) => out.push(e.bar));
  return out;
}

describe('codec', () => {
  it('round-trips a bar with and without vwap and trade count, and its revision', () => {
    const a = barFromValues('TQQQ', T0, MIN, 1, 2, 0.5, 1.5, 10, 1.25, 7, T0 + MIN + 3);
    const b = barFromValues('TQQQ', T0, MIN, 1, 2, 0.5, 1.5, 10, Number.NaN, -1, T0 + MIN + 3);
    for (const [bar, rev] of [[a, 0], [b, 3]] as const) expect(decodeBar(encodeBar(bar, rev))).toEqual({ bar, revision: rev });
  });
  it('says what is wrong with a payload it cannot read, never throws', () => {
    expect(decodeBar(new Uint8Array([0xc1]))).toMatch(/not msgpack/);
    expect(decodeBar(encodeBar(minute(0)[0] as Bar, 0).map((x, i) => (i === 1 ? 3 : x)))).toMatch(/payload version 3/);
    expect(decodeBars(encodeBar(minute(0)[0] as Bar, 0).map((x, i) => (i === 1 ? 3 : x)))).toMatch(/payload version 3 \(this reader knows 1 and 2\)/);
    const batch = encodeBars(minute(0).map((bar) => ({ bar, revision: 0 })));
    // The count says 3 bars; one field fewer is refused whole, with the reason.
    expect(decodeBars(batch.subarray(0, batch.length - 1))).toMatch(/not msgpack|fields, expected 36/);
  });
  it('round-trips a batch (payload version 2) bar by bar, and one bar as version 1', () => {
    const bars = [...minute(0), barFromValues('SQQQ', T0, MIN, 1, 2, 0.5, 1.5, 10, 1.25, 7, T0 + MIN + 3)].map((bar, k) => ({ bar, revision: k % 2 }));
    const payload = encodeBars(bars);
    expect((decode(payload) as unknown[]).slice(0, 2)).toEqual([2, 4]); // version 2, four bars
    expect(decodeBars(payload)).toEqual(bars);
    expect(decodeBars(encodeBars(bars.slice(0, 1)))).toEqual(bars.slice(0, 1));
    expect(decodeBar(encodeBars(bars.slice(0, 1)))).toEqual(bars[0]);
    // A batch sent again has the same id (JetStream keeps one copy); another batch, another id.
    expect(batchId(bars)).toBe(batchId(bars.map((b) => ({ ...b }))));
    expect(batchId(bars)).not.toBe(batchId(bars.slice(1)));
    expect(batchId(bars.slice(0, 1))).toBe(messageId(bars[0]?.bar as Bar));
  });
  it('gives one message id per version of a bar, the same from any publisher', () => {
    const [a] = minute(0) as [Bar];
    const same = barFromValues(a.symbol, a.start, MIN, a.open, a.high, a.low, a.close, a.volume, Number.NaN, -1, a.receivedAt + 999);
    const revised = barFromValues(a.symbol, a.start, MIN, a.open, a.high, a.low, a.close + 0.01, a.volume, Number.NaN, -1, a.receivedAt);
    expect(messageId(same)).toBe(messageId(a));
    expect(messageId(revised)).not.toBe(messageId(a));
  });
});

describe.skipIf(NATS_SERVER === undefined)('with a real nats-server (JetStream)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let source: ManualBarFeed;
  beforeEach(async () => {
    server = await NatsServer.start();
    nc = await connectNats({ servers: server.url, reconnectTimeWait: 50 });
    source = new ManualBarFeed(SYMBOLS);
    await source.connect();
    await source.start();
  });
  afterEach(async () => {
    await nc.close();
    await server.stop();
  });

  it('a server told to use a taken port fails saying "address already in use" (what the test kit retries on when it chose the ports itself)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(NatsServer.start({ port })).rejects.toThrow(/address already in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('publishes every bar and revision once, and a consumer receives them in order (one bar a message)', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize: 1 });
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all' });
    const got = collect(consumer);
    for (let m = 0; m < 5; m++) source.push(...minute(m));
    const revised = barFromValues('TQQQ', T0 + 4 * MIN, MIN, 104, 104.5, 103.5, 104.2, 1004, Number.NaN, -1, T0 + 5 * MIN + 30_000);
    source.push(revised, revised); // a revision, then the same version again
    source.push(...minute(4)); // the first versions again: repeats
    await publisher.flush();
    const stats = publisher.stats();
    expect(stats.received).toBe(20);
    // The revision's repeat and SQQQ/UPRO's minute 4 again are the last versions: not sent. TQQQ's
    // first version again is sent (it is not the last) and JetStream's duplicate window drops it.
    expect(stats.acknowledged).toBe(17);
    expect(stats.duplicates).toBe(1);
    await consumer.connect();
    await consumer.start();
    await until(() => expect(got).toHaveLength(16));
    expect(got).toEqual([...[0, 1, 2, 3, 4].flatMap((m) => minute(m)), revised]);
    expect(consumer.stats().barsReceived).toBe(16);
    await consumer.disconnect();
    await publisher.close();
  });

  it('batches the bars that are ready together (payload version 2): every bar and revision once, in order, repeats inside a batch skipped by the reader', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize: 7 });
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all' });
    const only = new NatsBarFeed({ symbols: ['UPRO'], connection: nc, from: 'all' });
    const got = collect(consumer);
    const upro = collect(only);
    for (let m = 0; m < 5; m++) source.push(...minute(m));
    const revised = barFromValues('TQQQ', T0 + 4 * MIN, MIN, 104, 104.5, 103.5, 104.2, 1004, Number.NaN, -1, T0 + 5 * MIN + 30_000);
    source.push(revised, revised);
    source.push(...minute(4));
    await publisher.flush();
    const stats = publisher.stats();
    expect(stats.received).toBe(20);
    expect(stats.acknowledged).toBe(17);
    // 17 bars in batches of at most 7: three messages, none of them a repeat for JetStream.
    expect(stats.messages).toBe(3);
    expect(stats.duplicates).toBe(0);
    for (const c of [consumer, only]) {
      await c.connect();
      await c.start();
    }
    await until(() => expect(got).toHaveLength(16));
    expect(got).toEqual([...[0, 1, 2, 3, 4].flatMap((m) => minute(m)), revised]);
    // TQQQ's first version of minute 4, sent again after its revision, is skipped by the reader.
    expect(consumer.stats().repeats).toBe(1);
    await until(() => expect(upro).toHaveLength(5));
    expect(upro).toEqual([0, 1, 2, 3, 4].map((m) => minute(m)[2]));
    for (const c of [consumer, only]) await c.disconnect();
    await publisher.close();
  });

  it('creates the stream once and updates its settings on a second start (idempotent)', async () => {
    await (await BarPublisher.start({ feed: source, connection: nc })).close();
    const second = await BarPublisher.start({ feed: source, connection: nc, maxAgeMs: 60 * MIN });
    source.push(...minute(0));
    await second.flush();
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const info = await (await jetstreamManager(nc)).streams.info('FEED_BARS');
    expect(info.config.max_age).toBe(60 * MIN * 1e6);
    expect(info.config.storage).toBe('file');
    // One batch of the minute's three bars.
    expect(info.state.messages).toBe(1);
    await second.close();
  });

  it('a durable consumer stopped and restarted resumes at the next bar', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc });
    const first = new NatsBarFeed({ symbols: SYMBOLS, connection: nc, from: 'all', durable: 'strategy-a' });
    const a = collect(first);
    await first.connect();
    await first.start();
    source.push(...minute(0), ...minute(1));
    await until(() => expect(a).toHaveLength(6));
    await first.disconnect();
    source.push(...minute(2));
    await publisher.flush();
    const again = new NatsBarFeed({ symbols: SYMBOLS, connection: nc, from: 'all', durable: 'strategy-a' });
    const b = collect(again);
    await again.connect();
    await again.start();
    source.push(...minute(3));
    await until(() => expect(b).toHaveLength(6));
    expect(b).toEqual([...minute(2), ...minute(3)]);
    await again.disconnect();
    await publisher.close();
  });

  it.each([1, 5])('a durable consumer disconnected while catching up on a backlog, then resumed by a new feed: every bar exactly once (batches of %i)', async (batchSize) => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize });
    for (let m = 0; m < 400; m++) source.push(...minute(m));
    await publisher.flush();
    const all = [...Array.from({ length: 400 }, (_, m) => minute(m))].flat();
    const first = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all', durable: 'backlog', batch: Math.ceil(256 / batchSize) });
    const a = collect(first);
    await first.connect();
    await first.start();
    // Midway through the backlog: the consumer has pulled bars ahead that it has not delivered.
    await until(() => expect(a.length).toBeGreaterThanOrEqual(300));
    await first.disconnect();
    const pulledAhead = first.stats();
    const again = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all', durable: 'backlog', batch: Math.ceil(256 / batchSize) });
    const b = collect(again);
    await again.connect();
    await again.start();
    await until(() => expect(a.length + b.length).toBeGreaterThanOrEqual(all.length));
    const key = (x: Bar): string => `${x.symbol}@${x.start}`;
    const got = [...a, ...b].map(key);
    const why = `first ${JSON.stringify(pulledAhead)}, second ${JSON.stringify(again.stats())}`;
    expect(new Set(got).size, why).toBe(got.length);
    expect([...got].sort(), why).toEqual(all.map(key).sort());
    expect(again.stats().repeats, why).toBe(0);
    // Whether the first feed stopped with pulled bars in hand depends on the pull's timing (counted in
    // `returned` when it did); either way nothing is lost or repeated.
    expect(a.length + b.length, why).toBe(all.length);
    expect(pulledAhead.barsReceived).toBe(a.length);
    await again.disconnect();
    await publisher.close();
  }, 30_000);

  it('a consumer whose connection dies mid-backlog (as a killed process), restarted with the same durable name: no bar lost, at most the acks in flight again', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc });
    for (let m = 0; m < 300; m++) source.push(...minute(m));
    await publisher.flush();
    const own = await connectNats({ servers: server.url });
    const first = new NatsBarFeed({ symbols: 'all', connection: own, from: 'all', durable: 'crashy', batch: 200 });
    const a: Bar[] = [];
    let dead = false;
    // A killed program handles nothing after its death.
    first.on('bar', (e) => {
      if (!dead) a.push(e.bar);
    });
    await first.connect();
    await first.start();
    await until(() => expect(a.length).toBeGreaterThanOrEqual(250));
    dead = true;
    await own.close(); // no stop(), no disconnect(): the program is gone, with acknowledgements in flight
    const again = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all', durable: 'crashy', batch: 200 });
    const b = collect(again);
    await again.connect();
    await again.start();
    const key = (x: Bar): string => `${x.symbol}@${x.start}`;
    const want = Array.from({ length: 300 }, (_, m) => minute(m)).flat().map(key);
    await until(() => expect(new Set([...a, ...b].map(key)).size).toBe(want.length));
    // Exactly once within each program; across the crash, only bars whose acknowledgement died with it come twice.
    expect(new Set(b.map(key)).size).toBe(b.length);
    expect(new Set(a.map(key)).size).toBe(a.length);
    const twice = b.filter((x) => a.some((y) => key(y) === key(x))).length;
    expect(twice).toBeLessThanOrEqual(200);
    await again.disconnect();
    await publisher.close();
  }, 30_000);

  it('three consumers on one publisher end with identical histories; a symbol filter reads only its own', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc });
    const consumers = [0, 1, 2].map((i) => new NatsBarFeed({ symbols: 'all', connection: nc, from: 'new', durable: `c${i}` }));
    const only = new NatsBarFeed({ symbols: ['SQQQ'], connection: nc, from: 'new' });
    const got = consumers.map(collect);
    const sqqq = collect(only);
    for (const c of [...consumers, only]) {
      await c.connect();
      await c.start();
    }
    for (let m = 0; m < 20; m++) source.push(...minute(m));
    await until(() => expect(got.map((g) => g.length)).toEqual([60, 60, 60]));
    await until(() => expect(sqqq).toHaveLength(20));
    expect(got[1]).toEqual(got[0]);
    expect(got[2]).toEqual(got[0]);
    expect(sqqq.every((b) => b.symbol === 'SQQQ')).toBe(true);
    for (const c of [...consumers, only]) await c.disconnect();
    await publisher.close();
  });

  it('a message it cannot read is an error naming subject and sequence, acknowledged and skipped', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc });
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all' });
    const got = collect(consumer);
    const errors: Error[] = [];
    consumer.on('error', (e) => errors.push(e.error));
    source.push(...minute(0));
    await publisher.flush();
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(nc).publish('feed.bars.TQQQ', new TextEncoder().encode('not a bar'));
    source.push(...minute(1));
    await publisher.flush();
    await consumer.connect();
    await consumer.start();
    await until(() => expect(got).toHaveLength(6));
    expect(errors).toHaveLength(1);
    // The minute before it went as one batch (sequence 1).
    expect(errors[0]?.message).toMatch(/feed\.bars\.TQQQ \(stream FEED_BARS, sequence 2\)/);
    expect(consumer.stats().undecodable).toBe(1);
    expect(consumer.stats().errors).toBe(1);
    await consumer.disconnect();
    // Acknowledged: a durable consumer on the same stream would not see it again either.
    await publisher.close();
  });

  it('messages the stream lost before a consumer read them (its limits, a purge) are an error naming the range, counted; the rest is delivered', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize: 1 });
    for (let m = 0; m < 6; m++) source.push(...minute(m));
    await publisher.flush();
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(nc);
    // Minute 3 (sequences 10 to 12) removed from the stream, as its limits would.
    for (const seq of [10, 11, 12]) await jsm.streams.deleteMessage('FEED_BARS', seq);
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all' });
    const got = collect(consumer);
    const errors: FeedError[] = [];
    consumer.on('error', (e) => errors.push(e.error));
    await consumer.connect();
    await consumer.start();
    await until(() => expect(got).toHaveLength(15));
    expect(got).toEqual([0, 1, 2, 4, 5].flatMap((m) => minute(m)));
    expect(errors.map((e) => [e.code, e.detail])).toEqual([['gap_unfilled', { stream: 'FEED_BARS', from: 10, to: 12, missing: 3 }]]);
    expect(errors[0]?.message).toMatch(/stream FEED_BARS has no messages 10 to 12 any more/);
    expect(consumer.stats().sequenceGaps).toBe(1);
    await consumer.disconnect();
    await publisher.close();
  });

  it('kill -9 mid-stream and a restart on the same store: no bar lost or duplicated at a consumer', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, ackTimeoutMs: 500 });
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all', durable: 'survivor' });
    const got = collect(consumer);
    await consumer.connect();
    await consumer.start();
    for (let m = 0; m < 10; m++) source.push(...minute(m));
    await until(() => expect(got.length).toBeGreaterThanOrEqual(15));
    await server.kill9();
    for (let m = 10; m < 20; m++) source.push(...minute(m)); // while the server is down: buffered
    expect(publisher.stats().buffered + publisher.stats().inFlight).toBeGreaterThan(0);
    await server.restart();
    await publisher.flush();
    await until(() => expect(got).toHaveLength(60));
    expect(got).toEqual([...Array(20).keys()].flatMap((m) => minute(m)));
    expect(publisher.stats().dropped).toBe(0);
    await consumer.disconnect();
    await publisher.close();
  }, 60_000);

  it('a source that can pause (a replay at speed 0) is held at the high-water mark: every bar stored, none dropped; the same source unable to pause loses bars', async () => {
    const bars = Array.from({ length: 1000 }, (_, m) => minute(m)).flat();
    /** A replay-like source: it emits as fast as it can and, when `pausable`, honours pause()/resume() between bars. */
    const run = async (pausable: boolean, stream: string): Promise<PublisherStats & { maxAhead: number }> => {
      const listeners = new Set<Listener<BarEvent>>();
      let paused = false;
      let wake: (() => void) | undefined;
      const on = (_type: 'bar', l: Listener<BarEvent>): (() => void) => {
        listeners.add(l);
        return () => {
          listeners.delete(l);
        };
      };
      const replay = pausable ? { on, pause: () => void (paused = true), resume: () => ((paused = false), wake?.()) } : { on };
      const publisher = await BarPublisher.start({ feed: replay, connection: nc, maxBuffered: 400, stream, prefix: stream.toLowerCase() });
      let maxAhead = 0;
      for (let i = 0; i < bars.length; i++) {
        if (paused) await new Promise<void>((r) => (wake = r));
        for (const l of listeners) l({ type: 'bar', bar: bars[i] as Bar });
        maxAhead = Math.max(maxAhead, publisher.stats().buffered);
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
      await publisher.flush();
      const stats = publisher.stats();
      await publisher.close();
      return { ...stats, maxAhead };
    };
    const unable = await run(false, 'RAW');
    expect(unable.dropped).toBeGreaterThan(0);
    const held = await run(true, 'HELD');
    expect(held.dropped).toBe(0);
    expect(held.acknowledged).toBe(bars.length);
    expect(held.pauses).toBeGreaterThan(0);
    expect(held.maxAhead).toBeLessThanOrEqual(400);
    const consumer = new NatsBarFeed({ symbols: 'all', connection: nc, from: 'all', stream: 'HELD', prefix: 'held' });
    const got = collect(consumer);
    await consumer.connect();
    await consumer.start();
    await until(() => expect(got).toHaveLength(bars.length));
    expect(got).toEqual(bars);
    await consumer.disconnect();
  }, 30_000);

  it('past the buffer bound, an error says how many bars and which range were dropped', async () => {
    const p = await BarPublisher.start({ feed: source, connection: nc, maxBuffered: 6, maxInFlight: 1, ackTimeoutMs: 300 });
    const errors: Error[] = [];
    p.on('error', (e) => errors.push(e.error));
    await server.kill9();
    for (let m = 0; m < 5; m++) source.push(...minute(m)); // 15 bars: 6 buffered (and 1 in flight unless the loss was seen first)
    const { dropped, buffered, inFlight } = p.stats();
    expect(buffered).toBe(6);
    expect(dropped + buffered + inFlight).toBe(15);
    expect(errors).toHaveLength(0);
    await server.restart();
    await p.flush();
    source.push(...minute(5)); // accepted again: the drop is reported
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain(`dropped ${dropped} bars`);
    expect((errors[0] as { detail?: unknown }).detail).toMatchObject({ dropped, from: T0 + 2 * MIN, to: T0 + 4 * MIN });
    await p.close();
    expect(p.stats().acknowledged).toBe(15 - dropped + 3);
  }, 60_000);

  it('replays a stored range at speed 0 and 39 alike: the clock at each minute\'s end before its bars, stopped at the end', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc });
    for (let m = 0; m < 6; m++) if (m !== 3) source.push(...minute(m)); // minute 3 missing: a gap
    await publisher.flush();
    const run = async (speed: number): Promise<{ seen: [number, string, number][]; end: number; paced: number }> => {
      const pacing = new ManualClock(0);
      const feed = new NatsBarFeed({ symbols: 'all', connection: nc, replay: { speed, pacingClock: pacing, to: T0 + 5 * MIN } });
      const seen: [number, string, number][] = [];
      feed.on('bar', (e) => seen.push([e.bar.start, e.bar.symbol, feed.clock.now()]));
      await feed.connect();
      await feed.start();
      let paced = 0;
      let finished = false;
      const done = feed.whenDone().then(() => {
        finished = true;
      });
      // The pacing waits run on a manual clock: each is run as soon as it is set, no real wait.
      while (!finished) {
        if (pacing.nextTimerAt() !== undefined) {
          paced += (pacing.nextTimerAt() as number) - pacing.now();
          pacing.runNextTimer();
        }
        await new Promise((r) => setImmediate(r));
      }
      await done;
      expect(feed.state).toBe('stopped');
      const end = feed.clock.now();
      await feed.disconnect();
      return { seen, end, paced };
    };
    const fast = await run(0);
    const x39 = await run(39);
    expect(fast.seen).toHaveLength(12);
    expect(fast.seen.every(([start, , now]) => now === start + MIN)).toBe(true);
    expect(x39.seen).toEqual(fast.seen);
    expect(fast.end).toBe(T0 + 6 * MIN); // minute 4's end, then one more interval (minute 5 is past `to`)
    expect(x39.end).toBe(fast.end);
    expect(fast.paced).toBe(0);
    // Minutes 0 to 4 at 39x, the two-minute gap counting one interval (maxGapMs), as in MockMultiSymbolFeed.
    expect(x39.paced).toBeCloseTo((3 * MIN) / 39, 6);
  });

  it('a replay holds a bounded window of a long range: at each paced pause, at most 4 x batch messages are delivered and not yet acknowledged', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize: 1 });
    const minutes = 300;
    for (let m = 0; m < minutes; m++) source.push(...minute(m));
    await publisher.flush();
    const pacing = new ManualClock(0);
    const batch = 5;
    const feed = new NatsBarFeed({ symbols: 'all', connection: nc, batch, replay: { speed: 39, pacingClock: pacing } });
    const got = collect(feed);
    await feed.connect();
    await feed.start();
    let finished = false;
    const done = feed.whenDone().then(() => {
      finished = true;
    });
    const jsm = await jetstreamManager(nc);
    const [consumer] = await jsm.consumers.list('FEED_BARS').next();
    expect(consumer?.config.max_ack_pending).toBe(4 * batch);
    const pending: number[] = [];
    let pauses = 0;
    // Each pacing wait is a pause of the replay at a known point: the server is asked, mid-range,
    // how many messages it has delivered that the feed has not acknowledged (read, not yet delivered).
    while (!finished) {
      if (pacing.nextTimerAt() !== undefined) {
        if (pauses++ % 25 === 0) pending.push((await jsm.consumers.info('FEED_BARS', consumer?.name as string)).num_ack_pending);
        pacing.runNextTimer();
      }
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(got).toHaveLength(minutes * SYMBOLS.length);
    // 900 messages in the stream; the window held at any pause is bounded by the batch, not the range.
    expect(pending.length).toBeGreaterThan(10);
    expect(Math.max(...pending)).toBeLessThanOrEqual(4 * batch);
    expect(pending.some((n) => n > 0)).toBe(true);
    await feed.disconnect();
  });

  it('replay at speed 1 across a weekend waits one interval, not 2.5 days (the same ReplayPacer as MockMultiSymbolFeed); stop() ends a wait at once', async () => {
    const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize: 1 });
    const friday = Date.UTC(2025, 9, 10, 19, 59); // 15:59 ET, the last minute of Friday's session
    const monday = Date.UTC(2025, 9, 13, 13, 30); // 09:30 ET
    const bar = (start: number): Bar => barFromValues('TQQQ', start, MIN, 10, 11, 9, 10.5, 100, Number.NaN, -1, start + MIN);
    source.push(bar(friday - MIN), bar(friday));
    source.push(bar(monday), bar(monday + MIN));
    await publisher.flush();
    const pacing = new ManualClock(0);
    const feed = new NatsBarFeed({ symbols: ['TQQQ'], connection: nc, replay: { speed: 1, pacingClock: pacing } });
    const seen: number[] = [];
    feed.on('bar', (e) => seen.push(e.bar.start));
    await feed.connect();
    await feed.start();
    const waits: number[] = [];
    while (seen.length < 3) {
      const next = pacing.nextTimerAt();
      if (next !== undefined) {
        waits.push(next - pacing.now());
        pacing.runNextTimer();
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(seen).toEqual([friday - MIN, friday, monday]);
    expect(waits).toEqual([MIN, MIN]);
    // Waiting before Monday's second minute: stop() ends the wait, no timer is left behind.
    await vi.waitFor(() => expect(pacing.pendingTimers).toBe(1));
    await feed.stop();
    expect(pacing.pendingTimers).toBe(0);
    expect(seen).toHaveLength(3);
    await feed.disconnect();
    await publisher.close();
  });

  it('an unreachable server at connect() is a ConnectionError after the retries', async () => {
    const url = server.url;
    await server.kill9();
    const feed = new NatsBarFeed({ symbols: SYMBOLS, connection: { servers: url, attempts: 2, retryDelayMs: 10 } });
    const error = await feed.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toContain(url.replace('nats://', ''));
    await server.restart();
  });
});
