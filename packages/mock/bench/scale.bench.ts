/**
 * Backtest scale: a streaming replay of many symbols over many sessions, at speed 0, into a data
 * manager with a slice listener, from Arrow files generated once with `@feed/synth` (record batches of
 * `ARROW_BATCH_ROWS`, written into a temporary folder and removed at the end).
 *
 * For 6, 50 and 500 symbols over one year of NYSE sessions (2025: 250 sessions, 391 bars each, one
 * symbol in five thinly traded), and 5 000 symbols over one month (December 2025, 21 sessions: a
 * year would be 24 GB of files), each size in a fresh process (so that its peak RSS is its own):
 * bars/s end to end (`connect()` to the last slice, medians of interleaved runs, the files in the
 * page cache: see `warmPageCache`), the time in `connect()`, peak RSS, bars held at once by the
 * replay, and the cost per bar end to end and once connected; each size twice, the files merged in the
 * replay's thread (`thread: false`) and in a worker thread (`thread: true`); the default, `'auto'`,
 * is the first below `AUTO_THREAD_FILES` (100) symbols and the second from it. Beside them in the same run:
 * the same bars replayed from JetStream by `NatsBarFeed` (6 and 50 symbols, on a real nats-server,
 * when one is installed). `BENCH_DECADE=1` (`BENCH_THREAD=1` for the worker): see `decade`.
 *
 * Targets: >= 3 M bars/s at 500 symbols; RSS < 1 GiB at 500 symbols x 1 year; cost per bar from 50
 * to 5 000 symbols within 25 % (once connected: `connect()` is a cost per symbol, not per bar). `BENCH_QUICK=1`: 10 sessions (2 for 5 000 symbols), one run each,
 * JetStream for 6 symbols only (a smoke run: too short to judge the targets).
 *
 * Run: pnpm --filter @feed/mock bench:scale
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { nyse } from '@feed/core';
import { BarColumns, encodeArrow } from '@feed/csv';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { Random, simulateMarket } from '@feed/synth';
import type { NatsBarFeed } from '@feed/nats';
import { AUTO_THREAD_FILES, MockMultiSymbolFeed } from '../src/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 1 : 3;
const YEAR = QUICK ? { from: '2025-12-15', to: '2025-12-29' } : { from: '2025-01-01', to: '2025-12-31' };
const MONTH = QUICK ? { from: '2025-12-29', to: '2025-12-30' } : { from: '2025-12-01', to: '2025-12-31' };
const SIZES: readonly { symbols: number; range: { from: string; to: string }; label: string }[] = [
  { symbols: 6, range: YEAR, label: QUICK ? '10 sessions' : '1 year' },
  { symbols: 50, range: YEAR, label: QUICK ? '10 sessions' : '1 year' },
  { symbols: 500, range: YEAR, label: QUICK ? '10 sessions' : '1 year' },
  { symbols: 5000, range: MONTH, label: QUICK ? '2 sessions' : '1 month' },
];
/** Distinct base series from the simulator; symbols are scaled copies of them (generating 5 000 walks would take longer than replaying them). */
const POOL = 24;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** What one replay in a child process measured. */
interface RunResult {
  readonly bars: number;
  readonly slices: number;
  readonly ms: number;
  /** Of `ms`, the time in `connect()`: files opened and checked, each symbol's first batch read. */
  readonly connectMs: number;
  readonly maxRssBytes: number;
  readonly peakBarsHeld: number;
  readonly streaming: boolean;
}

/** Writes `count` symbols' files for `range` into `dir` (one Arrow file each); returns symbol to path. */
function generate(dir: string, count: number, range: { from: string; to: string }, poolSize = POOL): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const pool: Bar[][] = [];
  for (let p = 0; pool.length < poolSize; p++) {
    const m = simulateMarket({ from: range.from, to: range.to, seed: 1000 + p });
    for (const bars of Object.values(m)) pool.push(bars);
  }
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const base = pool[i % pool.length] as Bar[];
    const scale = 0.5 + ((i * 37) % 200) / 100;
    const thin = i % 5 === 4;
    const rnd = new Random(i);
    const cols = new BarColumns(base.length);
    let prev = Number.NEGATIVE_INFINITY;
    for (const b of base) {
      // A thin symbol misses a third of its minutes (never the first of a session).
      const first = b.start - prev !== 60_000;
      prev = b.start;
      if (thin && !first && rnd.next() < 0.33) continue;
      cols.push(b.start, b.open * scale, b.high * scale, b.low * scale, b.close * scale, Math.round(b.volume / scale), Number.NaN, -1);
    }
    const symbol = `S${String(i).padStart(4, '0')}`;
    const path = join(dir, `${symbol}.arrow`);
    writeFileSync(path, encodeArrow(cols, { version: 1, symbol, intervalMs: 60_000 }));
    files[symbol] = path;
  }
  return files;
}

/** A replay feed of the files at speed 0, no sidecars, no cache; `thread`: the merge in a worker thread. */
const fileReplay = (files: Record<string, string>, thread = false): MockMultiSymbolFeed => new MockMultiSymbolFeed({ files, speed: 0, statuses: false, corporateActions: false, cache: false, thread });

/** Any replay feed into a data manager with a slice listener, from `connect()` to the last slice (the feed left connected). */
async function intoManager(feed: MockMultiSymbolFeed | NatsBarFeed): Promise<{ ms: number; connectMs: number; slices: number }> {
  const t = performance.now();
  const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
  let slices = 0;
  dm.on('slice', () => slices++);
  dm.attach(feed);
  await feed.connect();
  const connectMs = performance.now() - t;
  await feed.start();
  await feed.whenDone();
  return { ms: performance.now() - t, connectMs, slices };
}

/** One replay (in this process): connect to the last slice. */
async function replayOnce(files: Record<string, string>, thread: boolean): Promise<RunResult> {
  const feed = fileReplay(files, thread);
  const { ms, connectMs, slices } = await intoManager(feed);
  const s = feed.stats();
  await feed.disconnect();
  return { bars: s.barsReceived, slices, ms, connectMs, maxRssBytes: process.resourceUsage().maxRSS * 1024, peakBarsHeld: s.peakBarsHeld, streaming: s.streaming };
}

/** The same bars through JetStream: published once by a replay, then replayed by `NatsBarFeed` into a data manager. */
async function natsReplay(files: Record<string, string>): Promise<{ bars: number; ms: number } | string> {
  const nats = await import('@feed/nats');
  const testing = await import('@feed/nats/testing').catch(() => undefined);
  const NatsServer = testing?.NatsServer;
  if (NatsServer === undefined || testing?.findNatsServer() === undefined) return 'no nats-server: skipped';
  const server = await NatsServer.start();
  try {
    const nc = await nats.connectNats({ servers: server.url });
    const source = fileReplay(files);
    const publisher = await nats.BarPublisher.start({ feed: source, connection: nc, batchSize: 500 });
    await source.connect();
    await source.start();
    await source.whenDone();
    await publisher.close();
    await nc.close();
    const feed = new nats.NatsBarFeed({ symbols: Object.keys(files), connection: { servers: server.url }, replay: { speed: 0 } });
    const { ms } = await intoManager(feed);
    const bars = feed.stats().barsReceived;
    await feed.disconnect();
    return { bars, ms };
  } finally {
    await server.stop();
  }
}

/**
 * Reads every file once, untimed, so that the replay finds them in the page cache: this machine's
 * kernel pages out file pages idle for a minute (DAMON's `pageout` scheme, 60 s), so that without
 * this a run's figure depended on how long ago another run had read the same files (the 5 000-symbol
 * month read ~3x slower from disk than from the cache, `cat` of its 1.8 GB: 2.3 s cold, 0.7 s warm).
 * The figures are the replay's cost, not the disk's.
 */
function warmPageCache(paths: readonly string[]): void {
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const path of paths) {
    const fd = openSync(path, 'r');
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

async function child(dir: string, count: number, warm: boolean, thread: boolean): Promise<void> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const symbol = `S${String(i).padStart(4, '0')}`;
    files[symbol] = join(dir, `${symbol}.arrow`);
  }
  if (warm) warmPageCache(Object.values(files));
  process.stdout.write(`${JSON.stringify(await replayOnce(files, thread))}\n`);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'feed-scale-'));
  const self = fileURLToPath(import.meta.url);
  try {
    const t0 = performance.now();
    const yearDir = join(root, 'year');
    const monthDir = join(root, 'month');
    const yearFiles = generate(yearDir, 500, YEAR);
    generate(monthDir, 5000, MONTH);
    console.log(`@feed/mock scale benchmark${QUICK ? ' (BENCH_QUICK: smoke sizes)' : ''}: data generated with @feed/synth in ${fmt((performance.now() - t0) / 1000, 1)} s (${nyse.sessionsBetween(YEAR.from, YEAR.to).length} sessions ${YEAR.from}..${YEAR.to}; ${nyse.sessionsBetween(MONTH.from, MONTH.to).length} for 5 000 symbols)`);
    // Each size in both modes: the merge in the replay's thread, and in a worker thread (`thread: true`).
    const results = new Map<string, RunResult[]>();
    const key = (symbols: number, thread: boolean): string => `${symbols}${thread ? ' thread' : ''}`;
    for (let r = 0; r < RUNS; r++) {
      for (const size of SIZES) {
        for (const thread of [false, true]) {
          const dir = size.symbols === 5000 ? monthDir : yearDir;
          const out = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', dir, String(size.symbols), 'warm', thread ? 'thread' : 'one'], { encoding: 'utf8', maxBuffer: 1 << 20 });
          if (out.status !== 0) throw new Error(`the ${size.symbols}-symbol replay failed: ${out.stderr}`);
          const line = out.stdout.trim().split('\n').pop() as string;
          const list = results.get(key(size.symbols, thread)) ?? [];
          list.push(JSON.parse(line) as RunResult);
          results.set(key(size.symbols, thread), list);
        }
      }
    }
    console.log(`medians of ${RUNS} run(s) per size, each in a fresh process, its files read once first (in the page cache); speed 0, into a data manager with a slice listener`);
    console.log('symbols | merge   | range       | bars        | bars/s     | ns/bar | connect() | ns/bar after connect() | peak RSS   | bars held at once | streamed');
    const nsPerBar = new Map<string, number>();
    const streamNsPerBar = new Map<string, number>();
    for (const size of SIZES) {
      for (const thread of [false, true]) {
        const list = results.get(key(size.symbols, thread)) as RunResult[];
        const bars = (list[0] as RunResult).bars;
        const ms = median(list.map((x) => x.ms));
        const connectMs = median(list.map((x) => x.connectMs));
        const streamMs = median(list.map((x) => x.ms - x.connectMs));
        const rss = median(list.map((x) => x.maxRssBytes));
        const held = Math.max(...list.map((x) => x.peakBarsHeld));
        const rate = bars / (ms / 1000);
        nsPerBar.set(key(size.symbols, thread), (ms * 1e6) / bars);
        streamNsPerBar.set(key(size.symbols, thread), (streamMs * 1e6) / bars);
        console.log(
          `${String(size.symbols).padStart(7)} | ${(thread ? 'worker' : 'inline').padEnd(7)} | ${size.label.padEnd(11)} | ${fmt(bars).padStart(11)} | ${fmt(rate / 1e6, 2).padStart(6)} M/s | ${fmt((ms * 1e6) / bars, 0).padStart(6)} | ${fmt(connectMs).padStart(6)} ms | ${fmt((streamMs * 1e6) / bars, 0).padStart(22)} | ${fmt(rss / 2 ** 20).padStart(6)} MiB | ${fmt(held).padStart(17)} | ${String((list[0] as RunResult).streaming)}`,
        );
      }
    }
    console.log(`merge: 'inline' merges the files in the replay's thread (\`thread: false\`), 'worker' in a worker thread (\`thread: true\`); the default (\`'auto'\`) is 'worker' from ${AUTO_THREAD_FILES} symbols at speed 0`);
    const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    // The default judged first: each size as 'auto' runs it.
    for (const mode of ['auto', false, true] as const) {
      const label = mode === 'auto' ? "default, thread: 'auto'" : `thread: ${mode}`;
      const threadAt = (n: number): boolean => (mode === 'auto' ? n >= AUTO_THREAD_FILES : mode);
      const r500 = results.get(key(500, threadAt(500))) as RunResult[];
      const rate500 = (r500[0] as RunResult).bars / (median(r500.map((x) => x.ms)) / 1000);
      const rss500 = median(r500.map((x) => x.maxRssBytes));
      // Judged on the cost of a bar once connected: `connect()` (each file opened and checked, each
      // symbol's first batch read) is a cost per symbol, paid once whatever the range; the 5 000-symbol
      // month spreads it over a tenth of the bars a symbol that a year does. End to end is printed beside.
      const spreadOf = (m: Map<string, number>): { costs: number[]; spread: number } => {
        const costs = [50, 500, 5000].map((n) => m.get(key(n, threadAt(n))) as number);
        return { costs, spread: Math.max(...costs) / Math.min(...costs) - 1 };
      };
      const { costs, spread } = spreadOf(streamNsPerBar);
      const endToEnd = spreadOf(nsPerBar);
      console.log(`target >= 3 M bars/s at 500 symbols (${label}): ${fmt(rate500 / 1e6, 2)} M/s ${mark(rate500 >= 3e6)}`);
      console.log(`target RSS < 1 GiB at 500 symbols x ${SIZES[2]?.label ?? ''} (${label}): ${fmt(rss500 / 2 ** 20)} MiB ${mark(rss500 < 2 ** 30)}`);
      const costLine = `${costs.map((c) => fmt(c, 0)).join(' / ')} ns, spread ${fmt(spread * 100, 1)} %`;
      const endLine = `end to end, connect() included: ${endToEnd.costs.map((c) => fmt(c, 0)).join(' / ')} ns, spread ${fmt(endToEnd.spread * 100, 1)} %`;
      // Flatness is a property of one way of merging: the default changes way at AUTO_THREAD_FILES,
      // where a bar gets cheaper, so it is judged on each way (the two lines below), not across them.
      if (mode === 'auto') console.log(`cost per bar from 50 to 5 000 symbols, after connect() (${label}, judged on each way below): ${costLine} (${endLine})`);
      else console.log(`target cost per bar flat from 50 to 5 000 symbols (within 25 %), after connect() (${label}): ${costLine} ${mark(spread <= 0.25)} (${endLine})`);
    }
    {
      for (const n of QUICK ? [6] : [6, 50]) {
        const files = Object.fromEntries(Object.entries(yearFiles).slice(0, n));
        const fileRun = results.get(key(n, false)) as RunResult[];
        const fileRate = (fileRun[0] as RunResult).bars / (median(fileRun.map((x) => x.ms)) / 1000);
        const got = await natsReplay(files);
        if (typeof got === 'string') console.log(`JetStream replay, ${n} symbols: ${got}`);
        else console.log(`JetStream replay (NatsBarFeed, speed 0, into a data manager), ${n} symbols x ${SIZES[0]?.label ?? ''}: ${fmt(got.bars)} bars at ${fmt(got.bars / (got.ms / 1000) / 1e6, 2)} M/s, beside the file replay's ${fmt(fileRate / 1e6, 2)} M/s (${fmt(got.bars / (got.ms / 1000) / fileRate, 2)}x)`);
      }
    }
  } finally {
    if (process.env.BENCH_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    else console.log(`kept ${root}`);
  }
}

/**
 * `BENCH_DECADE=1`: ten years of sessions (2016-2025) for `BENCH_DECADE_SYMBOLS` symbols (500),
 * generated as above (about 64 bytes a bar on disk: ~29 GB for 500), replayed once in a fresh process
 * straight from the disk (more than this machine's page cache holds: the files are not read first),
 * into a data manager with a slice listener. Not part of `pnpm bench`; the figures are in the README.
 */
function decade(): void {
  const symbols = Number(process.env.BENCH_DECADE_SYMBOLS ?? 500);
  const range = { from: '2016-01-01', to: '2025-12-31' };
  const root = mkdtempSync(join(tmpdir(), 'feed-decade-'));
  try {
    const t0 = performance.now();
    // Fewer base walks (a decade of one is ~1 M bar objects in memory while the files are written).
    generate(root, symbols, range, 6);
    console.log(`@feed/mock decade: ${symbols} symbols x ${nyse.sessionsBetween(range.from, range.to).length} sessions (${range.from}..${range.to}) generated with @feed/synth in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const thread = process.env.BENCH_THREAD === '1';
    const out = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', root, String(symbols), 'cold', thread ? 'thread' : 'one'], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (out.status !== 0) throw new Error(`the decade replay failed: ${out.stderr}`);
    const r = JSON.parse(out.stdout.trim().split('\n').pop() as string) as RunResult;
    console.log(
      `replayed at speed 0 into a data manager with a slice listener${thread ? ' (thread: true)' : ''}: ${fmt(r.bars)} bars, ${fmt(r.slices)} slices in ${fmt(r.ms / 1000, 1)} s (connect() ${fmt(r.connectMs / 1000, 1)} s): ${fmt(r.bars / (r.ms / 1000) / 1e6, 2)} M bars/s, ${fmt((r.ms * 1e6) / r.bars)} ns a bar; peak RSS ${fmt(r.maxRssBytes / 2 ** 20)} MiB, at most ${fmt(r.peakBarsHeld)} bars held at once`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as string, Number(process.argv[4]), process.argv[5] !== 'cold', process.argv[6] === 'thread');
else if (process.env.BENCH_DECADE === '1') decade();
else await main();
