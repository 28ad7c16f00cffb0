/**
 * Data-manager benchmark: update throughput at 6, 500 and 10 000 symbols, snapshot time at each
 * size, and heap bytes per stored bar with 10 000 symbols x 500 bars of history. Prints medians beside
 * the targets of the issue. `BENCH_QUICK=1` runs a smaller version (CI smoke).
 *
 * Run: pnpm bench (in this package), which runs node --expose-gc with tsx.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { ReplayClock, makeBar } from '@feed/core';
import { MultiSymbolDataManager } from '../src/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 7;
const BARS_PER_RUN = QUICK ? 200_000 : 1_200_000;
const MIN = 60_000;
const T0 = Date.UTC(2025, 3, 1, 13, 30);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

function symbols(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `S${i}`);
}

/**
 * Frozen bars of minutes [from, from + count) for every symbol, grouped by minute, as feeds deliver
 * them. Generated in chunks outside the timed region, so that the benchmark does not hold millions
 * of bars at once (a feed does not either) and full GCs do not trace them.
 */
function makeGroups(syms: string[], from: number, count: number): Bar[][] {
  const groups: Bar[][] = [];
  for (let m = from; m < from + count; m++) {
    const start = T0 + m * MIN;
    const g: Bar[] = new Array<Bar>(syms.length);
    for (let i = 0; i < syms.length; i++) {
      const c = 50 + ((i * 7 + m * 13) % 100) / 10;
      g[i] = Object.freeze(
        makeBar({ symbol: syms[i] as string, start, open: c, high: c + 0.2, low: c - 0.2, close: c + 0.1, volume: 1000 + m, receivedAt: start + MIN + 50 }),
      );
    }
    groups.push(g);
  }
  return groups;
}

/**
 * Replays `minutes` minutes into a new manager; returns the time spent inside update. With
 * `prefill`, the history rings are filled first, untimed (the steady state of a long-running
 * manager, whose memory is already touched).
 */
function runUpdates(syms: string[], minutes: number, prefill = 0): { ms: number; bars: number; dm: MultiSymbolDataManager } {
  const clock = new ReplayClock(T0);
  const dm = new MultiSymbolDataManager({ symbols: syms, clock });
  const chunk = Math.max(1, Math.floor(60_000 / syms.length));
  for (let m = 0; m < prefill; m += chunk) {
    for (const g of makeGroups(syms, m, Math.min(chunk, prefill - m))) {
      clock.advanceTo((g[0] as Bar).start);
      dm.updateAll(g);
      clock.advanceTo((g[0] as Bar).end);
    }
  }
  dm.resetStats();
  let bars = 0;
  let ms = 0;
  for (let m = prefill; m < prefill + minutes; m += chunk) {
    const groups = makeGroups(syms, m, Math.min(chunk, prefill + minutes - m));
    const t = performance.now();
    for (const g of groups) {
      const start = (g[0] as Bar).start;
      clock.advanceTo(start);
      for (const b of g) dm.update(b);
      clock.advanceTo(start + MIN);
    }
    ms += performance.now() - t;
    for (const g of groups) bars += g.length;
  }
  if (dm.stats().total.accepted !== bars) throw new Error('benchmark bars were not all accepted');
  return { ms, bars, dm };
}

// Heap per stored bar: 10 000 symbols x 500 bars of history (bars created frozen, as feeds do).
function heapPerBar(): { bytesPerBar: number; bars: number } {
  const n = QUICK ? 2_000 : 10_000;
  const depth = 500;
  const syms = symbols(n);
  const clock = new ReplayClock(T0);
  gc();
  const before = process.memoryUsage();
  const dm = new MultiSymbolDataManager({ symbols: syms, clock, historySize: depth });
  for (let m = 0; m < depth; m++) {
    const start = T0 + m * MIN;
    clock.advanceTo(start);
    for (let i = 0; i < n; i++) {
      const c = 50 + (i % 100) / 10;
      dm.update(Object.freeze(makeBar({ symbol: syms[i] as string, start, open: c, high: c, low: c, close: c, volume: 1, receivedAt: start + MIN })));
    }
    clock.advanceTo(start + MIN);
  }
  gc();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  const stored = dm.history(syms[0] as string).length * n;
  if (stored !== n * depth) throw new Error('history not full');
  return { bytesPerBar: bytes / stored, bars: stored };
}

// The heap is measured in a child process of its own: a fresh heap, where no earlier run's garbage
// is collected in between, and whose 360 MB do not slow the timed runs of this one.
if (process.argv[2] === '--heap') {
  process.stdout.write(JSON.stringify(heapPerBar()));
  process.exit(0);
}
const heap = JSON.parse(
  execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--heap'], { encoding: 'utf8' }),
) as { bytesPerBar: number; bars: number };

interface Row {
  symbols: number;
  updatesPerSec: number;
  snapshotMs: number;
}

const rows: Row[] = [];
for (const n of [6, 500, 10_000]) {
  const syms = symbols(n);
  const minutes = Math.max(1, Math.floor(BARS_PER_RUN / n));
  runUpdates(syms, minutes); // warm-up: one full run, so the JIT has settled before timing
  const rates: number[] = [];
  let last: MultiSymbolDataManager | undefined;
  for (let r = 0; r < RUNS; r++) {
    gc();
    const { ms, bars, dm } = runUpdates(syms, minutes);
    rates.push(bars / (ms / 1000));
    last = dm;
  }
  const dm = last as MultiSymbolDataManager;
  const snaps: number[] = [];
  const reps = n >= 10_000 ? (QUICK ? 10 : 40) : QUICK ? 200 : 2000;
  for (let i = 0; i < 5; i++) dm.getLatestSnapshot();
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    dm.getLatestSnapshot();
    snaps.push(performance.now() - t);
  }
  rows.push({ symbols: n, updatesPerSec: median(rates), snapshotMs: median(snaps) });
}



const pass = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
console.log(`@feed/data-manager benchmark${QUICK ? ' (quick smoke run: too short to judge the targets; the full run is `pnpm bench`)' : ''}: medians of ${RUNS} runs, ${fmt(BARS_PER_RUN)} bars a run, Node ${process.version}`);
console.log('symbols | updates/s (target >= 3,000,000) | snapshot ms (target < 5 at 10,000)');
for (const r of rows) {
  const snapTarget = r.symbols === 10_000 ? `  ${pass(r.snapshotMs < 5)}` : '';
  console.log(
    `${String(r.symbols).padStart(7)} | ${fmt(Math.round(r.updatesPerSec)).padStart(12)}  ${pass(r.updatesPerSec >= 3_000_000)} | ${r.snapshotMs.toFixed(3).padStart(8)}${snapTarget}`,
  );
}
// The 10 000-symbol case again once the rings are full: from empty, every stored bar also touches
// new memory (page faults, expensive in a VM); a manager that runs all day is past that.
function steadyState(): number {
  const syms = symbols(10_000);
  const minutes = Math.max(1, Math.floor(BARS_PER_RUN / 10_000));
  const prefill = QUICK ? 50 : 500;
  const rates: number[] = [];
  for (let r = 0; r < (QUICK ? 1 : 3); r++) {
    gc();
    const { ms, bars } = runUpdates(syms, minutes, prefill);
    rates.push(bars / (ms / 1000));
  }
  return median(rates);
}
const steady = steadyState();
const ratio = (rows[2] as Row).updatesPerSec / (rows[0] as Row).updatesPerSec;
console.log(`  10000 | ${fmt(Math.round(steady)).padStart(12)}  ${pass(steady >= 3_000_000)} | (history full: steady state)`);
console.log(
  `cost per update, 10,000 vs 6 symbols: throughput ratio ${ratio.toFixed(2)} from empty, ${(steady / (rows[0] as Row).updatesPerSec).toFixed(2)} in the steady state (1.00 = no growth)`,
);
console.log(
  `heap per stored bar (${fmt(heap.bars)} bars): ${heap.bytesPerBar.toFixed(1)} bytes (target < 100)  ${pass(heap.bytesPerBar < 100)}${(globalThis as { gc?: unknown }).gc ? '' : ' [no --expose-gc: approximate]'}`,
);
