import type { Adjustment, Bar, BarEvent, Clock, CorporateAction, CorporateActionEvent, ErrorEvent, FeedStats, MarketSession, StateEvent, TradingStatus, TradingStatusEvent, WarmUpEvent, WarmUpOptions, WarmUpResult } from '@feed/core';
import { ADJUSTMENTS, AbstractBarFeed, ExDateTracker, FeedError, MINUTE_MS, invalidOption, NEW_YORK, ReplayClock, ReplayPacer, StateError, SystemClock, adjustAll, barFromValues, loadWarmUp, makeTradingStatus, warmUpShortError, nyse, parseOptions, zonedTimeToEpoch } from '@feed/core';
import { z } from 'zod';
import type { BarColumns, BarStream, FileReport, LoadOptions } from '@feed/csv';
import { FileHistory, actionFilePath, checkBases, hasActionFile, hasStatusFile, openBarStream, readActionsCsv, readStatusesCsv, statusFilePath } from '@feed/csv';
import type { MergeOptions, RowSink } from './merge-thread.js';
import { MergeLink, ROW_WIDTH, mergeWorkerEntry } from './merge-thread.js';

/** Progress of a replay, emitted each time another whole percent is done, and at the end. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly barsReplayed: number;
  readonly totalBars: number;
  /** 0-100. */
  readonly percent: number;
  /** The replay clock's time. */
  readonly currentTime: number;
}

/** The replay delivered every bar (once per pass when looping). */
export interface CompleteEvent {
  readonly type: 'complete';
  readonly barsReplayed: number;
  /** Passes completed (1 without `loop`). */
  readonly passes: number;
}

/** Every file is loaded: what each one held. */
export interface LoadedEvent {
  readonly type: 'loaded';
  readonly files: readonly FileReport[];
  readonly totalBars: number;
}

/**
 * What a replay will not deliver, said at `connect()` (after `loaded`), so that a replay of nothing
 * is never silent: `no_session` (the dates hold no NYSE session, e.g. a Saturday), `no_data` (a
 * file holds no bar in the range), `ends_early` / `starts_late` (a file's bars end before the
 * range's last session, or begin after its first: the replay is partial for that symbol).
 */
export interface WarningEvent {
  readonly type: 'warning';
  readonly code: 'no_session' | 'no_data' | 'ends_early' | 'starts_late';
  readonly message: string;
  /** The symbol concerned (none for `no_session`). */
  readonly symbol?: string;
  /** The range asked for, New York dates (`from`/`to` absent when open-ended). */
  readonly range: { readonly from?: string; readonly to?: string };
  /** The New York dates of the symbol's first and last bar in the range (`ends_early`, `starts_late`). */
  readonly data?: { readonly first: string; readonly last: string };
  /** The file. */
  readonly file?: string;
}

/** Every event of the replay feed: the common ones and its own. */
export type MockFeedEvent = BarEvent | ErrorEvent | StateEvent | TradingStatusEvent | WarmUpEvent | CorporateActionEvent | ProgressEvent | CompleteEvent | LoadedEvent | WarningEvent;

/** The replay feed's statistics. */
export interface MockFeedStats extends FeedStats {
  /** Bars loaded for replay, over all files (after the date filter). */
  readonly barsLoaded: number;
  /** Bad rows skipped while loading, over all files. */
  readonly badRows: number;
  /** `warning` events of the last `connect()` (nothing or part of the range to deliver). */
  readonly warnings: number;
  readonly passes: number;
  /** Trading statuses read from the sidecar files (in the date range), and those replayed so far. */
  readonly statusesLoaded: number;
  readonly statusesReplayed: number;
  /** Corporate actions known (files or the list given), and those announced (`corporateAction` events) so far. */
  readonly corporateActions: number;
  readonly corporateActionsAnnounced: number;
  /**
   * Bars the replay holds in memory now, and at most so far (since `connect()`): with streaming, a
   * chunk (one record batch) being replayed per symbol, whatever the range; loaded whole,
   * every bar of the range.
   */
  readonly barsHeld: number;
  readonly peakBarsHeld: number;
  /** Whether every file is streamed (read by batches); false when any is loaded whole. */
  readonly streaming: boolean;
  /** Whether the last `connect()` merges the files in a worker thread (the `thread` option, `'auto'` resolved). */
  readonly thread: boolean;
}

/** A date filter: one New York session date, or an inclusive range of dates (`YYYY-MM-DD`). */
export type DateFilter = string | { readonly from?: string | undefined; readonly to?: string | undefined };

/** Options of `MockMultiSymbolFeed`. */
export interface MockFeedOptions {
  /** Symbol to CSV path; the symbols are replayed in this order within a minute. */
  files: Readonly<Record<string, string>>;
  /**
   * Replay speed: 0 = as fast as possible (yielding to the event loop), 1 = real time, 39 = 39x.
   * @default 39
   */
  speed?: number;
  /**
   * Replay again from the start when done, shifted forward by whole weeks so time keeps increasing.
   * @default false
   */
  loop?: boolean;
  /**
   * Deliver all bars of one start together (one step, one clock move); otherwise one bar a step.
   * @default true
   */
  syncTimestamps?: boolean;
  /** Only bars of these New York dates: `'2025-10-16'`, or `{ from: '2025-10-01', to: '2025-10-16' }`. */
  dates?: DateFilter;
  /**
   * The clock the replay drives. Hand the same clock to the data manager.
   * @default new ReplayClock()
   */
  clock?: ReplayClock;
  /**
   * The clock whose timers pace the replay at speeds above 0 (wall time). Tests hand in a
   * `ManualClock` to drive a real-time replay without waiting.
   * @default new SystemClock()
   */
  pacingClock?: Clock;
  /**
   * `'skip'`: bad rows are counted, reported per file and the rest replays; `'fail'`: the first bad row rejects `connect()`.
   * @default 'skip'
   */
  onBadRow?: 'skip' | 'fail';
  /**
   * Longest gap between two timestamps that is paced in (replay) time; longer gaps (overnight,
   * weekends) count as this much, so they are not slept through.
   * @default intervalMs (one interval)
   */
  maxGapMs?: number;
  /**
   * Bar interval.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * At speed 0, yield to the event loop after this many steps.
   * @default 256
   */
  yieldEvery?: number;
  /**
   * Bad rows kept with their file and line per file (all are counted).
   * @default 20
   */
  maxReportedErrors?: number;
  /**
   * The Arrow cache of parsed CSV columns (`@feed/csv`): a directory, or `false`. The first load of a
   * CSV writes it; later loads read the columns without parsing. Arrow files (`.arrow`) are read
   * directly, with or without it. Bounded (512 MiB, least recently used out); `clearCache()` of
   * `@feed/csv` empties it; off without `apache-arrow` (an optional peer of `@feed/csv`).
   * @default defaultCacheDir() of `@feed/csv`: `FEED_CACHE_DIR`, else the platform's cache folder (`~/.cache/feed` on Linux)
   */
  cache?: string | false;
  /** Opens a file as a byte stream (injectable for tests; turns the cache off). Default: regular files only. */
  open?: LoadOptions['open'];
  /**
   * Trading statuses to replay (halts, resumptions, bands): `true` reads each file's sidecar
   * (`TQQQ.statuses.csv` beside `TQQQ.csv`) where there is one; an object names a sidecar per
   * symbol; `false` replays none. Each status is handed over (`tradingStatus`) when the replay
   * clock reaches its time, between the minutes' bars, as live.
   * @default true
   */
  statuses?: boolean | Readonly<Record<string, string>>;
  /**
   * Corporate actions (splits, dividends): `true` reads each file's actions file
   * (`TQQQ.actions.csv` beside `TQQQ.csv`) where there is one; a list gives them; `false` none.
   * @default true
   */
  corporateActions?: boolean | readonly CorporateAction[];
  /**
   * Which actions adjust the bars: `raw`, `split`, `dividend` or `all` (docs/semantics.md, "Corporate
   * actions"). The files are read raw; the adjustment is applied as they are replayed.
   * @default 'split'
   */
  adjustment?: Adjustment;
  /**
   * The date (`YYYY-MM-DD`) the bars are adjusted as of. Default: each replayed session, as live: bars
   * are replayed as traded, and each action is announced (`corporateAction`) before the first bar of
   * its ex-date, so that a data manager rebases its history then. With a date: every bar adjusted as
   * of it (actions after it are not seen; none is announced).
   */
  asOf?: string;
  /**
   * Stream the files: Arrow data (`.arrow` files, and a CSV's Arrow cache) is read one record batch at
   * a time and released once replayed, so memory is bounded by batches x symbols, not by the range
   * (`openBarStream` of `@feed/csv`). `false` loads every file whole at `connect()`, as before.
   * Files are loaded whole anyway without the cache (`cache: false`, `open`) and for an Arrow input
   * adjusted as of a date (`asOf`).
   * @default true
   */
  stream?: boolean;
  /**
   * Merge the files in a worker thread: a second core reads, stages and merges them by time (the
   * same code, the same order), and the replay's thread turns the rows into bars and hands them over
   * (README, "A second core"). For replays of many symbols: at 500 symbols the merge is about half
   * of a bar's cost. Everything else is as without it (events, statuses, corporate actions, loop,
   * pause, stop); `stats().barsHeld` also counts the rows on their way (at most a ring of 65 536 rows,
   * 4.5 MiB). `true` is refused with `open` (a function cannot cross to a thread). `'auto'`: a worker
   * thread when it pays, the replay at speed 0 of at least `AUTO_THREAD_FILES` files (100), without
   * `open`, and the worker's module beside this package's (a bundle may leave it out); one thread
   * otherwise. `stats().thread` says which.
   * @default 'auto'
   */
  thread?: boolean | 'auto';
}

/**
 * With `thread: 'auto'`, a replay at speed 0 of this many files or more merges them in a worker
 * thread (README, "A second core": at 50 symbols one thread was as fast, at 500 the thread 1.3x).
 */
export const AUTO_THREAD_FILES = 100;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const optionsSchema = z.object({
  files: z
    .record(z.string().min(1, 'symbol must not be empty'), z.string().min(1, 'path must not be empty'))
    .refine((f) => Object.keys(f).length > 0, 'must name at least one file'),
  speed: z.number().min(0, 'must be >= 0').default(39),
  loop: z.boolean().default(false),
  syncTimestamps: z.boolean().default(true),
  dates: z
    .union([
      z.string().regex(DATE, 'must be YYYY-MM-DD'),
      z.object({ from: z.string().regex(DATE, 'must be YYYY-MM-DD').optional(), to: z.string().regex(DATE, 'must be YYYY-MM-DD').optional() }),
    ])
    .optional(),
  onBadRow: z.enum(['skip', 'fail']).default('skip'),
  maxGapMs: z.number().min(0, 'must be >= 0').optional(),
  intervalMs: z.number().int().positive('must be > 0').default(MINUTE_MS),
  yieldEvery: z.number().int().min(1, 'must be >= 1').default(256),
  maxReportedErrors: z.number().int().min(0).default(20),
  stream: z.boolean().default(true),
  thread: z.union([z.boolean(), z.literal('auto')]).default('auto'),
});

function midnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedTimeToEpoch(NEW_YORK, y, m, d);
}

function dateRange(filter: DateFilter | undefined): [number, number] {
  if (filter === undefined) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const from = typeof filter === 'string' ? filter : filter.from;
  const to = typeof filter === 'string' ? filter : filter.to;
  const lo = from === undefined ? Number.NEGATIVE_INFINITY : midnight(from);
  // The end is the next New York midnight: 23 or 25 hours away on DST days, so add a day by date.
  let hi = Number.POSITIVE_INFINITY;
  if (to !== undefined) {
    const [y, m, d] = to.split('-').map(Number) as [number, number, number];
    const next = new Date(Date.UTC(y, m - 1, d + 1));
    hi = zonedTimeToEpoch(NEW_YORK, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  }
  return [lo, hi];
}

/** The NYSE sessions of a range, or undefined where the calendar has no rules (a replay of other data still runs). */
function sessionsOrUndefined(from: string, to: string): readonly MarketSession[] | undefined {
  try {
    return nyse.sessionsBetween(from, to);
  } catch {
    return undefined;
  }
}

/** The warnings of a replay's coverage (see `WarningEvent`): sessions from the NYSE calendar. */
function coverageWarnings(filter: DateFilter | undefined, files: readonly [string, string][], data: readonly Pick<BarStream, 'length' | 'first' | 'last'>[]): WarningEvent[] {
  const from = typeof filter === 'string' ? filter : filter?.from;
  const to = typeof filter === 'string' ? filter : filter?.to;
  const range = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
  const span = from === undefined && to === undefined ? 'the files' : from === to ? (from as string) : `${from ?? '...'}..${to ?? '...'}`;
  const out: WarningEvent[] = [];
  const total = data.reduce((a, d) => a + d.length, 0);
  const sessions = from !== undefined && to !== undefined ? sessionsOrUndefined(from, to) : undefined;
  if (sessions !== undefined && sessions.length === 0 && total === 0) {
    const holiday = from === to ? nyse.holidayName(from as string) : undefined;
    out.push({ type: 'warning', code: 'no_session', range, message: `no NYSE session in ${span}${holiday === undefined ? (from === to ? ' (a weekend)' : '') : ` (${holiday})`}: nothing to replay` });
  }
  for (let i = 0; i < files.length; i++) {
    const [symbol, file] = files[i] as [string, string];
    const d = data[i] as Pick<BarStream, 'length' | 'first' | 'last'>;
    if (d.length === 0) {
      if (out[0]?.code !== 'no_session') out.push({ type: 'warning', code: 'no_data', symbol, file, range, message: `${symbol}: ${file} holds no bar in ${span}` });
      continue;
    }
    if (sessions === undefined || sessions.length === 0) continue;
    const first = nyse.dateOf(d.first as number);
    const last = nyse.dateOf(d.last as number);
    const firstSession = (sessions[0] as MarketSession).date;
    const lastSession = (sessions[sessions.length - 1] as MarketSession).date;
    if (last < lastSession) out.push({ type: 'warning', code: 'ends_early', symbol, file, range, data: { first, last }, message: `${symbol}: ${file} ends on ${last}, before the last session of ${span} (${lastSession}): its replay is partial` });
    if (first > firstSession) out.push({ type: 'warning', code: 'starts_late', symbol, file, range, data: { first, last }, message: `${symbol}: ${file} begins on ${first}, after the first session of ${span} (${firstSession}): its replay is partial` });
  }
  return out;
}

const WEEK_MS = 7 * 24 * 3_600_000;

let setRowSink: (feed: MockMultiSymbolFeed, sink: RowSink) => void;
/** Makes `feed` write each step's rows into `sink` instead of making and handing over bars (the merge thread's feed). */
export function attachRowSink(feed: MockMultiSymbolFeed, sink: RowSink): void {
  setRowSink(feed, sink);
}

/**
 * A symbol's next rows as the replay reads them: up to `STAGE_ROWS` rows of 8 numbers a bar (start,
 * open, high, low, close, volume, vwap or NaN, trades or -1), copied from its batch's columns a few
 * at a time. A replay of many symbols reads one bar of each in turn: from the columns themselves
 * that was six to eight memory streams a symbol, which the caches and the TLB could not hold at 500
 * symbols; a whole batch copied to rows was a second copy of every batch (128 KiB a symbol, read
 * long after it was written). Staged a few rows at a time, the columns are read in short sequential
 * runs, and every symbol's staged rows stay cache-sized (3-5 % faster at 500 and 5 000 symbols).
 */
class RowChunk {
  readonly rows = new Float64Array(STAGE_ROWS * ROW);
  /** Rows staged. */
  length = 0;
  /** The batch's columns (undefined when none), and its next row to stage. */
  private columns: BarColumns | undefined;
  private next = 0;

  /** Rows of the batch, staged or not. */
  get batchLength(): number {
    return this.columns?.length ?? 0;
  }

  /** Takes a batch (or lets it go, with `undefined`) and stages its first rows. */
  take(c: BarColumns | undefined): void {
    this.columns = c;
    this.next = 0;
    this.stage();
  }

  /** Stages the batch's next rows over the staged ones; false (nothing staged) when the batch is used up. */
  stage(): boolean {
    const c = this.columns;
    const from = this.next;
    const n = c === undefined ? 0 : Math.min(STAGE_ROWS, c.length - from);
    this.length = n > 0 ? n : 0;
    if (c === undefined || n <= 0) return false;
    this.next = from + n;
    const rows = this.rows;
    const { start, open, high, low, close, volume, vwap, trades } = c;
    for (let i = from, k = 0; i < from + n; i++, k += ROW) {
      rows[k] = start[i] as number;
      rows[k + 1] = open[i] as number;
      rows[k + 2] = high[i] as number;
      rows[k + 3] = low[i] as number;
      rows[k + 4] = close[i] as number;
      rows[k + 5] = volume[i] as number;
      rows[k + 6] = vwap === undefined ? Number.NaN : (vwap[i] as number);
      rows[k + 7] = trades === undefined ? -1 : (trades[i] as number);
    }
    return true;
  }
}
const ROW = 8;
/** Rows staged at once per symbol (see `RowChunk`): 2 KiB. */
const STAGE_ROWS = 32;
/** Files opened at once by `connect()`. */
const OPEN_CONCURRENCY = 8;

/**
 * Replays one CSV file per symbol as a `BarFeed`, synchronized by timestamp, at a chosen speed, so
 * that a strategy tested on replay runs unchanged live (semantics.md, "Replay").
 */
export class MockMultiSymbolFeed extends AbstractBarFeed<ProgressEvent | CompleteEvent | LoadedEvent | WarningEvent> {
  readonly type = 'mock';
  override readonly clock: ReplayClock;
  private readonly opts: z.infer<typeof optionsSchema> & {
    open: LoadOptions['open'];
    cache: string | false | undefined;
    maxGapMs: number;
    statuses: boolean | Readonly<Record<string, string>>;
    corporateActions: boolean | readonly CorporateAction[];
    adjustment: Adjustment;
    asOf: string | undefined;
  };
  /** The corporate actions known, and which are due before the bars to come (announced as replayed). */
  private actions: CorporateAction[] = [];
  private tracker: ExDateTracker;
  private announced = 0;
  /** Per symbol: its stream and the chunk being replayed. */
  private streams: BarStream[] = [];
  private chunks: RowChunk[] = [];
  /** Symbols by their next start (then their order), over the chunk heads: a binary heap. */
  private heap: Int32Array = new Int32Array(0);
  private heapKeys: Float64Array = new Float64Array(0);
  private heapSize = 0;
  /** Symbols (in the files' order) whose head starts at `runStart`, outside the heap: their last bar was one interval before. */
  private run: Int32Array = new Int32Array(0);
  private nextRun: Int32Array = new Int32Array(0);
  private runLen = 0;
  private runStart = Number.NaN;
  /** Symbols whose chunk is used up, to be refilled before the next step. */
  private refill: number[] = [];
  private primed = false;
  private held = 0;
  private peakHeld = 0;
  private reports: FileReport[] = [];
  private totalBars = 0;
  private warningCount = 0;
  private readonly warningList: WarningEvent[] = [];
  /** Next row per symbol. */
  private cursor: Int32Array = new Int32Array(0);
  private replayed = 0;
  private passes = 0;
  /** Added to every start: whole weeks, one span per completed loop pass. */
  private shift = 0;
  private lastPercent = -1;
  private running = false;
  private paused = false;
  private wakePaused: (() => void) | undefined;
  private loopPromise: Promise<void> | undefined;
  /** The pacing every replay shares (`@feed/core`'s `ReplayPacer`, as `NatsBarFeed`'s replay). */
  private readonly pacer: ReplayPacer;
  private doneWaiters: (() => void)[] = [];
  private failure: FeedError | undefined;
  /** The statuses of the range, in time order, and the next to hand over. */
  private statusList: TradingStatus[] = [];
  private statusCursor = 0;
  private statusesReplayed = 0;
  private warmedUp = false;
  /** In a merge thread: where each step's rows go instead of becoming bars (`attachRowSink`). */
  private rowSink: RowSink | undefined;
  /** Whether the last `connect()` merges in a worker thread (`stats().thread`). */
  private threaded = false;
  /** With `thread`: the merge thread, from `connect()` to `disconnect()`. */
  private merger: MergeLink | undefined;

  static {
    setRowSink = (feed, sink) => {
      feed.rowSink = sink;
    };
  }

  constructor(options: MockFeedOptions) {
    const parsed = parseOptions(optionsSchema, options, 'MockMultiSymbolFeed options', '', ['clock', 'pacingClock', 'cache', 'open', 'statuses', 'corporateActions', 'adjustment', 'asOf']);
    const st = options.statuses;
    if (st !== undefined && typeof st !== 'boolean' && (typeof st !== 'object' || st === null || Object.values(st).some((p) => typeof p !== 'string'))) {
      throw invalidOption('statuses', 'must be true, false, or an object of symbol to sidecar path');
    }
    const ca = options.corporateActions;
    if (ca !== undefined && typeof ca !== 'boolean' && !Array.isArray(ca)) throw invalidOption('corporateActions', 'must be true, false, or a list of corporate actions');
    if (options.adjustment !== undefined && !ADJUSTMENTS.includes(options.adjustment)) throw invalidOption('adjustment', `must be one of ${ADJUSTMENTS.join(', ')}`);
    if (options.asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.asOf)) throw invalidOption('asOf', 'must be YYYY-MM-DD');
    if (options.thread === true && options.open !== undefined) throw invalidOption('thread', 'cannot be used with `open`: a function cannot cross to a worker thread');
    const clock = options.clock ?? new ReplayClock();
    super(Object.keys(parsed.files), clock);
    this.clock = clock;
    this.opts = { ...parsed, open: options.open, cache: options.cache, maxGapMs: parsed.maxGapMs ?? parsed.intervalMs, statuses: options.statuses ?? true, corporateActions: options.corporateActions ?? true, adjustment: options.adjustment ?? 'split', asOf: options.asOf };
    this.tracker = new ExDateTracker(this.opts.adjustment);
    this.pacer = new ReplayPacer({ speed: this.opts.speed, maxGapMs: this.opts.maxGapMs, yieldEvery: this.opts.yieldEvery, pacingClock: options.pacingClock ?? new SystemClock() });
  }

  /** The `warning` events of the last `connect()`: what the replay will not deliver. */
  warnings(): readonly WarningEvent[] {
    return this.warningList;
  }

  /** What each file held: rows, bars loaded, bad rows by reason with their lines. */
  fileReports(): readonly FileReport[] {
    return this.reports;
  }

  override stats(): MockFeedStats {
    return {
      ...super.stats(),
      barsLoaded: this.totalBars,
      badRows: this.reports.reduce((a, r) => a + r.badRows, 0),
      warnings: this.warningCount,
      passes: this.passes,
      statusesLoaded: this.statusList.length,
      statusesReplayed: this.statusesReplayed,
      corporateActions: this.actions.length,
      corporateActionsAnnounced: this.announced,
      barsHeld: this.merger === undefined ? this.held : this.merger.held,
      peakBarsHeld: this.merger === undefined ? this.peakHeld : this.merger.peakHeld,
      streaming: this.streams.length > 0 && this.streams.every((st) => st.mode === 'batches'),
      thread: this.threaded,
    };
  }

  /**
   * Warms a data manager up from the bars before the replayed range (docs/semantics.md, "Warm-up"):
   * the newest `bars` regular-hours bars per symbol (or the last `minutes`) before the first bar
   * the replay will deliver, from the same files (without the `dates` filter, through the Arrow
   * cache) or from `history`, emitted as one `warmup` event. The same call as on a live feed; call it
   * after `connect()` and before `start()`.
   */
  async warmUp(options: WarmUpOptions): Promise<WarmUpResult> {
    if (this.state !== 'connected' || this.warmedUp) {
      throw new StateError({ operation: this.warmedUp ? 'warmUp (a second time)' : 'warmUp', state: this.state, allowed: ['connected'] });
    }
    this.warmedUp = true;
    const first = this.firstStart();
    if (first === undefined) throw new FeedError({ code: 'invalid_state', message: 'warmUp: the replay has no bar, so it has no "before"' });
    const history = options.history ?? new FileHistory({ files: this.opts.files, intervalMs: this.opts.intervalMs, ...(this.opts.cache === undefined ? {} : { cache: this.opts.cache }) });
    const { bars, result } = await loadWarmUp(history, {
      symbols: this.symbols,
      last: first - this.opts.intervalMs,
      calendar: nyse,
      ...(options.bars === undefined ? {} : { bars: options.bars }),
      ...(options.minutes === undefined ? {} : { minutes: options.minutes }),
      ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    // Adjusted as of the date of its newest bar (or `asOf`): later actions are announced before the
    // first bar of their ex-date, as in a replay without a warm-up.
    const newest = bars.length > 0 ? (bars[bars.length - 1] as Bar).start : result.to;
    const asOf = this.opts.asOf ?? nyse.dateOf(newest);
    const adjusted = adjustAll(bars, this.actions, { adjustment: this.opts.adjustment, asOf }).bars;
    for (const s of this.symbols) this.tracker.seen(s, newest);
    this.emitter.emit({ type: 'warmup', bars: adjusted, ...result });
    const short = warmUpShortError(result, 'before the replayed range');
    if (short !== undefined) this.reportError(short);
    return result;
  }

  /**
   * Resolves when the replay completes (without `loop`) or stops; rejects with the `listener` error
   * when a listener (a clock tick, `bar` or `progress` listener) threw and ended the replay, and with
   * the merge thread's error when that thread (`thread: true`) died (also an `error` event).
   */
  whenDone(): Promise<void> {
    if (!this.running && this.loopPromise === undefined) return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.doneWaiters.push(() => (this.failure === undefined ? resolve() : reject(this.failure))));
  }

  /**
   * A listener that throws ends the replay cleanly: the error is emitted (code `listener`), the
   * replay stops at the next step, `whenDone()` rejects with it and `stop()` resolves.
   */
  protected override reportError(error: FeedError): void {
    super.reportError(error);
    if (error.code === 'listener' && this.running) {
      this.failure ??= error;
      this.halt();
    }
  }

  private halt(): void {
    this.running = false;
    this.pacer.cancel();
    this.merger?.wake();
    // A paused replay wakes to see that it stopped (pause() stays in force for a restart).
    const wake = this.wakePaused;
    this.wakePaused = undefined;
    wake?.();
  }

  protected async doConnect(): Promise<void> {
    // Raw and adjusted bars, or two feeds' bars, never mixed silently (the files' basis records).
    checkBases(this.opts.files, this.opts.adjustment);
    const [from, to] = dateRange(this.opts.dates);
    const load: LoadOptions = {
      onBadRow: this.opts.onBadRow,
      intervalMs: this.opts.intervalMs,
      from,
      to,
      maxReportedErrors: this.opts.maxReportedErrors,
      ...(this.opts.open === undefined ? {} : { open: this.opts.open }),
      ...(this.opts.cache === undefined ? {} : { cache: this.opts.cache }),
    };
    // One file after the other: parsing is CPU-bound on one thread, and interleaving six streams only
    // keeps more data alive at once (measured: slower).
    await this.loadActions();
    // With a fixed as-of date, every bar is adjusted as of it: the adjusted columns have their own
    // cache file, keyed by the actions' digest (the raw columns' is kept as it is).
    const asOf = this.opts.asOf;
    const adjust = asOf === undefined || this.opts.adjustment === 'raw' ? {} : { adjust: { actions: this.actions, adjustment: this.opts.adjustment, asOf } };
    await this.closeStreams();
    await this.closeMerger();
    // With `thread`, the merge thread opens the same files meanwhile (a CSV's cache is written through
    // a rename: two writers of it waste work, never leave half a file). Its failure is awaited below.
    this.threaded = this.useThread();
    const merging = this.threaded ? this.startMerger() : undefined;
    merging?.catch(() => undefined);
    // Opened, not loaded: each stream knows its range's rows, first and last bar from the files' batch index.
    // A few at a time: opening is mostly waiting (a file's footer, its first batch), and a universe
    // of files opened one after the other waits for each in turn.
    const entries = Object.entries(this.opts.files);
    const streams: (BarStream | undefined)[] = new Array<BarStream | undefined>(entries.length).fill(undefined);
    let failure: Error | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < entries.length) {
        const k = next++;
        const [symbol, file] = entries[k] as [string, string];
        try {
          streams[k] = await openBarStream(symbol, file, { ...load, ...adjust, stream: this.opts.stream });
        } catch (error) {
          failure ??= error instanceof Error ? error : new FeedError({ code: 'csv_file', message: `${file}: ${String(error)}`, cause: error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, entries.length) }, worker));
    if (failure !== undefined) {
      for (const st of streams) await st?.close();
      await merging?.then((m) => m.close(), () => undefined);
      throw failure;
    }
    this.streams = streams as BarStream[];
    this.reports = this.streams.map((st) => st.report);
    this.totalBars = this.streams.reduce((a, st) => a + st.length, 0);
    this.resetCursors();
    this.held = 0;
    this.peakHeld = 0;
    for (const r of this.reports) for (const e of r.errors) this.reportError(e);
    this.emitter.emit({ type: 'loaded', files: this.reports, totalBars: this.totalBars });
    this.warningList.length = 0;
    for (const w of coverageWarnings(this.opts.dates, Object.entries(this.opts.files), this.streams)) {
      this.warningList.push(w);
      this.emitter.emit(w);
    }
    this.warningCount = this.warningList.length;
    await this.loadStatuses(from, to);
    // With `thread`, the merge thread's files are open once it says so; else the first chunk of each
    // symbol is read here, so that `start()` delivers at once.
    if (merging !== undefined) {
      try {
        this.merger = await merging;
      } catch (error) {
        await this.closeStreams();
        throw error;
      }
    } else await this.prime();
    const first = this.firstStart();
    if (first !== undefined && this.clock.now() < first) this.clock.advanceTo(first);
  }

  /** The corporate actions: the list given, or each file's actions file; a bad line is reported (file and line) and skipped. */
  private async loadActions(): Promise<void> {
    const given = this.opts.corporateActions;
    const all: CorporateAction[] = [];
    if (Array.isArray(given)) all.push(...(given as readonly CorporateAction[]));
    else if (given === true) {
      for (const [symbol, file] of Object.entries(this.opts.files)) {
        if (!hasActionFile(file)) continue;
        const { actions, errors } = await readActionsCsv(actionFilePath(file));
        for (const e of errors) this.reportError(e);
        for (const a of actions) if (a.symbol === symbol) all.push(a);
      }
    }
    this.actions = all.filter((a) => this.symbols.includes(a.symbol));
    this.tracker = new ExDateTracker(this.opts.adjustment);
    this.announced = 0;
    // Announced as replayed only when the bars are replayed as traded (no fixed as-of date).
    if (this.opts.asOf === undefined) this.tracker.add(this.actions);
  }

  /** Reads the status sidecars of the range; a bad line is reported (file and line) and skipped. */
  private async loadStatuses(from: number, to: number): Promise<void> {
    this.statusList = [];
    this.statusCursor = 0;
    const wanted = this.opts.statuses;
    if (wanted === false) return;
    for (const [symbol, file] of Object.entries(this.opts.files)) {
      const path = typeof wanted === 'object' ? wanted[symbol] : hasStatusFile(file) ? statusFilePath(file) : undefined;
      if (path === undefined) continue;
      const { statuses, errors } = await readStatusesCsv(path);
      for (const e of errors) this.reportError(e);
      // A sidecar belongs to its file: its statuses are the file's symbol's.
      for (const st of statuses) if (st.at >= from && st.at < to) this.statusList.push(st.symbol === symbol ? st : makeTradingStatus({ ...st, symbol }));
    }
    this.statusList.sort((a, b) => a.at - b.at);
  }

  /** Hands over every status due before `until` (replay time, shifted), each when the clock reaches it. */
  private deliverStatuses(until: number): void {
    const list = this.statusList;
    while (this.statusCursor < list.length) {
      const st = list[this.statusCursor] as TradingStatus;
      const at = st.at + this.shift;
      if (at >= until) return;
      this.statusCursor++;
      if (at > this.clock.now()) this.clock.advanceTo(at);
      this.statusesReplayed++;
      this.emitter.emit({ type: 'tradingStatus', status: this.shift === 0 && st.receivedAt === at ? st : makeTradingStatus({ ...st, at, receivedAt: this.clock.now() }) });
    }
  }

  private firstStart(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    for (const st of this.streams) if (st.first !== undefined && st.first < min) min = st.first;
    return min === Number.POSITIVE_INFINITY ? undefined : min;
  }

  protected doStart(): Promise<void> {
    this.running = true;
    this.failure = undefined;
    this.loopPromise = this.replay().finally(() => {
      this.loopPromise = undefined;
      const waiters = this.doneWaiters;
      this.doneWaiters = [];
      for (const w of waiters) w();
    });
    return Promise.resolve();
  }

  protected async doStop(): Promise<void> {
    this.halt();
    await this.loopPromise;
  }

  protected async doDisconnect(): Promise<void> {
    await this.closeMerger();
    await this.closeStreams();
  }

  /** Whether this `connect()` merges in a worker thread: the `thread` option, `'auto'` resolved (see its doc). */
  private useThread(): boolean {
    const o = this.opts;
    if (o.thread !== 'auto') return o.thread;
    return o.open === undefined && o.speed === 0 && Object.keys(o.files).length >= AUTO_THREAD_FILES && mergeWorkerEntry() !== undefined;
  }

  /** Starts the merge thread (`thread`) on the replay's files and options. */
  private startMerger(): Promise<MergeLink> {
    const o = this.opts;
    const options: MergeOptions = {
      files: o.files,
      intervalMs: o.intervalMs,
      onBadRow: o.onBadRow,
      maxReportedErrors: o.maxReportedErrors,
      stream: o.stream,
      syncTimestamps: o.syncTimestamps,
      loop: o.loop,
      corporateActions: o.corporateActions,
      adjustment: o.adjustment,
      ...(o.dates === undefined ? {} : { dates: o.dates }),
      ...(o.cache === undefined ? {} : { cache: o.cache }),
      ...(o.asOf === undefined ? {} : { asOf: o.asOf }),
    };
    return MergeLink.start(options, Object.keys(o.files).length, (error) => this.reportError(error));
  }

  private async closeMerger(): Promise<void> {
    const m = this.merger;
    this.merger = undefined;
    await m?.close();
  }

  private async closeStreams(): Promise<void> {
    const streams = this.streams;
    this.streams = [];
    this.resetCursors();
    this.held = 0;
    await Promise.all(streams.map((st) => st.close()));
  }

  private resetCursors(): void {
    const n = this.streams.length;
    this.chunks = Array.from({ length: n }, () => new RowChunk());
    this.cursor = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.heapKeys = new Float64Array(n);
    this.heapSize = 0;
    this.run = new Int32Array(n);
    this.nextRun = new Int32Array(n);
    this.runLen = 0;
    this.runStart = Number.NaN;
    this.refill = [];
    this.primed = false;
  }

  /**
   * Reads symbol `i`'s next batch and stages its first rows (the used-up batch is let go first: at
   * most one batch a symbol is held); false when the symbol is done. A batch that cannot be read (a
   * file changed under the replay) is reported and ends that symbol. A batch is one synchronous read
   * (`@feed/csv`), so nothing is gained by reading ahead, and memory is halved.
   */
  private async takeChunk(i: number): Promise<boolean> {
    const st = this.streams[i] as BarStream;
    const chunk = this.chunks[i] as RowChunk;
    this.held -= chunk.batchLength;
    chunk.take(undefined);
    let next: BarColumns | undefined;
    try {
      next = await st.next();
    } catch (error) {
      this.reportError(FeedError.isInstance(error) ? error : new FeedError({ code: 'csv_file', message: `${st.file}: ${String(error)}`, cause: error }));
      next = undefined;
    }
    if (next === undefined || next.length === 0) return false;
    chunk.take(next);
    this.held += next.length;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
    this.cursor[i] = 0;
    this.heapPush(i);
    return true;
  }

  /** The first chunk of every symbol. */
  private async prime(): Promise<void> {
    this.primed = true;
    for (let i = 0; i < this.streams.length; i++) await this.takeChunk(i);
  }

  /** Refills the symbols whose chunk ran out in the last step. */
  private async refillChunks(): Promise<void> {
    const list = this.refill;
    this.refill = [];
    for (const i of list) await this.takeChunk(i);
  }

  /** Symbol `i`'s next start (its chunk's head). */
  private headOf(i: number): number {
    return (this.chunks[i] as RowChunk).rows[(this.cursor[i] as number) * ROW] as number;
  }

  /**
   * Adds symbol `i` at its head. The heap keeps each entry's start beside it (`heapKeys`), so a
   * comparison reads two arrays, not two symbols' chunks: by start, then by the files' order.
   */
  private heapPush(i: number): void {
    const h = this.heap;
    const keys = this.heapKeys;
    const key = this.headOf(i);
    let k = this.heapSize++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const pk = keys[parent] as number;
      if (!(key < pk || (key === pk && i < (h[parent] as number)))) break;
      h[k] = h[parent] as number;
      keys[k] = pk;
      k = parent;
    }
    h[k] = i;
    keys[k] = key;
  }

  /** Puts the top back where its (new) head belongs, or removes it with `remove`. */
  private heapFix(remove: boolean): void {
    const h = this.heap;
    const keys = this.heapKeys;
    let n = this.heapSize;
    let i = h[0] as number;
    let key: number;
    if (remove) {
      n = --this.heapSize;
      if (n === 0) return;
      i = h[n] as number;
      key = keys[n] as number;
    } else key = this.headOf(i);
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n) {
        const lk = keys[l] as number;
        const rk = keys[r] as number;
        if (rk < lk || (rk === lk && (h[r] as number) < (h[l] as number))) c = r;
      }
      const ck = keys[c] as number;
      const child = h[c] as number;
      if (!(ck < key || (ck === key && child < i))) break;
      h[k] = child;
      keys[k] = ck;
      k = c;
    }
    h[k] = i;
    keys[k] = key;
  }

  /** The smallest next start over all symbols, or undefined when every file is done (chunks refilled first). */
  private nextStart(): number | undefined {
    const run = this.runLen > 0 ? this.runStart : Number.POSITIVE_INFINITY;
    if (this.heapSize === 0) return this.runLen > 0 ? run : undefined;
    const top = this.heapKeys[0] as number;
    return top < run ? top : run;
  }

  private barAt(i: number, row: number): Bar {
    const r = (this.chunks[i] as RowChunk).rows;
    const k = row * ROW;
    return barFromValues(
      this.symbols[i] as string,
      (r[k] as number) + this.shift,
      this.opts.intervalMs,
      r[k + 1] as number,
      r[k + 2] as number,
      r[k + 3] as number,
      r[k + 4] as number,
      r[k + 5] as number,
      r[k + 6] as number,
      r[k + 7] as number,
      this.clock.now(),
    );
  }

  /**
   * One step: the bars of the next start (all symbols with `syncTimestamps`, else the first symbol
   * in order). The clock moves to their end first, then they are delivered: a bar is handed over only
   * once it is complete, as live, where a minute's bar arrives after the minute.
   */
  private step(start: number): void {
    const interval = this.opts.intervalMs;
    // Statuses of the minute (and before) come first, at their own time, as live: before the minute's bars.
    if (this.statusCursor < this.statusList.length) this.deliverStatuses(start + this.shift + interval);
    this.clock.advanceTo(start + this.shift + interval);
    if (!this.opts.syncTimestamps) {
      // One bar a step: the heap's first.
      const i = this.heap[0] as number;
      const d = this.chunks[i] as RowChunk;
      const c = this.cursor[i] as number;
      // The bar is made (or the row written) before the next rows are staged over its row.
      const sink = this.rowSink;
      const bar = sink === undefined ? this.barAt(i, c) : undefined;
      if (sink !== undefined) sink.row(i, d.rows, c * ROW, this.shift);
      this.cursor[i] = c + 1;
      if (c + 1 < d.length) this.heapFix(false);
      else if (d.stage()) {
        this.cursor[i] = 0;
        this.heapFix(false);
      } else {
        this.heapFix(true);
        this.refill.push(i);
      }
      this.replayed++;
      if (bar === undefined) (sink as RowSink).endStep(this.held, this.peakHeld);
      else {
        if (!this.tracker.empty) this.announce(this.symbols[i] as string, start + this.shift);
        this.deliver(bar, i);
      }
      this.progress();
      return;
    }
    // The symbols of this start in the files' order: the run (symbols whose last bar was one interval
    // before, kept in order without the heap: the common case costs no heap work) merged with the
    // heap's (after a gap, a new chunk, a session's first minute).
    const consumesRun = this.runLen > 0 && this.runStart === start;
    const run = this.run;
    const runLen = consumesRun ? this.runLen : 0;
    // Delivered symbols whose next bar follows at once form the next run, unless an older run is still waiting.
    const makesRun = consumesRun || this.runLen === 0;
    const next = this.nextRun;
    let nextLen = 0;
    const follow = start + interval;
    const chunks = this.chunks;
    const cursor = this.cursor;
    const sink = this.rowSink;
    let r = 0;
    for (;;) {
      const h = this.heapSize > 0 && this.heapKeys[0] === start ? (this.heap[0] as number) : -1;
      const q = r < runLen ? (run[r] as number) : -1;
      let i: number;
      if (q >= 0 && (h < 0 || q < h)) {
        i = q;
        r++;
      } else if (h >= 0) {
        i = h;
        this.heapFix(true);
      } else break;
      const d = chunks[i] as RowChunk;
      const c = cursor[i] as number;
      // The bar is made (or the row written) before the next rows are staged over its row.
      if (sink !== undefined) sink.row(i, d.rows, c * ROW, this.shift);
      const bar = sink === undefined ? this.barAt(i, c) : undefined;
      let head = c + 1;
      if (head >= d.length && d.stage()) head = 0;
      cursor[i] = head;
      if (head >= d.length) this.refill.push(i);
      else if (makesRun && d.rows[head * ROW] === follow) next[nextLen++] = i;
      else this.heapPush(i);
      this.replayed++;
      if (bar === undefined) continue;
      if (!this.tracker.empty) this.announce(this.symbols[i] as string, start + this.shift);
      this.deliver(bar, i);
    }
    if (sink !== undefined) sink.endStep(this.held, this.peakHeld);
    if (makesRun) {
      this.nextRun = run;
      this.run = next;
      this.runLen = nextLen;
      this.runStart = follow;
    }
    this.progress();
  }

  /** The corporate actions due before a bar of `symbol` starting at `start`: announced first. */
  private announce(symbol: string, start: number): void {
    const due = this.tracker.due(symbol, start);
    if (due === undefined) return;
    for (const action of due) {
      this.announced++;
      this.emitter.emit({ type: 'corporateAction', action, late: false });
    }
  }

  private progress(): void {
    const total = this.totalBars * Math.max(1, this.passes + 1);
    const pass = this.replayed - this.totalBars * this.passes;
    const percent = this.totalBars === 0 ? 100 : Math.floor((pass / this.totalBars) * 100);
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.emitter.emit({ type: 'progress', barsReplayed: this.replayed, totalBars: total, percent, currentTime: this.clock.now() });
  }

  /** Waits `ms` on the pacing clock; `stop()` ends the wait at once. */
  private async replay(): Promise<void> {
    const merger = this.merger;
    merger?.hold(true);
    try {
      await this.replayLoop();
    } catch (error) {
      // Only listeners run inside a step: a clock tick listener's throw comes through the clock.
      this.reportError(
        FeedError.isInstance(error) && error.code === 'listener'
          ? error
          : new FeedError({ code: 'listener', message: `a clock tick listener threw during the replay: ${String(error)}`, cause: error }),
      );
    }
    if (this.failure !== undefined && this.state === 'streaming') this.setState('stopped');
    merger?.hold(false);
  }

  /**
   * Holds the replay before its next minute until `resume()` (a consumer that cannot keep up, such as
   * a publisher waiting for acknowledgements, slows a replay down instead of dropping bars). The
   * replay clock waits too; `stop()` ends a paused replay as any other.
   */
  pause(): void {
    this.paused = true;
  }

  /** Lets a paused replay go on. */
  resume(): void {
    this.paused = false;
    const wake = this.wakePaused;
    this.wakePaused = undefined;
    wake?.();
  }

  /** Whether `pause()` holds the replay now. */
  get isPaused(): boolean {
    return this.paused;
  }

  private async replayLoop(): Promise<void> {
    this.pacer.reset();
    const merger = this.merger;
    if (!this.primed && merger === undefined) await this.prime();
    while (this.running) {
      if (this.refill.length > 0) await this.refillChunks();
      const start = merger === undefined ? this.nextStart() : await merger.nextStart(this.shift, () => this.running);
      if (start === null) {
        // Stopped while waiting for the merge thread, or the merge thread failed.
        if (merger?.failure !== undefined && this.running) {
          this.failure ??= merger.failure;
          super.reportError(merger.failure);
          this.running = false;
          this.setState('stopped');
        }
        break;
      }
      if (start === undefined) {
        this.passes++;
        if (this.totalBars === 0) {
          this.emitter.emit({ type: 'progress', barsReplayed: 0, totalBars: 0, percent: 100, currentTime: this.clock.now() });
        }
        // Statuses after the last bar: up to one interval past it (the clock's last move).
        this.deliverStatuses(this.clock.now() + this.opts.intervalMs);
        this.emitter.emit({ type: 'complete', barsReplayed: this.replayed, passes: this.passes });
        if (this.opts.loop && this.totalBars > 0) {
          await this.rewind();
          this.pacer.reset();
          continue;
        }
        // One more interval, so that a data manager's grace for the last minute passes.
        this.clock.advanceTo(this.clock.now() + this.opts.intervalMs);
        this.running = false;
        this.setState('stopped');
        return;
      }
      if (this.paused) {
        await new Promise<void>((resolve) => {
          this.wakePaused = resolve;
        });
        if (!this.running) break;
      }
      const wait = this.pacer.wait(start);
      if (wait !== undefined) {
        await wait;
        if (!this.running) break;
      }
      if (merger === undefined) this.step(start);
      else this.threadStep(start, merger);
    }
  }

  /**
   * `step` with the merge thread: the rows of `start` (all of them with `syncTimestamps`, else the
   * next one), in the order the thread merged them, made into bars and handed over as `step` does.
   */
  private threadStep(start: number, m: MergeLink): void {
    const interval = this.opts.intervalMs;
    if (this.statusCursor < this.statusList.length) this.deliverStatuses(start + this.shift + interval);
    this.clock.advanceTo(start + this.shift + interval);
    const at = start + this.shift;
    const rows = m.rows;
    const mask = m.mask;
    const w = m.published;
    const one = !this.opts.syncTimestamps;
    let r = m.read;
    while (r !== w) {
      const k = (r & mask) * ROW_WIDTH;
      const i = rows[k] as number;
      if (i < 0 || rows[k + 1] !== at) break;
      const symbol = this.symbols[i] as string;
      const bar = barFromValues(symbol, at, interval, rows[k + 2] as number, rows[k + 3] as number, rows[k + 4] as number, rows[k + 5] as number, rows[k + 6] as number, rows[k + 7] as number, rows[k + 8] as number, this.clock.now());
      r = (r + 1) | 0;
      this.replayed++;
      if (!this.tracker.empty) this.announce(symbol, at);
      this.deliver(bar, i);
      if (one) break;
    }
    m.consumed(r);
    this.progress();
  }

  /** Starts the next pass, shifted by whole weeks past the last one (time-of-day and weekday kept). */
  private async rewind(): Promise<void> {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const st of this.streams) {
      if (st.first === undefined || st.last === undefined) continue;
      first = Math.min(first, st.first);
      last = Math.max(last, st.last);
    }
    const span = last - first + this.opts.intervalMs;
    this.shift += Math.ceil(span / WEEK_MS) * WEEK_MS;
    this.statusCursor = 0;
    this.lastPercent = -1;
    // With `thread`, the merge thread rewinds its own files (the same shift: the same bounds).
    if (this.merger !== undefined) return;
    for (const st of this.streams) st.rewind();
    this.resetCursors();
    this.held = 0;
    await this.prime();
  }
}
