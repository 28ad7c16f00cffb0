/**
 * Polygon's feed off the main thread: a burst of 100 000 minute aggregates (10 000 symbols x 10
 * minutes, JSON frames of 100 `AM` messages) from the fake server (in its own thread) through
 * `PolygonMultiSymbolFeed` into a `MultiSymbolDataManager`, inline and with `worker: true` (the same
 * `@feed/live` worker as Alpaca's), rounds interleaved. Prints the main thread's event-loop delay
 * during the burst (p99, max) and bars/s, and the worker's throughput against inline per round.
 * Targets: p99 <= 20 ms with the worker; throughput >= 0.9x inline. `BENCH_QUICK=1`: fewer rounds.
 *
 * Run: pnpm bench (in this package).
 */
import { once } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { PolygonMultiSymbolFeed } from '../src/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;
const SYMBOLS = 10_000;
const MINUTES = 10;
const BARS = SYMBOLS * MINUTES;
const FRAME = 100;
const T0 = Date.UTC(2025, 9, 16, 13, 30);
const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}`);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function next<T>(worker: Worker, type: string): Promise<T> {
  for (;;) {
    const [m] = (await once(worker, 'message')) as [{ type: string }];
    if (m.type === type) return m as T;
  }
}

/** Minutes [from, from + MINUTES) of every symbol, as Polygon's JSON frames. */
function burst(from: number): string[] {
  const out: string[] = [];
  for (let m = from; m < from + MINUTES; m++) {
    const s = T0 + m * MINUTE_MS;
    for (let f = 0; f < SYMBOLS; f += FRAME) {
      const msgs: Record<string, unknown>[] = [];
      for (let i = f; i < f + FRAME; i++) {
        const p = Math.round((20 + (i % 500) / 7 + m * 0.01) * 100) / 100;
        msgs.push({ ev: 'AM', sym: symbols[i], v: 1000 + i, av: 1000 + i, op: p, vw: p, o: p, c: p + 0.03, h: p + 0.12, l: p - 0.1, a: p, z: 1, n: 10, s, e: s + MINUTE_MS });
      }
      out.push(JSON.stringify(msgs));
    }
  }
  return out;
}

interface Round {
  p99Ms: number;
  maxMs: number;
  barsPerSec: number;
}

async function run(worker: boolean, round: number): Promise<Round> {
  // The server loads TypeScript through tsx's API (Node 20 ignores --import in a worker's execArgv).
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./server-worker.ts', import.meta.url).href;
  const server = new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
  const started = await next<{ wsUrl: string; url: string; apiKey: string }>(server, 'started');
  const clock = new ManualClock(T0);
  const dm = new MultiSymbolDataManager({ symbols, clock, historySize: 16 });
  const feed = new PolygonMultiSymbolFeed({ symbols, url: started.wsUrl, restUrl: started.url, apiKey: started.apiKey, clock, keepAlive: false, watchdog: false, gapFill: false, worker });
  dm.attach(feed);
  let received = 0;
  let done: (() => void) | undefined;
  feed.on('bar', () => {
    if (++received === BARS) done?.();
  });
  await feed.connect();
  await feed.start();
  const from = round * MINUTES;
  server.postMessage({ type: 'frames', frames: burst(from) });
  await next(server, 'ready');
  clock.set(T0 + (from + MINUTES) * MINUTE_MS + 50);
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  server.postMessage({ type: 'go' });
  await finished;
  const ms = performance.now() - t;
  h.disable();
  if (dm.stats().total.accepted !== BARS) throw new Error(`the data manager accepted ${dm.stats().total.accepted}, expected ${BARS}`);
  await feed.disconnect();
  server.postMessage({ type: 'close' });
  await once(server, 'exit');
  return { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, barsPerSec: BARS / (ms / 1000) };
}

// One warm-up round of each (JIT, worker start-up), then measured rounds, interleaved.
await run(false, 0);
await run(true, 0);
const inline: Round[] = [];
const inWorker: Round[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  inline.push(await run(false, r));
  inWorker.push(await run(true, r));
}
console.log(`@feed/polygon worker benchmark: a burst of ${fmt(BARS)} bars (${fmt(SYMBOLS)} symbols x ${MINUTES} minutes, JSON frames of ${FRAME}) into a data manager, ${ROUNDS} rounds per mode, interleaved, medians${QUICK ? ' (quick smoke run)' : ''}`);
console.log('| mode | main event-loop delay p99 | max | bars/s |');
console.log('|---|---|---|---|');
for (const [name, rounds] of [['inline', inline], ['worker: true', inWorker]] as const) {
  console.log(`| ${name} | ${fmt(median(rounds.map((x) => x.p99Ms)), 1)} ms | ${fmt(median(rounds.map((x) => x.maxMs)), 1)} ms | ${fmt(median(rounds.map((x) => x.barsPerSec)))} |`);
}
const p99 = median(inWorker.map((x) => x.p99Ms));
console.log(`target: event-loop delay p99 with the worker <= 20 ms: ${fmt(p99, 1)} ms  ${p99 <= 20 ? 'ok' : 'MISSED'}`);
const ratios = inWorker.map((w, i) => w.barsPerSec / (inline[i] as Round).barsPerSec);
const ratio = median(ratios);
console.log(`target: throughput with the worker >= 0.9x inline: ${fmt(ratio, 2)}x (rounds ${ratios.map((r) => fmt(r, 2)).join(', ')})  ${ratio >= 0.9 ? 'ok' : 'MISSED'}`);
