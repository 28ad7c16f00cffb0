import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Bar, RejectReason } from '@feed/core';
import { CsvError, DEFAULT_VALIDATION_RULES, checkBar, makeBar } from '@feed/core';
import { parse } from 'csv-parse';
import type { CsvFormat } from './csv-format.js';
import { CSV_COLUMNS, detectCsvFormat } from './csv-format.js';
import { parseDecimal } from './fast-number.js';
import { parseTime } from './parse-time.js';

/** Why a row was not loaded. */
export type BadRowReason = 'unparseable_time' | 'unparseable_number' | 'out_of_order' | 'duplicate_time' | RejectReason;

/** What loading one file found. */
export interface FileReport {
  readonly symbol: string;
  readonly file: string;
  readonly format: CsvFormat | undefined;
  /** Data rows read (header and blank lines excluded). */
  readonly rows: number;
  /** Rows loaded for replay (after the date filter). */
  readonly loaded: number;
  /** Rows outside the date filter. */
  readonly filtered: number;
  /** Rows skipped as bad, by reason. */
  readonly badRows: number;
  readonly badByReason: Readonly<Partial<Record<BadRowReason, number>>>;
  /** The first bad rows, each with its file and line (at most `maxReportedErrors`). */
  readonly errors: readonly CsvError[];
}

/** One symbol's bars as columns: 8 numbers a bar, no object per bar until replay. */
export class BarColumns {
  start: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  vwap: Float64Array; // NaN when absent
  trades: Float64Array; // -1 when absent
  length = 0;

  constructor(capacity = 1024) {
    this.start = this.open = this.high = this.low = this.close = this.volume = this.vwap = this.trades = new Float64Array(0);
    this.resize(capacity);
  }

  /** Reallocates every column to `capacity` rows, keeping the first `length`. */
  private resize(capacity: number): void {
    const r = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, Math.min(this.length, capacity)));
      return b;
    };
    this.start = r(this.start);
    this.open = r(this.open);
    this.high = r(this.high);
    this.low = r(this.low);
    this.close = r(this.close);
    this.volume = r(this.volume);
    this.vwap = r(this.vwap);
    this.trades = r(this.trades);
  }

  push(start: number, o: number, h: number, l: number, c: number, v: number, vw: number, n: number): void {
    if (this.length === this.start.length) this.resize(this.length * 2);
    const i = this.length++;
    this.start[i] = start;
    this.open[i] = o;
    this.high[i] = h;
    this.low[i] = l;
    this.close[i] = c;
    this.volume[i] = v;
    this.vwap[i] = vw;
    this.trades[i] = n;
  }

  /** Releases unused capacity. */
  trim(): void {
    if (this.start.length !== this.length) this.resize(this.length);
  }
}

export interface LoadOptions {
  /** `skip`: count bad rows and load the rest; `fail`: the first bad row rejects. */
  onBadRow: 'skip' | 'fail';
  intervalMs: number;
  /** Keep rows whose start is in [from, to). */
  from: number;
  to: number;
  maxReportedErrors: number;
  /** Opens a file as a byte stream (injectable for tests). */
  open: (path: string) => Readable;
}

export const defaultOpen = (path: string): Readable => createReadStream(path);

interface Columns {
  time: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw: number;
  n: number;
}

function num(text: string | undefined): number {
  // An empty cell is NaN here (Number('') would be 0).
  return text === undefined ? Number.NaN : parseDecimal(text);
}

/**
 * Loads one CSV file with csv-parse's streaming API (the file is never read into one string): finds
 * the columns by header name, converts and validates every row, and stores the good ones as columns.
 * Every bad row is counted by reason; the first ones are kept as `CsvError`s naming file and line.
 */
export async function loadCsv(symbol: string, file: string, options: LoadOptions): Promise<{ bars: BarColumns; report: FileReport }> {
  const bars = new BarColumns();
  let format: CsvFormat | undefined;
  let cols: Columns | undefined;
  let rows = 0;
  let filtered = 0;
  let bad = 0;
  const badByReason: Partial<Record<BadRowReason, number>> = {};
  const errors: CsvError[] = [];
  let failure: CsvError | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  const rules = { ...DEFAULT_VALIDATION_RULES, intervalMs: options.intervalMs };
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

  const badRow = (reason: BadRowReason, line: number, column: string | undefined, message: string): void => {
    bad++;
    badByReason[reason] = (badByReason[reason] ?? 0) + 1;
    if (errors.length < options.maxReportedErrors || (options.onBadRow === 'fail' && failure === undefined)) {
      const e = new CsvError({ code: 'csv_row', message: `${message} [${reason}]`, file, line, column });
      if (errors.length < options.maxReportedErrors) errors.push(e);
      if (options.onBadRow === 'fail') failure ??= e;
    }
  };

  let input: Readable;
  try {
    input = options.open(file);
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `cannot open: ${(error as Error).message}`, file, cause: error });
  }

  // Records come as string arrays, one per physical line (blank lines included, then skipped here),
  // so a record's line is its index + 1: csv-parse's per-record info object would cost more than
  // the parsing itself. Our formats have no quoted line breaks, which is what this assumes.
  const parser = parse({ bom: true, skip_empty_lines: false, relax_column_count: true });
  let line = 0;
  const onRecord = (record: string[]): void => {
    if (cols === undefined) {
      const found = detectCsvFormat(record);
      if (!found.ok) {
        failure = new CsvError({
          code: 'csv_column',
          message: `missing column${found.missing.length > 1 ? 's' : ''} ${found.missing.map((m) => `'${m}'`).join(', ')} (header: ${record.join(',')}; expected ${CSV_COLUMNS[found.closest].join(',')})`,
          file,
          line,
          column: found.missing[0],
        });
        return;
      }
      format = found.format;
      const idx = found.indices as [number, number, number, number, number, number];
      const names = record.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim().toLowerCase());
      cols = { time: idx[0], o: idx[1], h: idx[2], l: idx[3], c: idx[4], v: idx[5], vw: names.indexOf('vw'), n: names.indexOf('n') };
      return;
    }
    rows++;
    const start = parseTime(record[cols.time] ?? '');
    if (Number.isNaN(start)) {
      badRow('unparseable_time', line, CSV_COLUMNS[format as CsvFormat][0], `cannot read the time '${record[cols.time] ?? ''}'`);
      return;
    }
    const o = num(record[cols.o]);
    const h = num(record[cols.h]);
    const l = num(record[cols.l]);
    const c = num(record[cols.c]);
    const v = num(record[cols.v]);
    const vw = cols.vw >= 0 ? num(record[cols.vw]) : Number.NaN;
    const n = cols.n >= 0 ? num(record[cols.n]) : -1;
    const names = CSV_COLUMNS[format as CsvFormat];
    if (Number.isNaN(o) || Number.isNaN(h) || Number.isNaN(l) || Number.isNaN(c) || Number.isNaN(v)) {
      const k = [o, h, l, c, v].findIndex((x) => Number.isNaN(x));
      const colIdx = [cols.o, cols.h, cols.l, cols.c, cols.v][k] as number;
      badRow('unparseable_number', line, names[k + 1], `cannot read ${names[k + 1]} '${record[colIdx] ?? ''}' as a number`);
      return;
    }
    if (start < options.from || start >= options.to) {
      filtered++;
      return;
    }
    // One scratch bar for the whole file: the rules read it, nothing keeps it.
    scratch.start = start;
    scratch.end = start + options.intervalMs;
    scratch.open = o;
    scratch.high = h;
    scratch.low = l;
    scratch.close = c;
    scratch.volume = v;
    scratch.vwap = Number.isNaN(vw) ? undefined : vw;
    scratch.tradeCount = n < 0 || Number.isNaN(n) ? undefined : n;
    const rejection = checkBar(scratch as Bar, rules);
    if (rejection !== undefined) {
      badRow(rejection.reason, line, rejection.field, rejection.message);
      return;
    }
    if (start <= lastStart) {
      if (start === lastStart) badRow('duplicate_time', line, names[0], `time ${new Date(start).toISOString()} repeats the previous row's`);
      else badRow('out_of_order', line, names[0], `time ${new Date(start).toISOString()} is before the previous row's ${new Date(lastStart).toISOString()}: rows are not reordered`);
      return;
    }
    lastStart = start;
    bars.push(start, o, h, l, c, v, vw, n < 0 || Number.isNaN(n) ? -1 : n);
    return;
  };

  try {
    // 'data' events, not for-await: records are handled synchronously as the parser emits them,
    // without a promise per record.
    await new Promise<void>((resolve, reject) => {
      input.on('error', reject);
      parser.on('error', reject);
      parser.on('end', resolve);
      parser.on('data', (record: string[]) => {
        line++;
        if (failure !== undefined) return;
        if (record.length === 1 && (record[0] as string).trim() === '') return; // a blank line
        onRecord(record);
      });
      input.pipe(parser);
    });
  } catch (error) {
    input.destroy();
    if (CsvError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && /^E[A-Z]+$/.test(code)) {
      throw new CsvError({ code: 'csv_file', message: `cannot read: ${(error as Error).message}`, file, cause: error });
    }
    // csv-parse's own errors (an unclosed quote, ...) name a line.
    const at = (error as { lines?: number }).lines;
    throw new CsvError({ code: 'csv_row', message: `malformed CSV: ${(error as Error).message}`, file, line: at, cause: error });
  }
  input.destroy();
  if (failure !== undefined) throw failure;
  if (cols === undefined) {
    throw new CsvError({ code: 'csv_column', message: 'the file is empty: no header row', file, line: 1 });
  }
  bars.trim();
  return {
    bars,
    report: { symbol, file, format, rows, loaded: bars.length, filtered, badRows: bad, badByReason, errors },
  };
}

/** Options of `readBarsFromCsv`; every field has the loader's default. */
export interface ReadBarsOptions {
  /** @default 'fail' */
  onBadRow?: 'skip' | 'fail';
  /** @default 60000 */
  intervalMs?: number;
}

/**
 * Reads one CSV file (any supported layout) into frozen `Bar`s, oldest first, with `receivedAt` set
 * to each bar's end. For tools that need a whole file at once (the synthetic generator, scripts);
 * a replay uses `MockMultiSymbolFeed`. With `onBadRow: 'fail'` (the default here) the first bad row
 * throws a `CsvError` naming the file and line.
 */
export async function readBarsFromCsv(symbol: string, path: string, options: ReadBarsOptions = {}): Promise<{ bars: Bar[]; report: FileReport }> {
  const intervalMs = options.intervalMs ?? 60_000;
  const { bars: cols, report } = await loadCsv(symbol, path, {
    onBadRow: options.onBadRow ?? 'fail',
    intervalMs,
    from: Number.NEGATIVE_INFINITY,
    to: Number.POSITIVE_INFINITY,
    maxReportedErrors: 20,
    open: defaultOpen,
  });
  const bars = new Array<Bar>(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const start = cols.start[i] as number;
    const vwap = cols.vwap[i] as number;
    const trades = cols.trades[i] as number;
    bars[i] = Object.freeze(
      makeBar(
        {
          symbol,
          start,
          open: cols.open[i] as number,
          high: cols.high[i] as number,
          low: cols.low[i] as number,
          close: cols.close[i] as number,
          volume: cols.volume[i] as number,
          vwap: Number.isNaN(vwap) ? undefined : vwap,
          tradeCount: trades < 0 ? undefined : trades,
          receivedAt: start + intervalMs,
        },
        intervalMs,
      ),
    );
  }
  return { bars, report };
}
