import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nyse } from '@feed/core';
import { cleanEnv, runApp } from './run.js';

/** FEED_REAL_DATA_DIR, else shared/data/real beside the repository. */
function realDataDir(): string | undefined {
  const fromEnv = process.env.FEED_REAL_DATA_DIR;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const dir = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data/real');
  return existsSync(dir) ? dir : undefined;
}
const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') {
  throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data: set FEED_REAL_DATA_DIR or put shared/data/real beside the repository');
}

/** Bar starts (epoch s) of a file, by plain string splitting: independent of the packages' loader. */
const rawStarts = (path: string): number[] =>
  readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => Number(l.split(',')[1]));

/** Slices in which `own` is forward-filled: 1 to 5 open-market minutes since its last bar (semantics.md). */
function expectedFills(own: readonly number[], minutes: readonly number[]): number {
  let j = -1;
  let fills = 0;
  for (const m of minutes) {
    const boundary = (m + 60) * 1000;
    while (j + 1 < own.length && ((own[j + 1] as number) + 60) * 1000 <= boundary) j++;
    if (j < 0) continue;
    const k = Math.floor(nyse.openMsBetween(((own[j] as number) + 60) * 1000, boundary) / 60_000);
    if (k >= 1 && k <= 5) fills++;
  }
  return fills;
}

describe.skipIf(dir === undefined)('the demo on the real files (child process): --data shared/data/real', () => {
  it('replays every row, one slice per minute, forward fills where SDS and SVIX have gaps, UPRO synthesized from SPY', async () => {
    const r = await runApp('src/main.ts', ['--data', dir as string], cleanEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = ['TQQQ', 'SQQQ', 'SDS', 'UVXY', 'SVIX', 'SPY'];
    const starts = Object.fromEntries(files.map((s) => [s, rawStarts(join(dir as string, `${s}.csv`))]));
    starts.UPRO = starts.SPY as number[];
    const minutes = [...new Set(Object.values(starts).flat())].sort((a, b) => a - b);
    const table = (symbol: string): number[] => {
      const line = r.stdout.split('\n').find((l) => l.startsWith(symbol.padEnd(7)));
      expect(line, `no table row for ${symbol}`).toBeDefined();
      const [bars, rejected, bad, filled] = (line as string).slice(7).trim().split(/\s+/);
      return [bars, rejected, bad, filled].map((x) => Number((x as string).replace(/,/g, '')));
    };
    expect(r.stdout).toMatch(/UPRO: no file; synthesized 48,000 bars from SPY\.csv \(3x daily reset/);
    for (const s of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) {
      const own = starts[s] as number[];
      expect(table(s), s).toEqual([own.length, 0, 0, expectedFills(own, minutes)]);
    }
    expect(table('SDS')[3]).toBeGreaterThan(1000);
    expect(table('SVIX')[3]).toBeGreaterThan(1500);
    expect(table('TQQQ')[3]).toBe(0);
    expect(r.stdout).toContain(`${minutes.length.toLocaleString('en-US')} slices; last as of 2025-10-16 16:01 ET`);
  }, 180_000);
});
