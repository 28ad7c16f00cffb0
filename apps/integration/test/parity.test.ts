import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bar, BarFeed, TradingStatus } from '@feed/core';
import { MINUTE_MS, ManualClock, makeCorporateAction, makeTradingStatus } from '@feed/core';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import type { StreamEncoding } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import type { Snapshot } from '@feed/data-manager';
import type { MinutesBar } from '@feed/data-manager';
import { MinuteBarAggregator, MultiSymbolDataManager, SessionEvents } from '@feed/data-manager';
import { actionFilePath, readBarsFromCsv, realDataCsv, statusFilePath, writeActionsCsv, writeStatusesCsv } from '@feed/csv';
import { MockMultiSymbolFeed } from '@feed/mock';
import { BarPublisher, NatsBarFeed, connectNats } from '@feed/nats';
import { NatsServer, findNatsServer } from '@feed/nats/testing';
import { PolygonMultiSymbolFeed } from '@feed/polygon';
import { FakePolygonServer } from '@feed/polygon/testing';
import { Random, generateFiles } from '@feed/synth';

const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const DATE = '2025-10-16';

interface Run {
  slices: Snapshot[];
  history: Record<string, Bar[]>;
  stats: unknown;
  /** 5- and 15-minute bars built from the manager's minutes (MinuteBarAggregator), by N. */
  aggregated: Record<number, MinutesBar[]>;
}

/** Every data manager of this file aggregates 5- and 15-minute bars from its first bar on. */
const aggregatedOf = new WeakMap<MultiSymbolDataManager, Record<number, MinutesBar[]>>();
function aggregate(dm: MultiSymbolDataManager): MultiSymbolDataManager {
  const out: Record<number, MinutesBar[]> = { 5: [], 15: [] };
  for (const minutes of [5, 15]) new MinuteBarAggregator(dm, { minutes }).on('bar', ({ bar }) => out[minutes]?.push(bar));
  // Session events, as N = 0: each with the newest bar the manager held when it came.
  const events: MinutesBar[] = [];
  const sessions = new SessionEvents(dm);
  for (const type of ['sessionOpen', 'beforeClose', 'sessionClose'] as const)
    sessions.on(type, (e) => events.push({ type, at: e.at, lastBar: dm.latestBar('TQQQ')?.start ?? null } as unknown as MinutesBar));
  // The corporate action, with SVIX's newest bar when it came (none: before its first bar).
  dm.on('corporateAction', (e) => events.push({ type: 'corporateAction', symbol: e.action.symbol, lastBar: dm.latestBar('SVIX')?.start ?? null } as unknown as MinutesBar));
  out[0] = events;
  aggregatedOf.set(dm, out);
  return dm;
}

/** Fields that depend on when a bar arrived, not on the data: excluded from the comparison. */
const IGNORED = /^(receivedAt|avgLatencyMs|maxLatencyMs|latency.*)$/;

/** The path and values of the first difference between two values, or undefined when equal. */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${path || '(root)'}: replay ${JSON.stringify(a)}, live ${JSON.stringify(b)}`;
  }
  // A snapshot is a view: its per-symbol fields are getters. Compare what it serializes, every field.
  const json = (v: object): unknown => (typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v);
  if (json(a) !== a || json(b) !== b) return firstDifference(json(a), json(b), path);
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: one is an array`;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return a.length === b.length ? undefined : `${path}.length: replay ${a.length}, live ${b.length}`;
  }
  const ka = Object.keys(a).filter((k) => !IGNORED.test(k));
  const kb = Object.keys(b).filter((k) => !IGNORED.test(k));
  for (const k of new Set([...ka, ...kb])) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d !== undefined) return d;
  }
  return undefined;
}

let files: Record<string, string> = {};
/** UVXY is halted (a volatility pause) from 11:00:30 to 11:05:30 and has no bar meanwhile. */
const HALT = Date.UTC(2025, 9, 16, 15, 0, 30);
const RESUME = HALT + 5 * MINUTE_MS;
const statuses: TradingStatus[] = [
  makeTradingStatus({ symbol: 'UVXY', at: HALT, kind: 'status', effect: 'halt', code: 'H', message: 'Trading Halt', reasonCode: 'LUDP', reasonMessage: 'Volatility Trading Pause', tape: 'Z', receivedAt: HALT }),
  makeTradingStatus({ symbol: 'UVXY', at: RESUME, kind: 'status', effect: 'resume', code: 'T', message: 'Trading Resumption', tape: 'Z', receivedAt: RESUME }),
];

/** The session is SVIX's ex-date of a 1:2 reverse split: every path announces it before SVIX's first bar. */
const SPLIT = makeCorporateAction({ symbol: 'SVIX', kind: 'reverse_split', exDate: DATE, ratio: 0.5, source: 'test' });

beforeAll(async () => {
  // A full session of the six ETFs, then gaps: thin symbols skip minutes, SVIX loses a 9-minute run
  // (beyond the 5 forward fills allowed: invalid for a while).
  const dir = mkdtempSync(join(tmpdir(), 'feed-parity-'));
  const generated = await generateFiles({ outDir: dir, from: DATE, to: DATE, seed: 5, symbols: SIX });
  const random = new Random(42);
  const skip: Record<string, number> = { SDS: 0.1, UVXY: 0.05, SVIX: 0.15 };
  for (const f of generated) {
    if (!SIX.includes(f.symbol)) continue;
    const { bars } = await readBarsFromCsv(f.symbol, f.path);
    const kept = bars.filter((b, i) => !(random.next() < (skip[f.symbol] ?? 0)) && !(f.symbol === 'SVIX' && i >= 200 && i < 209) && !(f.symbol === 'UVXY' && b.end > HALT && b.start < RESUME));
    writeFileSync(f.path, Buffer.concat(realDataCsv(kept).chunks));
    // The halt, in the sidecar a replay reads (as a recording of the live statuses would be).
    if (f.symbol === 'UVXY') await writeStatusesCsv(statusFilePath(f.path), statuses);
    if (f.symbol === 'SVIX') await writeActionsCsv(actionFilePath(f.path), [SPLIT]);
    files[f.symbol] = f.path;
  }
  files = Object.fromEntries(SIX.map((s) => [s, files[s] as string]));
});

async function collect(dm: MultiSymbolDataManager, slices: Snapshot[]): Promise<Run> {
  dm.flush();
  const history = Object.fromEntries(SIX.map((s) => [s, dm.history(s)]));
  return Promise.resolve({ slices, history, stats: dm.stats(), aggregated: aggregatedOf.get(dm) ?? {} });
}

async function viaReplay(): Promise<Run> {
  const feed = new MockMultiSymbolFeed({ files, speed: 0 });
  const dm = aggregate(new MultiSymbolDataManager({ symbols: SIX, clock: feed.clock }));
  const slices: Snapshot[] = [];
  dm.on('slice', (e) => slices.push(e.slice));
  dm.attach(feed);
  await feed.connect();
  await feed.start();
  await feed.whenDone();
  const run = await collect(dm, slices);
  await feed.disconnect();
  return run;
}

/** A live feed on a fake server, as `viaStream` drives it. */
interface LiveSetup {
  readonly feed: BarFeed;
  publish(bars: Bar[]): void;
  publishStatus(statuses: TradingStatus[]): void;
  close(): Promise<void>;
}

/**
 * The same files, minute by minute, through a fake provider's stream. The clock moves as a replay
 * moves it: to the end of each minute, then that minute's bars arrive.
 */
async function viaStream(open: (clock: ManualClock) => Promise<LiveSetup>): Promise<Run> {
  const groups = new Map<number, Bar[]>();
  for (const s of SIX) {
    for (const b of (await readBarsFromCsv(s, files[s] as string)).bars) {
      const g = groups.get(b.start);
      if (g === undefined) groups.set(b.start, [b]);
      else g.push(b);
    }
  }
  const starts = [...groups.keys()].sort((a, b) => a - b);
  const clock = new ManualClock(starts[0]);
  const { feed, publish, publishStatus, close } = await open(clock);
  const dm = aggregate(new MultiSymbolDataManager({ symbols: SIX, clock }));
  const slices: Snapshot[] = [];
  dm.on('slice', (e) => slices.push(e.slice));
  dm.attach(feed);
  let expected = 0;
  let wake: (() => void) | undefined;
  feed.on('bar', () => {
    if (feed.stats().barsReceived >= expected) wake?.();
  });
  let statusesIn = 0;
  let statusWake: (() => void) | undefined;
  feed.on('tradingStatus', () => {
    statusesIn++;
    statusWake?.();
  });
  await feed.connect();
  await feed.start();
  let nextStatus = 0;
  for (const start of starts) {
    // A status arrives when it happens: inside its minute, before that minute's bars.
    while (nextStatus < statuses.length && (statuses[nextStatus] as TradingStatus).at < start + MINUTE_MS) {
      const st = statuses[nextStatus++] as TradingStatus;
      if (st.at > clock.now()) clock.set(st.at);
      const arrived = new Promise<void>((resolve) => {
        statusWake = resolve;
      });
      publishStatus([st]);
      await arrived;
    }
    const group = groups.get(start) as Bar[];
    if (start + MINUTE_MS > clock.now()) clock.set(start + MINUTE_MS);
    expected += group.length;
    const arrived = new Promise<void>((resolve) => {
      wake = resolve;
    });
    publish(group);
    await arrived;
  }
  clock.set(clock.now() + MINUTE_MS);
  const run = await collect(dm, slices);
  expect(feed.stats().errors).toBe(0);
  expect(statusesIn).toBe(statuses.length);
  await feed.disconnect();
  await close();
  return run;
}

function viaAlpaca(encoding: StreamEncoding, worker = false): Promise<Run> {
  return viaStream(async (clock) => {
    const server = await FakeAlpacaServer.start();
    server.addCorporateActions([SPLIT]);
    const feed = new AlpacaMultiSymbolFeed({ symbols: SIX, url: server.url(), restUrl: server.restUrl, keys: server.keys, encoding, clock, keepAlive: false, watchdog: false, worker, channels: { statuses: true }, corporateActions: true });
    return { feed, publish: (bars) => server.publish(bars), publishStatus: (st) => server.publishStatus(st), close: () => server.close() };
  });
}

function viaPolygon(): Promise<Run> {
  return viaStream(async (clock) => {
    const server = await FakePolygonServer.start();
    server.addCorporateActions([SPLIT]);
    const feed = new PolygonMultiSymbolFeed({ symbols: SIX, url: server.wsUrl, restUrl: server.url, apiKey: server.apiKey, clock, keepAlive: false, watchdog: false, luld: true, corporateActions: true });
    return { feed, publish: (bars) => server.publish(bars), publishStatus: (st) => server.publishStatus(st), close: () => server.close() };
  });
}

const NATS = findNatsServer();
if (NATS === undefined && process.env.FEED_REQUIRE_NATS === '1') throw new Error('FEED_REQUIRE_NATS=1 but nats-server is not installed');

/**
 * The same files replayed into a publisher, stored in JetStream, then replayed from JetStream by a
 * `NatsBarFeed` (speed 0, its own ReplayClock) into a data manager.
 */
async function viaNats(): Promise<Run> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: server.url });
  const source = new MockMultiSymbolFeed({ files, speed: 0 });
  const publisher = await BarPublisher.start({ feed: source, connection: nc });
  await source.connect();
  await source.start();
  await source.whenDone();
  await publisher.close();
  await source.disconnect();
  const feed = new NatsBarFeed({ symbols: SIX, connection: nc, replay: { speed: 0 }, corporateActions: [SPLIT] });
  const dm = aggregate(new MultiSymbolDataManager({ symbols: SIX, clock: feed.clock }));
  const slices: Snapshot[] = [];
  dm.on('slice', (e) => slices.push(e.slice));
  dm.attach(feed);
  await feed.connect();
  await feed.start();
  await feed.whenDone();
  const run = await collect(dm, slices);
  expect(feed.stats().errors).toBe(0);
  await feed.disconnect();
  await nc.close();
  await server.stop();
  return run;
}

describe('parity: replay and live give the same slices, histories and statistics', () => {
  let replay: Run;
  beforeAll(async () => {
    replay = await viaReplay();
  });

  it('the source has gaps, forward fills and an invalid stretch (the test is not trivial)', () => {
    const s = replay.stats as { bySymbol: Record<string, { forwardFilledIntervals: number; invalidSlices?: number }> };
    expect(replay.slices.length).toBe(391);
    expect(s.bySymbol.SDS?.forwardFilledIntervals).toBeGreaterThan(10);
    expect(s.bySymbol.SVIX?.forwardFilledIntervals).toBeGreaterThan(10);
    expect(replay.slices.some((x) => !(x.symbols.SVIX?.valid ?? true))).toBe(true);
    expect(replay.history.TQQQ).toHaveLength(391);
    // 5- and 15-minute bars of every symbol, the closing-auction minute its own partial bar, some with forward-filled minutes.
    expect(replay.aggregated[5]?.filter((b) => b.symbol === 'TQQQ')).toHaveLength(78 + 1);
    expect(replay.aggregated[15]?.filter((b) => b.symbol === 'TQQQ')).toHaveLength(26 + 1);
    expect(replay.aggregated[5]?.some((b) => b.filledMinutes > 0)).toBe(true);
    expect(replay.aggregated[0]?.map((e) => (e as unknown as { type: string }).type)).toEqual(['sessionOpen', 'corporateAction', 'beforeClose', 'sessionClose']);
    expect(replay.aggregated[0]?.[1]).toEqual({ type: 'corporateAction', symbol: 'SVIX', lastBar: null });
    // UVXY's halt: five slices mark it halted (11:01 to 11:05), and its 11:00 5-minute bar counts halted minutes.
    expect(replay.slices.filter((x) => x.halted.includes('UVXY')).map((x) => new Date(x.asOf).toISOString().slice(11, 16))).toEqual(['15:01', '15:02', '15:03', '15:04', '15:05']);
    expect((s.bySymbol.UVXY as { haltedSlices?: number }).haltedSlices).toBe(5);
    expect(replay.aggregated[5]?.find((b) => b.symbol === 'UVXY' && b.start === HALT - 30_000)?.haltedMinutes).toBe(5);
    // SVIX's ex-date: the action announced (before its first bar) and applied once.
    expect((s.bySymbol.SVIX as { corporateActions?: number }).corporateActions).toBe(1);
  });

  it.each(['json', 'msgpack'] as const)('%s: identical, field by field', async (encoding) => {
    const live = await viaAlpaca(encoding);
    expect(firstDifference(replay.slices, live.slices, 'slices')).toBeUndefined();
    expect(firstDifference(replay.history, live.history, 'history')).toBeUndefined();
    expect(firstDifference(replay.stats, live.stats, 'stats')).toBeUndefined();
    expect(firstDifference(replay.aggregated, live.aggregated, 'aggregated')).toBeUndefined();
  }, 60_000);

  it('msgpack with the socket in a worker thread (worker: true): identical, field by field', async () => {
    const live = await viaAlpaca('msgpack', true);
    expect(firstDifference(replay.slices, live.slices, 'slices')).toBeUndefined();
    expect(firstDifference(replay.history, live.history, 'history')).toBeUndefined();
    expect(firstDifference(replay.stats, live.stats, 'stats')).toBeUndefined();
    expect(firstDifference(replay.aggregated, live.aggregated, 'aggregated')).toBeUndefined();
  }, 60_000);

  it('through the fake Polygon stream (PolygonMultiSymbolFeed): identical, field by field', async () => {
    const polygon = await viaPolygon();
    expect(firstDifference(replay.slices, polygon.slices, 'slices')).toBeUndefined();
    expect(firstDifference(replay.history, polygon.history, 'history')).toBeUndefined();
    expect(firstDifference(replay.stats, polygon.stats, 'stats')).toBeUndefined();
    expect(firstDifference(replay.aggregated, polygon.aggregated, 'aggregated')).toBeUndefined();
  }, 60_000);

  it.skipIf(NATS === undefined)('through NATS JetStream (publisher, stream, NatsBarFeed replay): identical, field by field', async () => {
    const viaJetStream = await viaNats();
    expect(firstDifference(replay.slices, viaJetStream.slices, 'slices')).toBeUndefined();
    expect(firstDifference(replay.history, viaJetStream.history, 'history')).toBeUndefined();
    expect(firstDifference(replay.stats, viaJetStream.stats, 'stats')).toBeUndefined();
    expect(firstDifference(replay.aggregated, viaJetStream.aggregated, 'aggregated')).toBeUndefined();
  }, 60_000);

  it.each([5, 15])("%i-minute bars equal Alpaca's own REST bars of that timeframe built from the same minutes (fake server, grouped independently)", async (n) => {
    const server = await FakeAlpacaServer.start();
    try {
      server.addHistory(Object.values(replay.history).flat());
      const rest: Record<string, { t: string; o: number; h: number; l: number; c: number; v: number }[]> = {};
      let token: string | null = null;
      do {
        const q = new URLSearchParams({ symbols: SIX.join(','), timeframe: `${n}Min`, start: '2025-10-16T13:30:00Z', end: '2025-10-16T20:01:00Z', limit: '10000', ...(token ? { page_token: token } : {}) });
        const r = await fetch(`${server.restUrl}/v2/stocks/bars?${q.toString()}`, { headers: { 'APCA-API-KEY-ID': server.keys.keyId, 'APCA-API-SECRET-KEY': server.keys.secretKey } });
        const body = (await r.json()) as { bars: typeof rest; next_page_token: string | null };
        for (const [s, list] of Object.entries(body.bars)) (rest[s] ??= []).push(...list);
        token = body.next_page_token;
      } while (token);
      for (const s of SIX) {
        const theirs = (rest[s] ?? []).map((b) => [Date.parse(b.t), b.o, b.h, b.l, b.c, b.v]);
        // A bar with no real minute (forward fill only) is ours alone: Alpaca has no bar without trades.
        const mine = (replay.aggregated[n] ?? []).filter((b) => b.symbol === s && b.minutes > 0).map((b) => [b.start, b.open, b.high, b.low, b.close, b.volume]);
        expect(theirs.length, s).toBeGreaterThan(20);
        expect(mine, s).toEqual(theirs);
      }
    } finally {
      await server.close();
    }
  }, 60_000);

  it('the comparison can fail: one changed price is reported with its path', async () => {
    const live = await viaAlpaca('json');
    const tampered = structuredClone(live.history);
    const bars = tampered.SDS as Bar[];
    bars[10] = { ...(bars[10] as Bar), close: (bars[10] as Bar).close + 0.01 };
    expect(firstDifference(replay.history, tampered, 'history')).toMatch(/^history\.SDS\[10\]\.close: replay [\d.]+, live [\d.]+$/);
    // And in a slice: one entry's price, deep inside a view.
    const slices = live.slices.map((x) => structuredClone(x.toJSON()));
    const entry = (slices[100] as unknown as { entries: { price: number }[] }).entries[2] as { price: number };
    entry.price += 0.01;
    expect(firstDifference(replay.slices, slices, 'slices')).toMatch(/^slices\[100\]\.(entries\[2\]|symbols\.UPRO)\.price: replay [\d.]+, live [\d.]+$/);
  }, 60_000);
});
