/**
 * @feed/nats on a real nats-server (JetStream, loopback): bars/s from the publisher's first bar to the
 * last delivered at every consumer, with 1 and 3 consumers, beside the bare official client
 * publishing and consuming the same messages (the same batches of 500 bars, payload version 2, with
 * their message ids; pipelined publishes, explicit acks) in the same run; `BarPublisher` with
 * `batchSize: 1` (one bar a message) beside them; and the latency from the source's bar to a
 * consumer's listener at 1 000 and 100 000 bars/s.
 * Goals: at least 50 % of bare and at least 100 000 bars/s. `BENCH_QUICK=1`: smaller (CI smoke).
 *
 * Run: pnpm bench (in this package).
 */
import { decode } from '@msgpack/msgpack';
import type { Bar } from '@feed/core';
import { ManualBarFeed, SystemClock, barFromValues } from '@feed/core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { BarPublisher, NatsBarFeed, batchId, connectNats, encodeBars } from '../src/index.js';
import { NatsServer } from '../src/testing.js';

const QUICK = process.env.BENCH_QUICK === '1';
const BARS = QUICK ? 20_000 : 100_000;
const ROUNDS = QUICK ? 1 : 3;
const LATENCY_SECONDS = QUICK ? 1 : 3;
const BATCH = 500;
const SYMBOLS = Array.from({ length: 500 }, (_, i) => `S${i}`);
const MIN = 60_000;
const T0 = Date.UTC(2025, 9, 6, 13, 30);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function makeBars(round: number): Bar[] {
  const out: Bar[] = [];
  for (let k = 0; out.length < BARS; k++) {
    const start = T0 + (round * 10_000 + k) * MIN;
    for (const s of SYMBOLS) {
      if (out.length === BARS) break;
      const p = 20 + (k % 100) / 10;
      out.push(barFromValues(s, start, MIN, p, p + 0.1, p - 0.1, p + 0.05, 100 + k, Number.NaN, -1, start + MIN));
    }
  }
  return out;
}

async function freshStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('FEED_BARS').catch(() => false);
}

/** Ours: ManualBarFeed -> BarPublisher -> JetStream -> k NatsBarFeed. Milliseconds for all bars at all consumers. */
async function ours(server: NatsServer, consumers: number, bars: Bar[], batchSize = BATCH): Promise<number> {
  const nc = await connectNats({ servers: server.url });
  await freshStream(nc);
  const source = new ManualBarFeed(SYMBOLS);
  await source.connect();
  await source.start();
  const publisher = await BarPublisher.start({ feed: source, connection: nc, batchSize });
  let remaining = consumers * bars.length;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const feeds: NatsBarFeed[] = [];
  for (let c = 0; c < consumers; c++) {
    const feed = new NatsBarFeed({ symbols: 'all', connection: { servers: server.url }, from: 'new' });
    feed.on('bar', () => {
      if (--remaining === 0) done();
    });
    await feed.connect();
    await feed.start();
    feeds.push(feed);
  }
  const t = performance.now();
  source.push(...bars);
  await finished;
  const ms = performance.now() - t;
  for (const f of feeds) await f.disconnect();
  await publisher.close();
  await nc.close();
  return ms;
}

/**
 * Bare: the official client, the same batches and ids, 64 publishes in flight, k consumers reading
 * each message's bars with msgpack's `decode` (what any reader must do) and acking it.
 */
async function bare(server: NatsServer, consumers: number, bars: Bar[]): Promise<number> {
  const nc = await connectNats({ servers: server.url });
  await freshStream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'FEED_BARS', subjects: ['feed.bars.>'], storage: 'file' });
  let remaining = consumers * Math.ceil(bars.length / BATCH);
  let read = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const readers: NatsConnection[] = [];
  for (let c = 0; c < consumers; c++) {
    const rc = await connectNats({ servers: server.url });
    readers.push(rc);
    const info = await (await jetstreamManager(rc)).consumers.add('FEED_BARS', { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, max_ack_pending: 4000 });
    const messages = await (await jetstream(rc).consumers.get('FEED_BARS', info.name)).consume({ max_messages: 1000 });
    void (async () => {
      for await (const m of messages) {
        const fields = decode(m.data) as unknown[];
        read += fields[1] as number;
        m.ack();
        if (--remaining === 0) done();
      }
    })();
  }
  const js = jetstream(nc);
  const t = performance.now();
  // Encoding is part of publishing (as BarPublisher's is): inside the timed part.
  const payloads: { subject: string; data: Uint8Array; id: string }[] = [];
  for (let i = 0; i < bars.length; i += BATCH) {
    const batch = bars.slice(i, i + BATCH).map((bar) => ({ bar, revision: 0 }));
    payloads.push({ subject: 'feed.bars._batch', data: encodeBars(batch), id: batchId(batch) });
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < payloads.length) {
      const p = payloads[next++] as (typeof payloads)[number];
      await js.publish(p.subject, p.data, { msgID: p.id });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await finished;
  const ms = performance.now() - t;
  if (read !== consumers * bars.length) throw new Error(`bare: read ${read} bars, expected ${consumers * bars.length}`);
  for (const rc of readers) await rc.close();
  await nc.close();
  return ms;
}

/** Source-to-listener latency at `rate` bars/s (a tick of bars every 10 ms, or one bar a millisecond at 1 000/s), one consumer. */
async function latency(server: NatsServer, rate: number): Promise<number[]> {
  const nc = await connectNats({ servers: server.url });
  await freshStream(nc);
  const source = new ManualBarFeed(SYMBOLS);
  await source.connect();
  await source.start();
  const publisher = await BarPublisher.start({ feed: source, connection: nc });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const feed = new NatsBarFeed({ symbols: 'all', connection: { servers: server.url }, from: 'new' });
  feed.on('bar', (e) => {
    const t = sentAt.get(`${e.bar.symbol}:${e.bar.start}`);
    if (t !== undefined) lat.push(performance.now() - t);
  });
  await feed.connect();
  await feed.start();
  const bars = makeBars(99).slice(0, LATENCY_SECONDS * rate);
  const clock = new SystemClock();
  const perTick = rate <= 1000 ? 1 : rate / 100;
  const tickMs = (1000 * perTick) / rate;
  const t0 = performance.now();
  for (let i = 0; i < bars.length; i += perTick) {
    const due = t0 + (i / perTick) * tickMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise<void>((r) => clock.setTimer(wait, r));
    const now = performance.now();
    const tick = bars.slice(i, i + perTick);
    for (const b of tick) sentAt.set(`${b.symbol}:${b.start}`, now);
    source.push(...tick);
  }
  await publisher.flush();
  for (let i = 0; i < 200 && lat.length < bars.length; i++) await new Promise<void>((r) => clock.setTimer(10, r));
  await feed.disconnect();
  await publisher.close();
  await nc.close();
  return lat;
}

const server = await NatsServer.start();
try {
  const rows: { consumers: number; ours: number; bare: number; single: number }[] = [];
  // One bar a message is about 20x slower: a tenth of the bars is enough to measure it.
  const singleBars = (r: number): Bar[] => makeBars(r).slice(0, BARS / 10);
  for (const consumers of [1, 3]) {
    const o: number[] = [];
    const b: number[] = [];
    const one: number[] = [];
    await ours(server, consumers, makeBars(0)); // warm-up
    await bare(server, consumers, makeBars(0));
    for (let r = 1; r <= ROUNDS; r++) {
      o.push(BARS / ((await ours(server, consumers, makeBars(r))) / 1000));
      b.push(BARS / ((await bare(server, consumers, makeBars(r))) / 1000));
      one.push(BARS / 10 / ((await ours(server, consumers, singleBars(r + 50), 1)) / 1000));
    }
    rows.push({ consumers, ours: median(o), bare: median(b), single: median(one) });
  }
  const lat = [await latency(server, 1000), await latency(server, 100_000)];
  console.log(`@feed/nats benchmark: ${fmt(BARS)} bars (${SYMBOLS.length} symbols) through a real nats-server${QUICK ? ' (quick smoke run)' : ''}, medians of ${ROUNDS} interleaved rounds; batches of ${BATCH} bars a message`);
  console.log('| consumers | @feed/nats bars/s | bare client bars/s (same messages) | ratio | goals (>= 50 % of bare, >= 100 000 bars/s) | @feed/nats, one bar a message (batchSize 1) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const ok = r.ours >= 0.5 * r.bare && r.ours >= 100_000;
    console.log(`| ${r.consumers} | ${fmt(r.ours)} | ${fmt(r.bare)} | ${fmt((100 * r.ours) / r.bare, 1)} % | ${ok ? 'ok' : 'MISSED'} | ${fmt(r.single)} |`);
  }
  for (const [i, rate] of [1000, 100_000].entries()) {
    const l = lat[i] as number[];
    console.log(`latency source -> listener at ${fmt(rate)} bars/s (${fmt(l.length)} bars): p50 ${fmt(pct(l, 50), 2)} ms, p99 ${fmt(pct(l, 99), 2)} ms, max ${fmt(Math.max(...l), 2)} ms`);
  }
} finally {
  await server.stop();
}
