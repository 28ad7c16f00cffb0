import type { Bar } from '@feed/core';
import { newYorkOffsetMs as nyOffset } from '@feed/core';
import { encodeArrow, writeAtomically } from './arrow.js';
import { BarColumns } from './columns.js';

/** The header of the real-data CSV format. */
export const REAL_DATA_HEADER = 'ts_utc,ts_nyt_epoch,open,high,low,close,volume';

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
const dayCache = new Map<number, string>();
const timeCache = new Map<number, string>();
const isoCache = new Map<number, string>();

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
/** The longest line we write: a 25-byte time, 5 numbers of at most 24 characters, separators. */
const MAX_LINE = 25 + 6 * 25 + 8;

/**
 * Writes ASCII straight into 1 MiB buffers: digits by arithmetic, the time columns from per-day and
 * per-minute caches. No string per line, so nothing for the garbage collector (a first version that
 * built a string per line spent most of its time collecting them).
 */
class ByteWriter {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;

  ensure(n: number): void {
    if (this.at + n > this.buf.length) {
      this.chunks.push(this.buf.subarray(0, this.at));
      this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
      this.at = 0;
    }
  }

  ascii(text: string): void {
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
    this.at = at;
  }

  byte(c: number): void {
    this.buf[this.at++] = c;
  }

  /** A non-negative integer below 2^53. */
  uint(n: number): void {
    if (n < 10) {
      this.buf[this.at++] = 48 + n;
      return;
    }
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    const b = this.buf;
    let at = this.at + digits;
    this.at = at;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) b[--at] = 48 + (m % 10);
  }

  /** The same text as String(x) (see formatPrice), without making the string. */
  price(x: number): void {
    const k = Math.round(x * 10_000);
    if (k / 10_000 !== x || !Number.isSafeInteger(k) || k < 0) {
      this.ascii(String(x));
      return;
    }
    const whole = Math.floor(k / 10_000);
    let frac = k - whole * 10_000;
    this.uint(whole);
    if (frac === 0) return;
    this.buf[this.at++] = 46; // '.'
    let digits = 4;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    // Leading zeros of the fraction, then its digits.
    let width = 1;
    for (let m = frac; m >= 10; m = Math.floor(m / 10)) width++;
    for (let z = width; z < digits; z++) this.buf[this.at++] = 48;
    this.uint(frac);
  }

  finish(): Buffer[] {
    this.chunks.push(this.buf.subarray(0, this.at));
    return this.chunks;
  }
}

/** The real-data CSV of `bars`, as Buffers of about 1 MiB. */
export function realDataCsv(bars: Iterable<Bar>): { chunks: Buffer[]; rows: number } {
  const w = new ByteWriter();
  w.ensure(REAL_DATA_HEADER.length + 1);
  w.ascii(REAL_DATA_HEADER);
  w.byte(10);
  let rows = 0;
  for (const b of bars) {
    w.ensure(MAX_LINE);
    // Files of one run share their timestamps: the time text is made once per minute.
    let iso = isoCache.get(b.start);
    if (iso === undefined) {
      iso = nyIso(b.start);
      if (isoCache.size > 400_000) isoCache.clear();
      isoCache.set(b.start, iso);
    }
    w.ascii(iso);
    w.byte(44);
    w.uint(Math.floor(b.start / 1000));
    w.byte(44);
    w.price(b.open);
    w.byte(44);
    w.price(b.high);
    w.byte(44);
    w.price(b.low);
    w.byte(44);
    w.price(b.close);
    w.byte(44);
    if (Number.isSafeInteger(b.volume) && b.volume >= 0) {
      w.uint(b.volume);
      w.byte(46);
      w.byte(48);
    } else w.ascii(String(b.volume));
    w.byte(10);
    rows++;
  }
  return { chunks: w.finish(), rows };
}

/** Writes bars to `path` in the real-data format (header, one line a bar), through a temporary file and a rename. */
export async function writeRealDataCsv(path: string, bars: Iterable<Bar>): Promise<number> {
  const { chunks, rows } = realDataCsv(bars);
  await writeAtomically(path, Buffer.concat(chunks));
  return rows;
}

/** The file formats bars are written in: the real-data CSV, or Arrow IPC (pandas, polars, DuckDB). */
export type BarFileFormat = 'csv' | 'arrow';

/**
 * Writes one symbol's bars (in time order) as CSV (real-data format) or Arrow IPC, atomically: the
 * old file stays whole until the new one is complete. Returns the rows written.
 */
export async function writeBarsFile(path: string, bars: readonly Bar[], format: BarFileFormat = 'csv'): Promise<number> {
  if (format === 'csv') return writeRealDataCsv(path, bars);
  const cols = new BarColumns(bars.length);
  for (const b of bars) cols.push(b.start, b.open, b.high, b.low, b.close, b.volume, b.vwap ?? Number.NaN, b.tradeCount ?? -1);
  cols.trim();
  const first = bars[0];
  await writeAtomically(path, encodeArrow(cols, { version: 1, ...(first ? { symbol: first.symbol, intervalMs: first.end - first.start } : {}) }));
  return bars.length;
}
