import type { Bar } from './bar.js';
import { FeedError } from './errors.js';
import { invalidOption } from './options.js';

/** What any provider's history client takes: symbols and a range of bar starts, abortable. */
export interface HistoryRequest {
  readonly symbols: readonly string[];
  /** First bar start to include (inclusive): epoch ms, a `Date`, or an RFC 3339 string. */
  readonly start: number | Date | string;
  /**
   * Last bar start to include (inclusive).
   * @default now
   */
  readonly end?: number | Date | string;
  /** Aborts the call at once: requests in flight and waits end, and the promise rejects (`aborted`). */
  readonly signal?: AbortSignal;
}

/**
 * A reader of historical minute bars: what a live feed's gap fill, a warm-up or a download needs of
 * a provider (`AlpacaHistoricalClient` in `@feed/alpaca`, `PolygonHistoricalClient` in
 * `@feed/polygon`, or your own). It sits beside `BarFeed`: a history client is to REST what a feed
 * is to a stream.
 */
export interface HistoricalBars {
  /** Every bar of the request, per symbol, in time order. */
  barsBySymbol(request: HistoryRequest): Promise<Map<string, Bar[]>>;
}

/**
 * A request's time (`HistoryRequest.start`/`end`: epoch ms, a `Date`, or an RFC 3339 string) as
 * epoch milliseconds; `fallback` when absent. A string that is not a time is a `ConfigError` naming it.
 */
export function requestTime(t: number | Date | string | undefined, fallback: number, what = 'time'): number {
  if (t === undefined) return fallback;
  if (typeof t === 'number') return t;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  if (!Number.isFinite(v)) throw invalidOption(what, `'${String(t).slice(0, 40)}' is not a time`);
  return v;
}

/**
 * The error that says a warm-up found fewer bars than asked (`warmup_short`), or undefined when it
 * found them all: every feed reports it the same way.
 */
export function warmUpShortError(result: WarmUpResult, where: string): FeedError | undefined {
  if (result.short.length === 0) return undefined;
  const counts = result.short.map((s) => `${s} ${result.counts[s] ?? 0}`).join(', ');
  return new FeedError({ code: 'warmup_short', message: `warm-up: fewer than ${String(result.requested.bars)} regular-hours bars ${where} for ${counts}`, detail: { short: result.short, counts: result.counts, requested: result.requested } });
}

/** How much history a warm-up loads (`feed.warmUp(...)`): a count of bars, or a span of minutes. */
export interface WarmUpOptions {
  /**
   * The newest N regular-hours bars of each symbol before the seam (09:30 <= start < the close, New
   * York). A symbol that skips minutes is looked up further back until it has N, up to `maxSessions`;
   * a symbol that still has fewer is named in `short`, never silently capped.
   */
  readonly bars?: number;
  /** Instead of `bars`: every bar of the last M regular-hours minutes before the seam. */
  readonly minutes?: number;
  /**
   * Where the bars come from: any `HistoricalBars` (a provider's REST client, `FileHistory` of
   * `@feed/csv` over files and the Arrow cache, `NatsHistory` of `@feed/nats`).
   * @default the feed's own: its provider's REST history for a live feed, its files for a replay
   */
  readonly history?: HistoricalBars;
  /**
   * The furthest back a warm-up looks, in sessions, for symbols that skip minutes.
   * @default 260 (about a year)
   */
  readonly maxSessions?: number;
  /** Aborts the warm-up (its requests end, the promise rejects with `aborted`). */
  readonly signal?: AbortSignal;
}

/** What a warm-up loaded: the seam, the counts, and the symbols that had fewer bars than asked. */
export interface WarmUpResult {
  /** First and last bar start of the window looked at (inclusive): live or replayed bars begin after `to`. */
  readonly from: number;
  readonly to: number;
  /** Bars loaded per symbol. */
  readonly counts: Readonly<Record<string, number>>;
  /** What was asked. */
  readonly requested: { readonly bars?: number; readonly minutes?: number };
  /** Symbols with fewer bars than `bars` asked, even `maxSessions` back (empty for `minutes`). */
  readonly short: readonly string[];
}

/**
 * `feed.on('warmup', ({ bars }) => ...)`: the warm-up's bars, every symbol's in one list, in time
 * order (symbols in the feed's order within a minute), before any live or replayed bar after the seam.
 * `MultiSymbolDataManager.attach(feed)` loads them into its history (no slices, no age limit).
 */
export interface WarmUpEvent extends WarmUpResult {
  readonly type: 'warmup';
  readonly bars: readonly Bar[];
}

/** The sessions a warm-up walks back through: `nyse` of this package, or a calendar of the same shape. */
export interface WarmUpCalendar {
  sessionAt(t: number): { readonly open: number; readonly close: number } | undefined;
  previousSession(t: number): { readonly open: number; readonly close: number };
}

const MINUTE = 60_000;

/** The start of the earliest of the last `minutes` regular-hours minutes ending with the one starting at `last`. */
export function regularMinutesBack(calendar: WarmUpCalendar, last: number, minutes: number): number {
  let remaining = minutes;
  const inside = calendar.sessionAt(last);
  let session = inside ?? calendar.previousSession(last);
  let end = inside === undefined ? session.close : last + MINUTE;
  for (;;) {
    const available = Math.max(0, Math.floor((end - session.open) / MINUTE));
    if (available >= remaining) return end - remaining * MINUTE;
    remaining -= available;
    session = calendar.previousSession(session.open - 1);
    end = session.close;
  }
}

/**
 * Loads a warm-up from `history`: the newest `bars` regular-hours bars of each symbol whose start is
 * at most `last` (or every bar of the last `minutes` regular-hours minutes), looking further back for
 * symbols that skip minutes. Returns the bars in time order (symbols in `symbols` order within a
 * minute) and what was loaded. The one implementation behind every feed's `warmUp()`.
 */
export async function loadWarmUp(
  history: HistoricalBars,
  request: { readonly symbols: readonly string[]; readonly last: number; readonly calendar: WarmUpCalendar } & Omit<WarmUpOptions, 'history'>,
): Promise<{ bars: Bar[]; result: WarmUpResult }> {
  const { symbols, last, calendar } = request;
  const want = request.bars;
  const minutes = request.minutes;
  if ((want === undefined) === (minutes === undefined)) throw invalidOption('bars', 'give either bars or minutes to warmUp()', 'warmUp: give either bars or minutes');
  const count = (want ?? minutes) as number;
  if (!Number.isInteger(count) || count < 1) throw invalidOption(want === undefined ? 'minutes' : 'bars', `must be a whole number >= 1 (got ${String(count)})`);
  const maxSessions = request.maxSessions ?? 260;
  const cap = maxSessions * 390;
  const lists = new Map<string, Bar[]>(symbols.map((s) => [s, []]));
  const regular = (b: Bar): boolean => calendar.sessionAt(b.start) !== undefined;
  let window = minutes ?? Math.min(count, cap);
  // What has been fetched: [fetchedFrom, last].
  let fetchedFrom = last + MINUTE;
  let from = fetchedFrom;
  for (;;) {
    from = regularMinutesBack(calendar, last, window);
    const need = want === undefined ? [...symbols] : symbols.filter((s) => (lists.get(s) as Bar[]).length < want);
    if (need.length === 0 || from >= fetchedFrom) break;
    const fetched = await history.barsBySymbol({ symbols: need, start: from, end: fetchedFrom - MINUTE, ...(request.signal === undefined ? {} : { signal: request.signal }) });
    for (const s of need) {
      const got = (fetched.get(s) ?? []).filter((b) => b.start >= from && b.start < fetchedFrom && regular(b));
      got.sort((a, b) => a.start - b.start);
      const list = lists.get(s) as Bar[];
      lists.set(s, [...got, ...list]);
    }
    fetchedFrom = from;
    if (want === undefined || window >= cap) break;
    window = Math.min(window * 2, cap);
  }
  const counts: Record<string, number> = {};
  const short: string[] = [];
  const all: Bar[] = [];
  const order = new Map(symbols.map((s, i) => [s, i]));
  for (const s of symbols) {
    let list = lists.get(s) as Bar[];
    if (want !== undefined && list.length > want) list = list.slice(-want);
    if (want !== undefined && list.length < want) short.push(s);
    counts[s] = list.length;
    for (const b of list) all.push(b);
  }
  all.sort((a, b) => a.start - b.start || (order.get(a.symbol) as number) - (order.get(b.symbol) as number));
  const result: WarmUpResult = {
    from: want === undefined ? from : (all[0]?.start ?? from),
    to: last,
    counts,
    requested: want === undefined ? { minutes: minutes as number } : { bars: want },
    short,
  };
  return { bars: all, result };
}
