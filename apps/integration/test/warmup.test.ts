/**
 * Warm-up that joins live (docs/semantics.md, "Warm-up"): the same `warmUp({ bars })` call in a
 * replay (from the bars before the replayed range) and on live feeds (from the provider's REST
 * history, from files through the Arrow cache, from NATS), then the same day's minutes: the data
 * manager ends in the same state, field by field, and its 5-minute bars (the warm ones first) agree.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bar, BarFeed, HistoricalBars, WarmUpResult } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, makeCorporateAction, nyse } from '@feed/core';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { FileHistory, actionFilePath, readBarsFromCsv, realDataCsv, writeActionsCsv } from '@feed/csv';
import type { MinutesBar, Snapshot } from '@feed/data-manager';
import { MinuteBarAggregator, MultiSymbolDataManager } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';
import { BarPublisher, NatsHistory, connectNats } from '@feed/nats';
import { NatsServer, findNatsServer } from '@feed/nats/testing';
import { Random, generateFiles } from '@feed/synth';

const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const DAY1 = '2025-10-15';
const DAY2 = '2025-10-16';
const OPEN2 = Date.UTC(2025, 9, 16, 13, 30);
const WARM = 250;

interface Run {
  warm: WarmUpResult;
  history: Record<string, Bar[]>;
  slices: Snapshot[];
  five: MinutesBar[];
  stats: unknown;
}

let files: Record<string, string> = {};
let allBars: Bar[] = [];
/** Day 2 is UVXY's ex-date of a 1:10 reverse split: its day-2 bars are ten times the price, a tenth of the volume. */
const SPLIT = makeCorporateAction({ symbol: 'UVXY', kind: 'reverse_split', exDate: DAY2, ratio: 0.1, source: 'test' });

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'feed-warmup-'));
  const generated = await generateFiles({ outDir: dir, from: DAY1, to: DAY2, seed: 11, symbols: SIX });
  const random = new Random(7);
  const skip: Record<string, number> = { SDS: 0.1, UVXY: 0.05, SVIX: 0.2 };
  for (const f of generated) {
    if (!SIX.includes(f.symbol)) continue;
    const { bars } = await readBarsFromCsv(f.symbol, f.path);
    const kept = bars
      .filter(() => !(random.next() < (skip[f.symbol] ?? 0)))
      .map((b) => (f.symbol === 'UVXY' && b.start >= OPEN2 ? makeBar({ ...b, open: b.open * 10, high: b.high * 10, low: b.low * 10, close: b.close * 10, volume: Math.round(b.volume / 10) }) : b));
    writeFileSync(f.path, Buffer.concat(realDataCsv(kept).chunks));
    if (f.symbol === 'UVXY') await writeActionsCsv(actionFilePath(f.path), [SPLIT]);
    files[f.symbol] = f.path;
    allBars.push(...kept);
  }
  files = Object.fromEntries(SIX.map((s) => [s, files[s] as string]));
  allBars = allBars.sort((a, b) => a.start - b.start);
});

function manager(clock: ManualClock | MockMultiSymbolFeed['clock']) {
  // A price jump over 50 % is rejected: the split must be announced before day 2's first bar.
  const dm = new MultiSymbolDataManager({ symbols: SIX, clock, historySize: 2000, maxPriceJump: 0.5 });
  const slices: Snapshot[] = [];
  const five: MinutesBar[] = [];
  dm.on('slice', (e) => slices.push(e.slice));
  new MinuteBarAggregator(dm, { minutes: 5 }).on('bar', (e) => five.push(e.bar));
  return { dm, slices, five };
}

function collect(dm: MultiSymbolDataManager, warm: WarmUpResult, slices: Snapshot[], five: MinutesBar[]): Run {
  dm.flush();
  return { warm, history: Object.fromEntries(SIX.map((s) => [s, dm.history(s)])), slices, five, stats: dm.stats() };
}

async function viaReplay(): Promise<Run> {
  const feed = new MockMultiSymbolFeed({ files, speed: 0, dates: DAY2 });
  const { dm, slices, five } = manager(feed.clock);
  dm.attach(feed);
  await feed.connect();
  const warm = await feed.warmUp({ bars: WARM });
  await feed.start();
  await feed.whenDone();
  const run = collect(dm, warm, slices, five);
  await feed.disconnect();
  return run;
}

/** Day 2 minute by minute through the fake Alpaca stream; the warm-up from `history` (default: the fake's REST). */
async function viaAlpaca(history?: (server: FakeAlpacaServer) => Promise<HistoricalBars>, worker = false): Promise<Run> {
  const server = await FakeAlpacaServer.start();
  server.addHistory(allBars.filter((b) => b.start < OPEN2));
  server.addCorporateActions([SPLIT]);
  const clock = new ManualClock(OPEN2);
  const feed: BarFeed & { warmUp: AlpacaMultiSymbolFeed['warmUp'] } = new AlpacaMultiSymbolFeed({ symbols: SIX, url: server.url(), restUrl: server.restUrl, keys: server.keys, clock, keepAlive: false, watchdog: false, worker, corporateActions: true });
  const { dm, slices, five } = manager(clock);
  dm.attach(feed);
  let expected = 0;
  let wake: (() => void) | undefined;
  feed.on('bar', () => {
    if (feed.stats().barsReceived >= expected) wake?.();
  });
  await feed.connect();
  const warm = await feed.warmUp({ bars: WARM, ...(history === undefined ? {} : { history: await history(server) }) });
  await feed.start();
  const day2 = allBars.filter((b) => b.start >= OPEN2);
  for (const start of [...new Set(day2.map((b) => b.start))]) {
    const group = day2.filter((b) => b.start === start);
    clock.set(start + MINUTE_MS);
    expected += group.length;
    const arrived = new Promise<void>((resolve) => {
      wake = resolve;
    });
    server.publish(group);
    await arrived;
  }
  clock.set(clock.now() + MINUTE_MS);
  const run = collect(dm, warm, slices, five);
  expect(feed.stats().errors).toBe(0);
  await feed.disconnect();
  await server.close();
  return run;
}

const IGNORED = /^(receivedAt|avgLatencyMs|maxLatencyMs|recoveredBars)$/;
function same(a: unknown, b: unknown): void {
  const strip = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (k, x: unknown) => (IGNORED.test(k) ? undefined : x)) ?? 'null');
  expect(strip(b)).toEqual(strip(a));
}

const NATS = findNatsServer();

describe('warm-up: replay and live join their history the same way', () => {
  let replay: Run;
  beforeAll(async () => {
    replay = await viaReplay();
  }, 60_000);

  it('replay: the last 250 regular-hours bars of each symbol before the range, then the day; 5-minute bars warm from the start', () => {
    expect(replay.warm.short).toEqual([]);
    for (const s of SIX) {
      expect(replay.warm.counts[s]).toBe(WARM);
      const before = allBars.filter((b) => b.symbol === s && b.start < OPEN2 && nyse.sessionAt(b.start) !== undefined);
      const day2 = allBars.filter((b) => b.symbol === s && b.start >= OPEN2);
      // History: exactly the warm-up (the newest 250 regular-hours bars of day 1, the 16:00 auction bar aside), then day 2.
      expect(replay.history[s]?.map((b) => b.start), s).toEqual([...before.slice(-WARM).map((b) => b.start), ...day2.map((b) => b.start)]);
    }
    // UVXY's split: announced once, its warm-up history rebased (ten times the price), nothing rejected.
    const stats = replay.stats as { bySymbol: Record<string, { corporateActions: number; rejected: number }> };
    expect(stats.bySymbol.UVXY).toMatchObject({ corporateActions: 1, rejected: 0 });
    const rawFirst = allBars.find((b) => b.symbol === 'UVXY' && b.start === replay.history.UVXY?.[0]?.start) as Bar;
    expect(replay.history.UVXY?.[0]?.close).toBe(rawFirst.close * 10);
    const warmFives = replay.five.filter((b) => b.warmUp);
    expect(warmFives.filter((b) => b.symbol === 'TQQQ')).toHaveLength(WARM / 5);
    // The warm 5-minute bars all come before the first live one.
    expect(replay.five.findIndex((b) => !b.warmUp)).toBe(warmFives.length);
    expect(replay.slices).toHaveLength(391);
  });

  it("Alpaca, warm-up from the provider's REST history: identical, field by field", async () => {
    same(replay, await viaAlpaca());
  }, 60_000);

  it('Alpaca with the socket in a worker thread (worker: true), warm-up from REST: identical', async () => {
    same(replay, await viaAlpaca(undefined, true));
  }, 60_000);

  it('Alpaca, warm-up from files through the Arrow cache (FileHistory): identical', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'feed-warmup-cache-'));
    same(replay, await viaAlpaca(() => Promise.resolve(new FileHistory({ files, cache }))));
  }, 60_000);

  it.skipIf(NATS === undefined)('Alpaca, warm-up from NATS JetStream (NatsHistory, what a publisher stored): identical', async () => {
    const nats = await NatsServer.start();
    const nc = await connectNats({ servers: nats.url });
    try {
      const source = new MockMultiSymbolFeed({ files, speed: 0, dates: DAY1 });
      const publisher = await BarPublisher.start({ feed: source, connection: nc });
      await source.connect();
      await source.start();
      await source.whenDone();
      await publisher.close();
      same(replay, await viaAlpaca(() => Promise.resolve(new NatsHistory({ connection: nc }))));
    } finally {
      await nc.close();
      await nats.stop();
    }
  }, 60_000);
});
