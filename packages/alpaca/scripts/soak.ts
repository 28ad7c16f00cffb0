/**
 * Fault soak: the fake server replays a full session of six symbols (with the gaps thin symbols have)
 * at high speed and, at seeded random moments, drops the connection several times, refuses with 406
 * for a while, and goes silent once. At the end the data manager's history of every symbol must equal
 * the source bars exactly: none lost, none duplicated, none out of order.
 *
 * Run: pnpm soak [--seed N] [--minutes N] [--drops N] [--encoding json|msgpack]  (in this package).
 * Exit code 1 when a history differs; the first difference is printed.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, nyse, sameBarData } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import type { StreamEncoding } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';

export interface SoakOptions {
  seed: number;
  /** Minutes of the session to replay (390 = all of it). */
  minutes: number;
  /** Connection drops (besides the 406 episode and the silence). */
  drops: number;
  encoding: StreamEncoding;
  /** Real milliseconds between two replayed minutes. */
  minuteDelayMs: number;
  /**
   * Turn gap fill off (to see the soak fail without it).
   * @default true
   */
  gapFill?: boolean;
}

export interface SoakReport {
  bars: number;
  recovered: number;
  reconnects: number;
  duplicatesDropped: number;
  watchdogTrips: number;
  refused406: number;
  faults: string[];
  ms: number;
  equal: boolean;
  firstDifference: string | undefined;
}

const SYMBOLS = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
/** Chance that a symbol has no bar in a minute: the thin ones skip minutes on IEX. */
const SKIP: Readonly<Record<string, number>> = { TQQQ: 0, SQQQ: 0.01, UPRO: 0.02, SDS: 0.1, UVXY: 0.05, SVIX: 0.15 };
/** 2025-10-16 09:30 New York. */
const OPEN = Date.UTC(2025, 9, 16, 13, 30);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One session of bars, minute by minute, with seeded prices and gaps. */
export function sessionBars(seed: number, minutes: number): Bar[][] {
  const random = mulberry32(seed);
  const price: Record<string, number> = { TQQQ: 100, SQQQ: 16, UPRO: 110, SDS: 15, UVXY: 12, SVIX: 20 };
  const out: Bar[][] = [];
  for (let m = 0; m < minutes; m++) {
    const minute: Bar[] = [];
    for (const s of SYMBOLS) {
      const p0 = price[s] as number;
      const p1 = Math.round(p0 * (1 + (random() - 0.5) * 0.004) * 100) / 100;
      price[s] = p1;
      if (random() < (SKIP[s] as number)) continue;
      const high = Math.max(p0, p1) + 0.01;
      const low = Math.min(p0, p1) - 0.01;
      minute.push(makeBar({ symbol: s, start: OPEN + m * MINUTE_MS, open: p0, high, low, close: p1, volume: 100 + Math.floor(random() * 5000), vwap: Math.round(((p0 + p1) / 2) * 1000) / 1000, tradeCount: 1 + Math.floor(random() * 80), receivedAt: 0 }));
    }
    out.push(minute);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const t0 = performance.now();
  const minutes = sessionBars(o.seed, o.minutes);
  const random = mulberry32(o.seed ^ 0x5eed);
  // Fault minutes at least 6 apart (so the silence lasts long enough for the watchdog), away from
  // the first and last few minutes.
  const slots: number[] = [];
  while (slots.length < o.drops + 2) {
    const m = 5 + Math.floor(random() * (o.minutes - 15));
    if (slots.every((x) => Math.abs(x - m) >= 6)) slots.push(m);
  }
  const [refuseAt, silenceAt, ...dropsAt] = slots;
  const server = await FakeAlpacaServer.start();
  const clock = new ManualClock(OPEN);
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock, historySize: o.minutes + 16 });
  const feed = new AlpacaMultiSymbolFeed({
    symbols: SYMBOLS,
    url: server.url(),
    restUrl: server.restUrl,
    keys: server.keys,
    encoding: o.encoding,
    clock,
    random,
    keepAlive: false,
    reconnect: { initialDelayMs: 2, maxDelayMs: 40, maxAttempts: Infinity },
    watchdog: { noDataMs: 3 * MINUTE_MS, checkIntervalMs: 2, calendar: nyse },
    ...(o.gapFill === false ? { gapFill: false as const } : {}),
  });
  dm.attach(feed);
  const faults: string[] = [];
  const errors: string[] = [];
  feed.on('error', (e) => errors.push(e.error.message));
  await feed.connect();
  await feed.start();
  let silenced = false;
  for (let m = 0; m < o.minutes; m++) {
    clock.set(OPEN + (m + 1) * MINUTE_MS + 50);
    // Each fault hits a healthy connection (faults piling onto a reconnect in progress test less).
    if (m === refuseAt || m === silenceAt || dropsAt.includes(m)) {
      for (let waited = 0; waited < 10_000 && !(feed.state === 'streaming' && server.stats.authenticated === 1); waited += 2) await sleep(2);
    }
    if (m === refuseAt) {
      faults.push(`minute ${m}: drop, then 406 for the next 4 attempts`);
      server.refuse406({ attempts: 4 });
      server.drop();
    } else if (m === silenceAt) {
      faults.push(`minute ${m}: silence (the connection stays open, no data)`);
      server.silence(true);
      silenced = true;
    } else if (dropsAt.includes(m)) {
      faults.push(`minute ${m}: drop`);
      server.drop();
    }
    server.publish(minutes[m] as Bar[]);
    await sleep(o.minuteDelayMs);
  }
  // Let the last reconnect and gap fill finish: every symbol's history complete, or a time limit.
  const expected = new Map(SYMBOLS.map((s) => [s, minutes.flat().filter((b) => b.symbol === s)]));
  const complete = (): boolean => SYMBOLS.every((s) => dm.history(s).length >= (expected.get(s) as Bar[]).length);
  // (Without gap fill the history never completes: stop once it has not grown for 300 ms.)
  let last = -1;
  let stableFor = 0;
  for (let waited = 0; waited < 30_000 && !(complete() && feed.state === 'streaming') && stableFor < 300; waited += 10) {
    await sleep(10);
    const n = feed.stats().barsReceived;
    stableFor = n === last && feed.state === 'streaming' ? stableFor + 10 : 0;
    last = n;
  }
  await sleep(20);
  let firstDifference: string | undefined;
  for (const s of SYMBOLS) {
    const got = dm.history(s);
    const want = expected.get(s) as Bar[];
    for (let i = 0; i < Math.max(got.length, want.length) && firstDifference === undefined; i++) {
      const g = got[i];
      const w = want[i];
      if (g === undefined || w === undefined || !sameBarData(g, w)) {
        firstDifference = `${s}[${i}]: history has ${g ? new Date(g.start).toISOString() : 'nothing'}, source has ${w ? new Date(w.start).toISOString() : 'nothing'} (history ${got.length} bars, source ${want.length})`;
      }
    }
  }
  const st = feed.stats();
  const dmStats = dm.stats().total;
  if (firstDifference === undefined && (dmStats.duplicates !== 0 || dmStats.rejected !== 0)) {
    firstDifference = `the data manager saw ${dmStats.duplicates} duplicates and ${dmStats.rejected} rejections`;
  }
  if (silenced && st.watchdogTrips === 0) firstDifference ??= 'the silence did not trip the watchdog';
  await feed.disconnect();
  await server.close();
  return {
    bars: minutes.reduce((n, m) => n + m.length, 0),
    recovered: st.barsRecovered,
    reconnects: st.reconnects,
    duplicatesDropped: st.duplicatesDropped,
    watchdogTrips: st.watchdogTrips,
    refused406: server.stats.refused406,
    faults,
    ms: performance.now() - t0,
    equal: firstDifference === undefined,
    firstDifference,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
  };
  const base = Number(arg('seed', '20251016'));
  const runs = Number(arg('runs', '2'));
  let failed = false;
  console.log('| run | encoding | seed | bars | faults | reconnects | 406 refusals | watchdog trips | recovered by gap fill | duplicates dropped | equal | time |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (let r = 0; r < runs; r++) {
    const encoding = (r % 2 === 0 ? arg('encoding', 'json') : arg('encoding', 'msgpack')) as StreamEncoding;
    const seed = base + r;
    const report = await runSoak({ seed, minutes: Number(arg('minutes', '390')), drops: Number(arg('drops', '4')), encoding, minuteDelayMs: 3 });
    console.log(`| ${r + 1} | ${encoding} | ${seed} | ${report.bars} | ${report.faults.length} | ${report.reconnects} | ${report.refused406} | ${report.watchdogTrips} | ${report.recovered} | ${report.duplicatesDropped} | ${report.equal ? 'yes' : 'NO'} | ${(report.ms / 1000).toFixed(1)} s |`);
    for (const f of report.faults) console.log(`    ${f}`);
    if (!report.equal) {
      failed = true;
      console.log(`    first difference: ${report.firstDifference}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
