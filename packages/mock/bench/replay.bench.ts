/**
 * Replay benchmark: load + replay at speed 0 of the six real files (five ETFs and SPY) into a data
 * manager, beside the time csv-parse alone takes to parse the same files, in the same process.
 * Targets (issue): replay overhead on top of parsing < 25 %; memory while replaying < 300 bytes per
 * bar loaded. `BENCH_QUICK=1` runs fewer repetitions.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { parse } from 'csv-parse';
import { MockMultiSymbolFeed } from '../src/index.js';
import { realDataDir } from '../test/real-data.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 7;
const dir = realDataDir();
if (dir === undefined) {
  console.log('@feed/mock benchmark: no real data (set FEED_REAL_DATA_DIR); skipped');
  process.exit(0);
}
const SYMBOLS = ['TQQQ', 'SQQQ', 'SDS', 'UVXY', 'SVIX', 'SPY'];
const files = Object.fromEntries(SYMBOLS.map((s) => [s, join(dir, `${s}.csv`)]));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mem = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** csv-parse alone: every file streamed through the parser with the loader's options, records counted. */
async function parseOnly(): Promise<number> {
  let rows = 0;
  for (const f of Object.values(files)) {
    const parser = createReadStream(f).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }));
    for await (const _ of parser) rows++;
  }
  return rows;
}

/** Load + replay into a data manager; returns bars and the peak memory growth while replaying. */
async function endToEnd(measureMemory: boolean): Promise<{ bars: number; peak: number; loadMs: number; replayMs: number }> {
  const base = measureMemory ? (gc(), mem()) : 0;
  const feed = new MockMultiSymbolFeed({ files, speed: 0 });
  const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
  dm.attach(feed);
  let peak = 0;
  if (measureMemory) feed.on('progress', () => (peak = Math.max(peak, mem() - base)));
  const t0 = performance.now();
  await feed.connect();
  const t1 = performance.now();
  if (measureMemory) peak = Math.max(peak, mem() - base);
  await feed.start();
  await feed.whenDone();
  const t2 = performance.now();
  const bars = dm.stats().total.accepted;
  if (bars !== feed.stats().barsLoaded) throw new Error('not every bar reached the data manager');
  return { bars, peak, loadMs: t1 - t0, replayMs: t2 - t1 };
}

const parseMs: number[] = [];
const e2eMs: number[] = [];
const loadMs: number[] = [];
const replayMs: number[] = [];
let rows = 0;
let bars = 0;
await parseOnly(); // warm-up
await endToEnd(false);
for (let r = 0; r < RUNS; r++) {
  // Alternate, so that both see the same machine conditions.
  gc();
  let t = performance.now();
  rows = await parseOnly();
  parseMs.push(performance.now() - t);
  gc();
  t = performance.now();
  const run = await endToEnd(false);
  e2eMs.push(performance.now() - t);
  bars = run.bars;
  loadMs.push(run.loadMs);
  replayMs.push(run.replayMs);
}
const { peak } = await endToEnd(true);

const p = median(parseMs);
const e = median(e2eMs);
const overhead = e / p - 1;
const perBar = peak / bars;
const ok = (b: boolean): string => (b ? 'ok' : 'MISSED');
console.log(`@feed/mock benchmark${QUICK ? ' (quick smoke run: too short to judge the targets; the full run is `pnpm bench`)' : ''}: six real files, ${bars.toLocaleString('en-US')} bars (${rows.toLocaleString('en-US')} CSV records incl. headers), medians of ${RUNS} runs`);
console.log(`csv-parse alone:            ${p.toFixed(0)} ms  (${Math.round(rows / (p / 1000)).toLocaleString('en-US')} records/s)`);
console.log(`load + replay into manager: ${e.toFixed(0)} ms  (${Math.round(bars / (e / 1000)).toLocaleString('en-US')} bars/s)`);
console.log(`  of which load ${median(loadMs).toFixed(0)} ms, replay ${median(replayMs).toFixed(0)} ms`);
console.log(`overhead on top of parsing: ${(overhead * 100).toFixed(1)} % (target < 25 %)  ${ok(overhead < 0.25)}`);
console.log(`memory while replaying:     ${perBar.toFixed(0)} bytes per bar loaded (target < 300)  ${ok(perBar < 300)}${(globalThis as { gc?: unknown }).gc ? '' : ' [no --expose-gc: approximate]'}`);
