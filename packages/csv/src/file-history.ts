import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { FeedError, MINUTE_MS, requestTime } from '@feed/core';
import type { FileReport, LoadOptions } from './load.js';
import { loadBars } from './load.js';

/** Options of `FileHistory`. */
export interface FileHistoryOptions {
  /** Symbol to bar file (CSV in any format `@feed/csv` reads, or `.arrow`). */
  readonly files: Readonly<Record<string, string>>;
  /**
   * The Arrow cache of parsed CSV columns (see `loadBars`): a directory, or `false`.
   * @default defaultCacheDir()
   */
  readonly cache?: string | false;
  /**
   * Bar interval.
   * @default 60000
   */
  readonly intervalMs?: number;
  /** Told of each file's load (its bad rows, whether the cache served it). */
  readonly onReport?: (report: FileReport) => void;
}


/**
 * Bar files as a `HistoricalBars`: what a warm-up (`feed.warmUp({ history })`), a gap fill or a
 * reconciliation reads, from files and the Arrow cache instead of a provider's REST API. A symbol
 * without a file is absent from the answer. Each bar's `receivedAt` is its end, as in a replay.
 */
export class FileHistory implements HistoricalBars {
  readonly #o: FileHistoryOptions;

  constructor(options: FileHistoryOptions) {
    this.#o = options;
  }

  async barsBySymbol(request: HistoryRequest): Promise<Map<string, Bar[]>> {
    const interval = this.#o.intervalMs ?? MINUTE_MS;
    const from = requestTime(request.start, Number.NEGATIVE_INFINITY, 'start');
    const to = requestTime(request.end, Number.POSITIVE_INFINITY, 'end');
    const out = new Map<string, Bar[]>();
    for (const symbol of request.symbols) {
      if (request.signal?.aborted === true) throw new FeedError({ code: 'aborted', message: 'FileHistory: aborted', cause: request.signal.reason });
      const file = this.#o.files[symbol];
      if (file === undefined) continue;
      const load: LoadOptions = { from, to: to + 1, intervalMs: interval, ...(this.#o.cache === undefined ? {} : { cache: this.#o.cache }) };
      const { bars, report } = await loadBars(symbol, file, load);
      this.#o.onReport?.(report);
      const list: Bar[] = new Array<Bar>(bars.length);
      for (let i = 0; i < bars.length; i++) list[i] = bars.bar(i, symbol, interval, (bars.start[i] as number) + interval);
      out.set(symbol, list);
    }
    return out;
  }
}
