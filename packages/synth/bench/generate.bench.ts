/**
 * Generation benchmark: a year of minutes (every 2025 NYSE session, ~97 000 base bars a symbol):
 * simulate SPY and QQQ, generate the six ETFs and write all eight CSV files, as `feed-synth` does.
 * Prints the first (cold) run and the median of the next runs. Target (issue): under 2 s.
 * `BENCH_QUICK=1`: fewer runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFiles } from '../src/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 2 : 5;
const dir = mkdtempSync(join(tmpdir(), 'feed-synth-bench-'));
const times: number[] = [];
let bars = 0;
try {
  for (let r = 0; r <= RUNS; r++) {
    const t = performance.now();
    const files = await generateFiles({ outDir: dir, from: '2025-01-01', to: '2025-12-31', seed: r + 1 });
    times.push(performance.now() - t);
    bars = files.reduce((a, f) => a + f.bars, 0);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const [cold, ...warm] = times as [number, ...number[]];
const sorted = [...warm].sort((a, b) => a - b);
const median = sorted.length % 2 ? (sorted[sorted.length >> 1] as number) : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
console.log(`@feed/synth benchmark${QUICK ? ' (quick)' : ''}: 2025, 8 files, ${bars.toLocaleString('en-US')} bars (${(bars / 8).toLocaleString('en-US')} a symbol), simulate + generate + write`);
console.log(`first (cold) run: ${(cold / 1000).toFixed(2)} s; median of the next ${warm.length}: ${(median / 1000).toFixed(2)} s (target < 2 s)  ${median < 2000 ? 'ok' : 'MISSED'}`);
