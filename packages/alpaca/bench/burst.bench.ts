/**
 * The top of a minute with the whole market subscribed: 10 000 bars (one per symbol) in frames of 100,
 * sent by the fake server over a real 127.0.0.1 WebSocket, through `AlpacaMultiSymbolFeed` into a
 * `MultiSymbolDataManager`. Prints bars/s and the time from the first frame sent to the last bar in
 * the data manager, for JSON and msgpack, beside the rate of bare `JSON.parse` / msgpack `decode` of
 * the same frames measured in the same process. Target: at least 50 % of the bare decode rate.
 *
 * The fake server runs in a worker thread (Alpaca is another machine: its sending is not our cost) and
 * its frames are encoded before the clock starts.
 * `BENCH_QUICK=1` runs fewer rounds (CI smoke).
 *
 * Run: pnpm bench (in this package).
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '@msgpack/msgpack';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import type { StreamEncoding } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import type { AlpacaKeys } from '../src/index.js';
import { formatTime } from '../src/testing.js';
import { fmt, median, nextMessage, serverWorker } from './common.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 5 : 15;
const WARMUP = 10;
const SYMBOLS = 10_000;
const FRAME = 100;
const T0 = Date.UTC(2025, 9, 16, 13, 30);


const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}`);

/** The frames of one minute's burst, encoded as the server would send them. */
function frames(encoding: StreamEncoding, minute: number): (string | Uint8Array)[] {
  const start = T0 + minute * MINUTE_MS;
  const out: (string | Uint8Array)[] = [];
  for (let f = 0; f < SYMBOLS; f += FRAME) {
    const msgs: Record<string, unknown>[] = [];
    for (let i = f; i < f + FRAME; i++) {
      const p = 20 + (i % 500) / 7 + minute * 0.01;
      msgs.push({
        T: 'b',
        S: symbols[i],
        o: Math.round(p * 100) / 100,
        h: Math.round((p + 0.12) * 100) / 100,
        l: Math.round((p - 0.1) * 100) / 100,
        c: Math.round((p + 0.03) * 100) / 100,
        v: 1000 + i,
        t: encoding === 'msgpack' ? new Date(start) : formatTime(start),
        n: 10 + (i % 50),
        vw: Math.round((p + 0.01) * 1000) / 1000,
      });
    }
    out.push(encoding === 'msgpack' ? encode(msgs) : JSON.stringify(msgs));
  }
  return out;
}

/** Milliseconds to decode the frames bare (`JSON.parse` of the UTF-8 bytes, or msgpack `decode`): the wire format's own cost. */
function bareMs(encoding: StreamEncoding, buffers: readonly Uint8Array[]): number {
  let sink = 0;
  const t = performance.now();
  for (const b of buffers) {
    const v = encoding === 'json' ? (JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')) as unknown[]) : (decode(b) as unknown[]);
    sink += v.length;
  }
  const ms = performance.now() - t;
  if (sink !== SYMBOLS) throw new Error(`decoded ${sink} messages, expected ${SYMBOLS}`);
  return ms;
}

interface Result {
  /** Median time from 'go' to the last bar in the data manager. */
  ms: number;
  /** Median time from the first bar delivered to the last. */
  firstBarMs: number;
  /** Median time of bare decoding of the same frames. */
  bareMs: number;
  /** Median over rounds of bare time / pipeline time, each pair measured back to back. */
  ratio: number;
}

async function pipeline(encoding: StreamEncoding): Promise<Result> {
  const worker = serverWorker();
  const started = await nextMessage<{ url: string; keys: AlpacaKeys }>(worker, 'started');
  const clock = new ManualClock(T0 + MINUTE_MS + 50);
  const dm = new MultiSymbolDataManager({ symbols, clock, historySize: 64 });
  const feed = new AlpacaMultiSymbolFeed({
    symbols,
    url: started.url,
    keys: started.keys,
    encoding,
    clock,
    keepAlive: false,
    watchdog: false,
    gapFill: false,
  });
  dm.attach(feed);
  let received = 0;
  let firstAt = 0;
  let done: (() => void) | undefined;
  feed.on('bar', () => {
    if (received === 0) firstAt = performance.now();
    if (++received === SYMBOLS) done?.();
  });
  await feed.connect();
  await feed.start();
  const times: number[] = [];
  const firstToLast: number[] = [];
  const bare: number[] = [];
  const ratios: number[] = [];
  // Warm-up rounds (the JIT), then the measured ones; each round is a new minute for every symbol.
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const fs = frames(encoding, r);
    const buffers = fs.map((f) => (typeof f === 'string' ? Buffer.from(f) : f));
    // The baseline, on these very frames, just before the pipeline runs on them.
    const b = bareMs(encoding, buffers);
    worker.postMessage({ type: 'frames', frames: fs });
    await nextMessage(worker, 'ready');
    clock.set(T0 + (r + 1) * MINUTE_MS + 50);
    received = 0;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const t = performance.now();
    worker.postMessage({ type: 'go' });
    await finished;
    const end = performance.now();
    const ms = end - t;
    if (r >= WARMUP) {
      times.push(ms);
      firstToLast.push(end - firstAt);
      bare.push(b);
      ratios.push(b / ms);
    }
  }
  const s = dm.stats().total;
  if (s.accepted !== SYMBOLS * (WARMUP + ROUNDS)) throw new Error(`data manager accepted ${s.accepted}, expected ${SYMBOLS * (WARMUP + ROUNDS)}`);
  await feed.disconnect();
  worker.postMessage({ type: 'close' });
  await once(worker, 'exit');
  return { ms: median(times), firstBarMs: median(firstToLast), bareMs: median(bare), ratio: median(ratios) };
}

console.log(
  `@feed/alpaca burst benchmark: ${fmt(SYMBOLS)} bars in frames of ${FRAME}, ${WARMUP} warm-up + ${ROUNDS} measured rounds, medians${QUICK ? ' (quick smoke run: too few rounds to judge the target; the full run is `pnpm bench`)' : ''}`,
);
console.log('| encoding | pipeline bars/s | first frame sent -> last bar in DM | bare decode bars/s | pipeline / bare (median of paired rounds) | target |');
console.log('|---|---|---|---|---|---|');
let failed = false;
for (const encoding of ['json', 'msgpack'] as const) {
  const p = await pipeline(encoding);
  if (p.ratio < 0.5) failed = true;
  console.log(
    `| ${encoding} | ${fmt(SYMBOLS / (p.ms / 1000))} | ${fmt(p.ms, 1)} ms (first bar delivered -> last: ${fmt(p.firstBarMs, 1)} ms) | ${fmt(SYMBOLS / (p.bareMs / 1000))} | ${fmt(p.ratio * 100, 1)} % | >= 50 % ${p.ratio >= 0.5 ? 'met' : 'MISSED'} |`,
  );
}
if (failed) console.log('note: below target on this run; the VM varies by +-15 % between runs');
