import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { readBarsFromCsv } from '@feed/csv';

/** FEED_REAL_DATA_DIR, else shared/data/real beside the repository; undefined when neither exists. */
export function realDataDir(): string | undefined {
  const env = process.env.FEED_REAL_DATA_DIR;
  if (env) return existsSync(env) ? env : undefined;
  const dir = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data/real');
  return existsSync(dir) ? dir : undefined;
}

/** A real-data file's bars. */
export async function readBars(dir: string, symbol: string): Promise<Bar[]> {
  return (await readBarsFromCsv(symbol, join(dir, `${symbol}.csv`))).bars;
}

/** Minute returns of two series over the minutes both have, with the previous minute in both. */
export function commonMinuteReturns(a: readonly Bar[], b: readonly Bar[]): [number[], number[]] {
  const am = new Map(a.map((x) => [x.start, x]));
  const bm = new Map(b.map((x) => [x.start, x]));
  const ra: number[] = [];
  const rb: number[] = [];
  for (const x of a) {
    const xp = am.get(x.start - 60_000);
    const y = bm.get(x.start);
    const yp = bm.get(x.start - 60_000);
    if (xp && y && yp) {
      ra.push(x.close / xp.close - 1);
      rb.push(y.close / yp.close - 1);
    }
  }
  return [ra, rb];
}
