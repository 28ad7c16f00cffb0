/**
 * Replay benchmark on the six real files (five ETFs and SPY, 312 465 bars), in one process, each
 * figure beside its baseline measured in the same run (medians of interleaved runs):
 *
 * - naive parse: `readFileSync` + `split` + `Number`, the least any CSV reader can do;
 * - csv-parse alone: every file streamed through csv-parse, records counted;
 * - first load: `loadBars` of `@feed/csv` with an empty cache (parse, validate, write the Arrow cache);
 *   target: at most 25 % over csv-parse alone;
 * - warm replay: `MockMultiSymbolFeed` with the cache present, load plus replay at speed 0 into a data
 *   manager until the last slice, streamed (the default) and loaded whole (`stream: false`), interleaved;
 *   the streamed one is judged; target: at least 1.5x the naive parse's rows per second;
 * - memory held while replaying (after a full GC, at four points of the replay): at most 60 bytes a bar.
 * - warm-up from a warm cache: `warmUp({ bars: 7800 })` of a replay of the files' last session, for
 *   the six symbols (their files through the Arrow cache) into a data manager; target: under 5 s.
 *
 * `BENCH_QUICK=1` runs fewer repetitions (a smoke run: too short to judge the targets).
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBars } from '@feed/csv';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { parse } from 'csv-parse';
import { MockMultiSymbolFeed } from '../src/index.js';
import { realDataDir } from '../test/real-data.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 9;
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
const time = async (f: () => unknown): Promise<number> => {
  gc();
  const t = performance.now();
  await f();
  return performance.now() - t;
};

/** The naive parse: whole file, split into lines and fields, the numbers through Number(). */
function naive(): number {
  let rows = 0;
  let sum = 0;
  for (const f of Object.values(files)) {
    const lines = readFileSync(f, 'utf8').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line === '') continue;
      const c = line.split(',');
      sum += Number(c[1]) + Number(c[2]) + Number(c[3]) + Number(c[4]) + Number(c[5]) + Number(c[6]);
      rows++;
    }
  }
  if (Number.isNaN(sum)) throw new Error('naive parse failed');
  return rows;
}

/** csv-parse alone: every file streamed through the parser, records counted. */
async function csvParseOnly(): Promise<number> {
  let rows = 0;
  for (const f of Object.values(files)) {
    const parser = createReadStream(f).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }));
    for await (const _ of parser) rows++;
  }
  return rows - Object.keys(files).length;
}

/** The first load: parse, validate, write the cache (into an empty directory). */
async function firstLoad(): Promise<number> {
  const cache = mkdtempSync(join(tmpdir(), 'feed-bench-cache-'));
  let bars = 0;
  for (const [s, f] of Object.entries(files)) {
    const r = await loadBars(s, f, { cache });
    if (r.report.source !== 'csv' || r.report.cacheFile === undefined) throw new Error('the first load did not write the cache');
    bars += r.bars.length;
  }
  rmSync(cache, { recursive: true, force: true });
  return bars;
}

const warmCache = mkdtempSync(join(tmpdir(), 'feed-bench-warm-'));

/** Load (from the warm cache) plus replay at speed 0 into a data manager, to the last slice. */
async function warmReplay(measureMemory = false, stream = true): Promise<{ bars: number; heldPerBar: number }> {
  const base = measureMemory ? (gc(), mem()) : 0;
  const feed = new MockMultiSymbolFeed({ files, speed: 0, cache: warmCache, stream });
  const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
  dm.attach(feed);
  let held = 0;
  if (measureMemory) {
    feed.on('progress', (p) => {
      if (p.percent % 25 === 0) {
        gc();
        held = Math.max(held, mem() - base);
      }
    });
  }
  await feed.connect();
  const sources = feed.fileReports().map((r) => r.source);
  if (sources.some((s) => s !== 'cache')) throw new Error(`warm replay did not read the cache: ${sources.join(', ')}`);
  await feed.start();
  await feed.whenDone();
  const bars = dm.stats().total.accepted;
  if (bars !== feed.stats().barsLoaded) throw new Error('not every bar reached the data manager');
  await feed.disconnect();
  return { bars, heldPerBar: held / bars };
}

// Warm-up (and the cache for the warm replays).
naive();
await csvParseOnly();
await firstLoad();
await loadBars('TQQQ', files.TQQQ as string, { cache: warmCache });
for (const [s, f] of Object.entries(files)) await loadBars(s, f, { cache: warmCache });
await warmReplay();

const t = { naive: [] as number[], csvParse: [] as number[], first: [] as number[], warm: [] as number[], whole: [] as number[] };
let rows = 0;
let bars = 0;
for (let r = 0; r < RUNS; r++) {
  // Interleaved, so that every figure sees the same machine conditions.
  t.naive.push(await time(() => (rows = naive())));
  t.csvParse.push(await time(csvParseOnly));
  t.first.push(await time(firstLoad));
  t.warm.push(await time(async () => (bars = (await warmReplay()).bars)));
  t.whole.push(await time(async () => (bars = (await warmReplay(false, false)).bars)));
}
/** A replay of the files' last session, warmed up with the 7 800 regular-hours bars before it (six symbols, warm cache). */
async function warmUp(): Promise<number> {
  const feed = new MockMultiSymbolFeed({ files, speed: 0, cache: warmCache, dates: '2025-10-06' });
  const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock, historySize: 8000 });
  dm.attach(feed);
  await feed.connect();
  const r = await feed.warmUp({ bars: 7800 });
  const loaded = dm.stats().total.warmUpBars;
  if (r.short.length > 0 || loaded !== 7800 * SYMBOLS.length) throw new Error(`warm-up loaded ${loaded} bars (short: ${r.short.join(', ')})`);
  await feed.disconnect();
  return loaded;
}
// Memory first: the warm-up's large rings must not sit in the heap the measure starts from.
const { heldPerBar } = await warmReplay(true);
await warmUp();
const warmUps: number[] = [];
let warmUpBars = 0;
for (let r = 0; r < RUNS; r++) warmUps.push(await time(async () => (warmUpBars = await warmUp())));
rmSync(warmCache, { recursive: true, force: true });

const m = { naive: median(t.naive), csvParse: median(t.csvParse), first: median(t.first), warm: median(t.warm), whole: median(t.whole) };
const perS = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;
const ok = (b: boolean): string => (b ? 'ok' : 'missed');
const warmRatio = rows / (m.naive / 1000) > 0 ? (bars / (m.warm / 1000)) / (rows / (m.naive / 1000)) : 0;
const firstOver = m.first / m.csvParse - 1;
console.log(`@feed/mock replay benchmark${QUICK ? ' (quick smoke run: too few runs to judge the targets; the full run is `pnpm bench`)' : ''}: six real files, ${bars.toLocaleString('en-US')} bars, medians of ${RUNS} interleaved runs`);
console.log('| what | median | rows/s | against | target | |');
console.log('|---|---|---|---|---|---|');
console.log(`| naive split + Number (baseline) | ${m.naive.toFixed(0)} ms | ${perS(rows, m.naive)} | | | |`);
console.log(`| csv-parse alone (baseline) | ${m.csvParse.toFixed(0)} ms | ${perS(rows, m.csvParse)} | | | |`);
console.log(`| first load: parse, validate, write the Arrow cache | ${m.first.toFixed(0)} ms | ${perS(bars, m.first)} | ${firstOver >= 0 ? '+' : ''}${(firstOver * 100).toFixed(1)} % vs csv-parse alone | <= +25 % | ${ok(firstOver <= 0.25)} |`);
console.log(`| warm replay: load from the cache + replay into a data manager to the last slice | ${m.warm.toFixed(0)} ms | ${perS(bars, m.warm)} | ${warmRatio.toFixed(2)}x the naive parse | >= 1.5x | ${ok(warmRatio >= 1.5)} |`);
console.log(`| the same, each file loaded whole (\`stream: false\`, before streaming) | ${m.whole.toFixed(0)} ms | ${perS(bars, m.whole)} | streaming ${((m.warm / m.whole - 1) * 100).toFixed(1)} % time | | |`);
const mw = median(warmUps);
console.log(`| warm-up: feed.warmUp({ bars: 7800 }) for six symbols from the warm cache into a data manager | ${mw.toFixed(0)} ms | ${perS(warmUpBars, mw)} | | < 5000 ms | ${ok(mw < 5000)} |`);
console.log(`| memory held while replaying (after GC, at 0/25/50/75/100 %) | ${heldPerBar.toFixed(1)} bytes a bar | | | <= 60 | ${ok(heldPerBar <= 60)}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: approximate)'} |`);
