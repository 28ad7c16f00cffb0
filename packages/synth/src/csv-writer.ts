import { writeFile } from 'node:fs/promises';
import type { Bar } from '@feed/core';
import { nyOffset } from './ny-time.js';

export const REAL_DATA_HEADER = 'ts_utc,ts_nyt_epoch,open,high,low,close,volume';

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
const dayCache = new Map<number, string>();
const timeCache = new Map<number, string>();

/**
 * The real-data format's `ts_utc` column: the bar start as ISO 8601 with the New York offset
 * (despite the column's name), e.g. `2025-04-01T09:30:00-04:00`. Offsets come from the time-zone
 * database (once per hour), dates are formatted once per day.
 */
export function nyIso(start: number): string {
  const off = nyOffset(start);
  const local = start + off;
  const day = Math.floor(local / 86_400_000);
  let date = dayCache.get(day);
  if (date === undefined) {
    const d = new Date(day * 86_400_000);
    date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(day, date);
  }
  const s = Math.floor((local - day * 86_400_000) / 1000);
  // "T09:30:00-04:00": at most 86 400 seconds x a few offsets, cached.
  const key = s * 100 + off / 3_600_000;
  let time = timeCache.get(key);
  if (time === undefined) {
    const abs = Math.abs(off) / 60_000;
    time = `T${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    if (timeCache.size > 200_000) timeCache.clear();
    timeCache.set(key, time);
  }
  return date + time;
}

/**
 * `String(x)` for a price with at most 4 decimals, through integer formatting (several times faster
 * than the shortest-round-trip double formatting); the text is the same, since the shortest decimal
 * that reads back as such a double is that 4-decimal number. Other numbers go through `String`.
 */
export function formatPrice(x: number): string {
  const k = Math.round(x * 10_000);
  if (k / 10_000 !== x || !Number.isSafeInteger(k) || k < 0) return String(x);
  const whole = Math.floor(k / 10_000);
  let frac = k - whole * 10_000;
  if (frac === 0) return String(whole);
  let digits = 4;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const f = String(frac);
  return `${whole}.${f.length < digits ? '0'.repeat(digits - f.length) + f : f}`;
}

/** One CSV line of the real-data format for a bar (volume written as a decimal, as the real files do). */
export function realDataLine(bar: Bar): string {
  const v = Number.isInteger(bar.volume) ? `${bar.volume}.0` : String(bar.volume);
  return `${nyIso(bar.start)},${Math.floor(bar.start / 1000)},${formatPrice(bar.open)},${formatPrice(bar.high)},${formatPrice(bar.low)},${formatPrice(bar.close)},${v}`;
}

const CHUNK = 1 << 20;

/**
 * The real-data CSV text of `bars` as Buffers of about 1 MiB: no line outlives its batch (retaining
 * ~100 000 line strings per file made the garbage collector the bottleneck) and the text sits outside
 * the JavaScript heap.
 */
export function realDataCsv(bars: Iterable<Bar>): { chunks: Buffer[]; rows: number } {
  const chunks: Buffer[] = [];
  let rows = 0;
  // Lines are joined into ~64 KiB strings first: one Buffer write per batch, not per line.
  let batch = `${REAL_DATA_HEADER}\n`;
  let buf = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  const put = (text: string): void => {
    if (at + text.length > buf.length) {
      chunks.push(buf.subarray(0, at));
      buf = Buffer.allocUnsafe(Math.max(CHUNK, text.length));
      at = 0;
    }
    at += buf.write(text, at, 'latin1');
  };
  for (const b of bars) {
    batch += `${realDataLine(b)}\n`;
    rows++;
    if (batch.length > 1 << 16) {
      put(batch);
      batch = '';
    }
  }
  put(batch);
  chunks.push(buf.subarray(0, at));
  return { chunks, rows };
}

/** Writes bars to `path` in the real-data format (header, one line a bar). */
export async function writeRealDataCsv(path: string, bars: Iterable<Bar>): Promise<number> {
  const { chunks, rows } = realDataCsv(bars);
  await writeFile(path, chunks);
  return rows;
}
