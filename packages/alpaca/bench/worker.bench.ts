/**
 * Decoding off the main thread: a burst of 100 000 bars (10 000 symbols x 10 minutes, msgpack, frames
 * of 100) from the fake server (in its own thread) through `AlpacaMultiSymbolFeed` into a
 * `MultiSymbolDataManager`, inline and with `worker: true`, rounds interleaved. Prints the main
 * thread's event-loop delay during the burst (p99 and max, `monitorEventLoopDelay` at 1 ms
 * resolution) and the burst's bars/s. Target: p99 <= 20 ms with the worker.
 * `BENCH_QUICK=1` runs fewer rounds (CI smoke).
 *
 * Run: pnpm bench (in this package).
 */
import { once } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { encode } from '@msgpack/msgpack';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import type { AlpacaKeys } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import { fmt, median, nextMessage, serverWorker } from './common.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;
const SYMBOLS = 10_000;
const MINUTES = 10;
const BARS = SYMBOLS * MINUTES;
const FRAME = 100;
const T0 = Date.UTC(2025, 9, 16, 13, 30);

const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}`);

/** Minutes [from, from + MINUTES) of every symbol, in msgpack frames, minute by minute. */
function burst(from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = from; m < from + MINUTES; m++) {
    const start = new Date(T0 + m * MINUTE_MS);
    for (let f = 0; f < SYMBOLS; f += FRAME) {
      const msgs: Record<string, unknown>[] = [];
      for (let i = f; i < f + FRAME; i++) {
        const p = Math.round((20 + (i % 500) / 7 + m * 0.01) * 100) / 100;
        msgs.push({ T: 'b', S: symbols[i], o: p, h: p + 0.12, l: p - 0.1, c: p + 0.03, v: 1000 + i, t: start, n: 10, vw: p });
      }
      out.push(encode(msgs));
    }
  }
  return out;
}

interface Round {
  p99Ms: number;
  maxMs: number;
  barsPerSec: number;
}

interface Mode {
  readonly name: string;
  readonly worker: boolean;
  readonly rounds: Round[];
}

async function run(mode: Mode, round: number): Promise<void> {
  const server = serverWorker();
  const started = await nextMessage<{ url: string; keys: AlpacaKeys }>(server, 'started');
  const clock = new ManualClock(T0);
  const dm = new MultiSymbolDataManager({ symbols, clock, historySize: 16 });
  const feed = new AlpacaMultiSymbolFeed({ symbols, url: started.url, keys: started.keys, encoding: 'msgpack', clock, keepAlive: false, watchdog: false, gapFill: false, worker: mode.worker });
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
  await nextMessage(server, 'ready');
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
  if (dm.stats().total.accepted !== BARS) throw new Error(`${mode.name}: the data manager accepted ${dm.stats().total.accepted}, expected ${BARS}`);
  mode.rounds.push({ p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, barsPerSec: BARS / (ms / 1000) });
  await feed.disconnect();
  server.postMessage({ type: 'close' });
  await once(server, 'exit');
}

const modes: Mode[] = [
  { name: 'inline', worker: false, rounds: [] },
  { name: 'worker: true', worker: true, rounds: [] },
];
// One warm-up round of each (JIT, worker start-up), then measured rounds, interleaved.
for (const m of modes) await run(m, 0);
for (const m of modes) m.rounds.length = 0;
for (let r = 1; r <= ROUNDS; r++) for (const m of modes) await run(m, r);

console.log(
  `@feed/alpaca worker benchmark: a burst of ${fmt(BARS)} bars (${fmt(SYMBOLS)} symbols x ${MINUTES} minutes, msgpack, frames of ${FRAME}) into a data manager, ${ROUNDS} rounds per mode, interleaved, medians${QUICK ? ' (quick smoke run)' : ''}`,
);
console.log('| mode | main event-loop delay p99 | max | bars/s |');
console.log('|---|---|---|---|');
for (const m of modes) {
  console.log(`| ${m.name} | ${fmt(median(m.rounds.map((x) => x.p99Ms)), 1)} ms | ${fmt(median(m.rounds.map((x) => x.maxMs)), 1)} ms | ${fmt(median(m.rounds.map((x) => x.barsPerSec)))} |`);
}
const p99 = median((modes[1] as Mode).rounds.map((x) => x.p99Ms));
console.log(`target: event-loop delay p99 with the worker <= 20 ms: ${fmt(p99, 1)} ms  ${p99 <= 20 ? 'ok' : 'MISSED'}`);
// Throughput of the worker against inline, per round (each pair ran back to back), then the median.
const ratios = (modes[1] as Mode).rounds.map((w, i) => w.barsPerSec / ((modes[0] as Mode).rounds[i] as Round).barsPerSec);
const ratio = median(ratios);
console.log(`target: throughput with the worker >= 0.9x inline: ${fmt(ratio, 2)}x (rounds ${ratios.map((r) => fmt(r, 2)).join(', ')})  ${ratio >= 0.9 ? 'ok' : 'MISSED'}`);
