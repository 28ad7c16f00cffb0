import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Bar, RejectReason } from '@feed/core';
import { CsvError, DEFAULT_VALIDATION_RULES, checkBar } from '@feed/core';
import { parse as parseLine } from 'csv-parse/sync';
import { BarColumns } from './columns.js';
import { parseDecimal } from './decimal.js';
import type { CsvFormat } from './formats.js';
import { CSV_COLUMNS, detectCsvFormat } from './formats.js';
import { readLines } from './lines.js';
import { isPlausibleTime, parseTime } from './time.js';

/** Why a row was not loaded. */
export type BadRowReason =
  | 'quote'
  | 'column_count'
  | 'unparseable_time'
  | 'implausible_time'
  | 'unparseable_number'
  | 'out_of_order'
  | 'duplicate_time'
  | RejectReason;

/** What reading one file found. */
export interface ParseReport {
  readonly symbol: string;
  readonly file: string;
  readonly format: CsvFormat | 'arrow' | undefined;
  /** Data rows read (header and blank lines excluded). */
  readonly rows: number;
  /** Rows skipped as bad, by reason. */
  readonly badRows: number;
  readonly badByReason: Readonly<Partial<Record<BadRowReason, number>>>;
  /** The first bad rows, each with its file and line (at most `maxReportedErrors`). */
  readonly errors: readonly CsvError[];
}

/** Options of `parseCsv` and `readBarsFromCsv`. */
export interface ParseOptions {
  /**
   * `skip`: every bad line is counted and reported and the rest is read; `fail`: the first bad line
   * rejects the file.
   * @default 'skip'
   */
  onBadRow?: 'skip' | 'fail';
  /**
   * Bar interval.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Bad rows kept with their file and line (all are counted).
   * @default 20
   */
  maxReportedErrors?: number;
  /** Opens a file as a byte stream (tests). By default only a regular file is opened. */
  open?: (path: string) => Readable;
}

/** At most 200 characters of a text, for an error message (a 10 MB line must not become a 10 MB message). */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}

/** A regular file as a byte stream: a FIFO or a device would block or never end, a directory fails late. */
export async function openRegularFile(file: string): Promise<Readable> {
  let s;
  try {
    s = await stat(file);
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `cannot open: ${(error as Error).message}`, file, cause: error });
  }
  if (!s.isFile()) {
    const what = s.isFIFO() ? 'a FIFO' : s.isDirectory() ? 'a directory' : s.isSocket() ? 'a socket' : 'not a regular file';
    throw new CsvError({ code: 'csv_file', message: `cannot read ${what}: only regular files are read`, file });
  }
  return createReadStream(file);
}

/** The fields of one line: a plain split, or csv-parse for a line holding quotes; undefined for bad quoting. */
function fieldsOf(text: string): string[] | undefined {
  if (text.indexOf('"') < 0) return text.split(',');
  try {
    const rows: string[][] = parseLine(text, { relax_column_count: true });
    return rows[0] ?? [''];
  } catch {
    return undefined;
  }
}

/**
 * Reads one CSV bar file, streaming, one physical line a record: finds the columns by header name,
 * converts and validates every line, and keeps the good ones as columns, in file order. A line that
 * fails (quotes, column count, a number that is not decimal, an implausible time, out of order, a
 * bar rule) is counted by reason and the first ones are kept as `CsvError`s naming file, line and
 * reason; every other line is delivered. Time ordering compares with the last accepted row.
 */
export async function parseCsv(symbol: string, file: string, options: ParseOptions = {}): Promise<{ bars: BarColumns; report: ParseReport }> {
  const intervalMs = options.intervalMs ?? 60_000;
  const onBadRow = options.onBadRow ?? 'skip';
  const maxReported = options.maxReportedErrors ?? 20;
  const bars = new BarColumns();
  let format: CsvFormat | undefined;
  let cols: { time: number; o: number; h: number; l: number; c: number; v: number; vw: number; n: number; width: number } | undefined;
  let names: readonly string[] = [];
  let rows = 0;
  let bad = 0;
  const badByReason: Partial<Record<BadRowReason, number>> = {};
  const errors: CsvError[] = [];
  let failure: CsvError | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  const rules = { ...DEFAULT_VALIDATION_RULES, intervalMs };
  const scratch: { -readonly [K in keyof Bar]: Bar[K] | undefined } & { symbol: string } = {
    symbol,
    start: 0,
    end: 0,
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    volume: 0,
    vwap: undefined,
    tradeCount: undefined,
    receivedAt: 0,
  };

  /** Returns false to stop reading (the first bad row with onBadRow 'fail'). */
  const badRow = (reason: BadRowReason, line: number, column: string | undefined, message: string): boolean => {
    bad++;
    badByReason[reason] = (badByReason[reason] ?? 0) + 1;
    if (errors.length < maxReported || onBadRow === 'fail') {
      const e = new CsvError({ code: 'csv_row', message: `${message} [${reason}]`, file, line, column, detail: { reason } });
      if (errors.length < maxReported) errors.push(e);
      if (onBadRow === 'fail') {
        failure = e;
        return false;
      }
    }
    return true;
  };

  const input = options.open === undefined ? await openRegularFile(file) : options.open(file);
  const onLine = (text: string, line: number): boolean => {
    if (cols === undefined) {
      if (text.trim() === '') return true;
      const header = fieldsOf(text) ?? text.split(',');
      const found = detectCsvFormat(header);
      if (!found.ok) {
        failure = new CsvError({
          code: 'csv_column',
          message: `missing column${found.missing.length > 1 ? 's' : ''} ${found.missing.map((m) => `'${m}'`).join(', ')} (header: ${clip(header.join(','))}; expected ${CSV_COLUMNS[found.closest].join(',')})`,
          file,
          line,
          column: found.missing[0],
        });
        return false;
      }
      format = found.format;
      names = CSV_COLUMNS[format];
      const idx = found.indices as [number, number, number, number, number, number];
      const lower = header.map((h) => h.trim().toLowerCase());
      cols = { time: idx[0], o: idx[1], h: idx[2], l: idx[3], c: idx[4], v: idx[5], vw: lower.indexOf('vw'), n: lower.indexOf('n'), width: header.length };
      return true;
    }
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return true; // a blank line
    rows++;
    const f = fieldsOf(text);
    if (f === undefined) return badRow('quote', line, undefined, `a quote is not closed on this line, or a field holds a stray quote: '${clip(text)}'`);
    if (f.length !== cols.width) return badRow('column_count', line, undefined, `${f.length} fields where the header has ${cols.width}: '${clip(text)}'`);
    const timeText = f[cols.time] as string;
    const start = parseTime(timeText);
    if (Number.isNaN(start)) return badRow('unparseable_time', line, names[0], `cannot read the time '${clip(timeText)}'`);
    if (!isPlausibleTime(start)) {
      return badRow('implausible_time', line, names[0], `time '${clip(timeText)}' is ${Number.isFinite(start) ? new Date(start).toISOString() : start}, outside 1990-01-01..2100-01-01 (an extra digit, or the wrong unit?)`);
    }
    const o = parseDecimal(f[cols.o] as string);
    const h = parseDecimal(f[cols.h] as string);
    const l = parseDecimal(f[cols.l] as string);
    const c = parseDecimal(f[cols.c] as string);
    const v = parseDecimal(f[cols.v] as string);
    if (Number.isNaN(o) || Number.isNaN(h) || Number.isNaN(l) || Number.isNaN(c) || Number.isNaN(v)) {
      const k = [o, h, l, c, v].findIndex((x) => Number.isNaN(x));
      const colIdx = [cols.o, cols.h, cols.l, cols.c, cols.v][k] as number;
      return badRow('unparseable_number', line, names[k + 1], `cannot read ${names[k + 1]} '${clip(f[colIdx] ?? '')}' as a decimal number`);
    }
    const vwText = cols.vw >= 0 ? (f[cols.vw] as string) : '';
    const nText = cols.n >= 0 ? (f[cols.n] as string) : '';
    const vw = vwText === '' ? Number.NaN : parseDecimal(vwText);
    const n = nText === '' ? -1 : parseDecimal(nText);
    if ((vwText !== '' && Number.isNaN(vw)) || (nText !== '' && Number.isNaN(n))) {
      return badRow('unparseable_number', line, Number.isNaN(vw) && vwText !== '' ? 'vw' : 'n', `cannot read '${clip(Number.isNaN(vw) && vwText !== '' ? vwText : nText)}' as a decimal number`);
    }
    // One scratch bar for the whole file: the rules read it, nothing keeps it.
    scratch.start = start;
    scratch.end = start + intervalMs;
    scratch.open = o;
    scratch.high = h;
    scratch.low = l;
    scratch.close = c;
    scratch.volume = v;
    scratch.vwap = Number.isNaN(vw) ? undefined : vw;
    scratch.tradeCount = n < 0 ? undefined : n;
    const rejection = checkBar(scratch as Bar, rules);
    if (rejection !== undefined) return badRow(rejection.reason, line, rejection.field, rejection.message);
    if (start <= lastStart) {
      if (start === lastStart) return badRow('duplicate_time', line, names[0], `time ${new Date(start).toISOString()} repeats the previous row's`);
      return badRow('out_of_order', line, names[0], `time ${new Date(start).toISOString()} is before the last accepted row's ${new Date(lastStart).toISOString()}: rows are not reordered`);
    }
    lastStart = start;
    bars.push(start, o, h, l, c, v, vw, n);
    return true;
  };
  try {
    await readLines(input, onLine);
  } catch (error) {
    input.destroy();
    if (CsvError.isInstance(error)) throw error;
    throw new CsvError({ code: 'csv_file', message: `cannot read: ${(error as Error).message}`, file, cause: error });
  }
  if (failure !== undefined) throw failure;
  if (cols === undefined) throw new CsvError({ code: 'csv_column', message: 'the file is empty: no header row', file, line: 1 });
  bars.trim();
  return { bars, report: { symbol, file, format, rows, badRows: bad, badByReason, errors } };
}

/**
 * Reads one CSV file (any supported layout) into frozen `Bar`s, oldest first, with `receivedAt` set
 * to each bar's end. For tools that need a whole file at once (the synthetic generator, scripts);
 * a replay uses `MockMultiSymbolFeed`. With `onBadRow: 'fail'` (the default here) the first bad row
 * throws a `CsvError` naming the file and line.
 */
export async function readBarsFromCsv(symbol: string, path: string, options: ParseOptions = {}): Promise<{ bars: Bar[]; report: ParseReport }> {
  const intervalMs = options.intervalMs ?? 60_000;
  const { bars: cols, report } = await parseCsv(symbol, path, { onBadRow: 'fail', ...options, intervalMs });
  const bars = new Array<Bar>(cols.length);
  for (let i = 0; i < cols.length; i++) bars[i] = cols.bar(i, symbol, intervalMs, (cols.start[i] as number) + intervalMs);
  return { bars, report };
}
