import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Bar } from '@feed/core';
import { NEW_YORK, zoneOffsetMs } from '@feed/core';

export const REAL_DATA_HEADER = 'ts_utc,ts_nyt_epoch,open,high,low,close,volume';

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * The real-data format's `ts_utc` column: the bar start as ISO 8601 with the New York offset
 * (despite the column's name), e.g. `2025-04-01T09:30:00-04:00`. The offset comes from the time-zone
 * database, looked up once per hour of bars.
 */
export function nyIso(start: number, offsetCache: Map<number, number> = new Map()): string {
  const hour = Math.floor(start / 3_600_000);
  let off = offsetCache.get(hour);
  if (off === undefined) {
    off = zoneOffsetMs(start, NEW_YORK);
    offsetCache.set(hour, off);
  }
  const d = new Date(start + off);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 60_000;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** One CSV line of the real-data format for a bar (volume written as a decimal, as the real files do). */
export function realDataLine(bar: Bar, offsetCache?: Map<number, number>): string {
  const v = Number.isInteger(bar.volume) ? `${bar.volume}.0` : String(bar.volume);
  return `${nyIso(bar.start, offsetCache)},${Math.floor(bar.start / 1000)},${bar.open},${bar.high},${bar.low},${bar.close},${v}`;
}

/** Writes bars to `path` in the real-data format (header, one line a bar), streaming. */
export async function writeRealDataCsv(path: string, bars: Iterable<Bar>): Promise<number> {
  const out = createWriteStream(path);
  const cache = new Map<number, number>();
  let n = 0;
  let chunk = `${REAL_DATA_HEADER}\n`;
  for (const b of bars) {
    chunk += `${realDataLine(b, cache)}\n`;
    n++;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return n;
}
