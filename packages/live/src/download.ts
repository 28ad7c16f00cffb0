import { mkdir } from 'node:fs/promises';
import type { Bar, CorporateActions, HistoricalBars, HistoryRequest, MarketCalendar, MarketSession } from '@feed/core';
import { FeedError, checkSymbols, invalidOption, nyse } from '@feed/core';
import type { BarFileFormat, FileBasis } from '@feed/csv';
import { actionFilePath, barFilePath, loadBars, writeActionsCsv, writeBarsFile, writeBasis } from '@feed/csv';

/** Options of `downloadBars`. */
export interface DownloadOptions {
  /** Symbols to download, one file each (`SYMBOL.csv` or `SYMBOL.arrow`). */
  symbols: readonly string[];
  /** First session date, `YYYY-MM-DD` (New York). */
  from: string;
  /**
   * Last session date, inclusive.
   * @default from
   */
  to?: string;
  /** Directory for the files; created when missing. */
  outDir: string;
  /**
   * `csv` (the real-data format) or `arrow` (Arrow IPC, for pandas, polars, DuckDB).
   * @default 'csv'
   */
  format?: BarFileFormat;
  /**
   * Replace an existing file even when it holds more bars of the range than the download.
   * @default false
   */
  force?: boolean;
  /**
   * Where the bars come from: any provider's history client. One with `bars()` (an async iterable
   * of pages, as Alpaca's) streams with progress; otherwise `barsBySymbol()` is used.
   */
  history: HistoricalBars & { bars?: (request: HistoryRequest) => AsyncIterable<Bar> };
  /**
   * Trading sessions and hours.
   * @default nyse
   */
  calendar?: MarketCalendar;
  /** Called after every page with how far the download is. */
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * What the bars are (provider, feed, adjustment): written beside each file (`TQQQ.basis.json`),
   * so that a replay refuses to mix them with bars of another basis.
   */
  basis?: FileBasis;
  /**
   * Where corporate actions come from: the actions of the range (and a year before, for a warm-up)
   * are written beside each file (`TQQQ.actions.csv`), so a replay has them offline.
   */
  corporateActions?: CorporateActions;
}

/** How far a download is. */
export interface DownloadProgress {
  /** Bars received so far. */
  readonly bars: number;
  /** Fraction done, 0..1 (by symbol, then by time within the range). */
  readonly fraction: number;
  readonly symbol: string;
}

/** One file a download wrote. */
export interface DownloadedFile {
  readonly symbol: string;
  readonly path: string;
  /** Bars written (regular hours only). */
  readonly bars: number;
  /** Bars received outside regular hours and not written. */
  readonly outsideHours: number;
  /** Sessions of the range with at least one bar. */
  readonly sessions: number;
}

/** What a download did. */
export interface DownloadReport {
  /** Files written. */
  readonly files: readonly DownloadedFile[];
  readonly sessions: readonly MarketSession[];
  /** Symbols the API returned no bar for in the range: no file written (an error for the CLI). */
  readonly empty: readonly string[];
  /** Existing files kept because they hold more bars of the range than the download (without `force`). */
  readonly kept: readonly { readonly symbol: string; readonly path: string; readonly existing: number; readonly downloaded: number }[];
  /** Corporate actions written beside the files (with `corporateActions`). */
  readonly actions: number;
  /** Why the corporate actions could not be read (the bars were written; no actions file). */
  readonly actionsError?: FeedError;
}

/**
 * Downloads minute bars for `symbols` over the sessions from `from` to `to` and writes one CSV per
 * symbol in the real-data format (`ts_utc,ts_nyt_epoch,open,high,low,close,volume`), regular hours
 * only: bars starting from the open to the close inclusive (the closing-auction bar), 391 on a full
 * day, as in the shared real files.
 */
export async function downloadBars(options: DownloadOptions): Promise<DownloadReport> {
  const calendar = options.calendar ?? nyse;
  const to = options.to ?? options.from;
  const sessions = calendar.sessionsBetween(options.from, to);
  if (options.symbols.length === 0) {
    throw invalidOption('symbols', 'must not be empty', 'no symbols to download');
  }
  // A file name is only ever built from a checked symbol, and stays inside outDir.
  checkSymbols(options.symbols, 'downloadBars symbols');
  if (sessions.length === 0) {
    throw invalidOption('from', 'the range holds no NYSE session', `no trading session between ${options.from} and ${to}`);
  }
  const first = sessions[0] as MarketSession;
  const last = sessions[sessions.length - 1] as MarketSession;
  const history = options.history;
  const start = first.open;
  const end = last.close;
  const symbols = [...new Set(options.symbols)];
  const bySymbol = new Map<string, Bar[]>(symbols.map((s) => [s, []]));
  const outside = new Map<string, number>(symbols.map((s) => [s, 0]));
  const order = [...symbols].sort();
  let count = 0;
  const take = (b: Bar): void => {
    const list = bySymbol.get(b.symbol);
    if (list === undefined) return;
    // Regular hours, with the closing-auction bar, as in the shared real files.
    if (calendar.sessionOfBar(b.start) === undefined) {
      outside.set(b.symbol, (outside.get(b.symbol) ?? 0) + 1);
      return;
    }
    list.push(b);
  };
  if (history.bars !== undefined) {
    // Page by page, with progress: Alpaca sends a multi-symbol range by symbol, then time.
    let pageMark = 0;
    for await (const b of history.bars({ symbols, start, end })) {
      take(b);
      count++;
      if (count - pageMark >= 1000) {
        pageMark = count;
        const i = order.indexOf(b.symbol);
        options.onProgress?.({ bars: count, symbol: b.symbol, fraction: Math.min(1, (i + (b.start - start) / Math.max(1, end - start)) / order.length) });
      }
    }
  } else {
    for (const list of (await history.barsBySymbol({ symbols, start, end })).values()) {
      for (const b of list) take(b);
      count += list.length;
    }
  }
  await mkdir(options.outDir, { recursive: true });
  const format = options.format ?? 'csv';
  const files: DownloadedFile[] = [];
  const empty: string[] = [];
  const kept: { symbol: string; path: string; existing: number; downloaded: number }[] = [];
  for (const symbol of symbols) {
    const bars = (bySymbol.get(symbol) as Bar[]).sort((a, b) => a.start - b.start);
    const path = barFilePath(options.outDir, symbol, format);
    if (bars.length === 0) {
      empty.push(symbol);
      continue;
    }
    if (options.force !== true) {
      // Never replace a file by one with fewer bars of the same range (an API hiccup, another feed).
      const existing = await barsInRange(symbol, path, start, end, calendar);
      if (existing > bars.length) {
        kept.push({ symbol, path, existing, downloaded: bars.length });
        continue;
      }
    }
    await writeBarsFile(path, bars, format);
    if (options.basis !== undefined) await writeBasis(path, options.basis);
    const days = new Set(bars.map((b) => calendar.dateOf(b.start)));
    files.push({ symbol, path, bars: bars.length, outsideHours: outside.get(symbol) ?? 0, sessions: days.size });
  }
  options.onProgress?.({ bars: count, symbol: symbols[symbols.length - 1] as string, fraction: 1 });
  let actions = 0;
  let actionsError: FeedError | undefined;
  if (options.corporateActions !== undefined && files.length > 0) {
    const y = Number(options.from.slice(0, 4));
    try {
      const found = await options.corporateActions.actionsBySymbol({ symbols: files.map((f) => f.symbol), from: `${y - 1}${options.from.slice(4)}`, to });
      for (const f of files) {
        const list = found.get(f.symbol) ?? [];
        actions += list.length;
        await writeActionsCsv(actionFilePath(f.path), list);
      }
    } catch (error) {
      // The bars are written: a missing list of actions is said, not a failed download.
      actionsError = FeedError.isInstance(error) ? error : new FeedError({ code: 'provider', message: String(error), cause: error });
    }
  }
  return { files, sessions, empty, kept, actions, ...(actionsError === undefined ? {} : { actionsError }) };
}

/** Regular-hours bars an existing file holds in [start, end]; 0 when there is no readable file. */
async function barsInRange(symbol: string, path: string, start: number, end: number, calendar: MarketCalendar): Promise<number> {
  let loaded;
  try {
    loaded = await loadBars(symbol, path, { cache: false, from: start, to: end + 1 });
  } catch {
    return 0;
  }
  let n = 0;
  for (let i = 0; i < loaded.bars.length; i++) if (calendar.sessionOfBar(loaded.bars.start[i] as number) !== undefined) n++;
  return n;
}
