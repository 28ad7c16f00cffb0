import { CalendarError } from './errors.js';
import { wallTime, zonedTimeToEpoch } from './time-zone.js';

/** One regular trading session of the exchange. */
export interface MarketSession {
  /** The session's date in New York, `YYYY-MM-DD`. */
  readonly date: string;
  /** Opening time, epoch ms (09:30 New York). */
  readonly open: number;
  /** Closing time, epoch ms (16:00, or 13:00 on an early close). The session is [open, close). */
  readonly close: number;
  /** True on a 13:00 early close. */
  readonly earlyClose: boolean;
}

/** Options of `MarketCalendar`. */
export interface MarketCalendarOptions {
  /**
   * Extra full-day closures, `YYYY-MM-DD` (for example an unscheduled closure announced after this
   * package was published).
   * @default []
   */
  extraClosures?: readonly string[];
  /**
   * Extra 13:00 early closes, `YYYY-MM-DD`.
   * @default []
   */
  extraEarlyCloses?: readonly string[];
}

/** The exchange's time zone. */
export const NEW_YORK = 'America/New_York';

/**
 * Unscheduled full-day NYSE closures since 2000 (national days of mourning, 9/11, Hurricane Sandy).
 * The rule-based holidays are computed; only these one-off days are listed.
 */
const SPECIAL_CLOSURES: Readonly<Record<string, string>> = {
  '2001-09-11': 'September 11 attacks',
  '2001-09-12': 'September 11 attacks',
  '2001-09-13': 'September 11 attacks',
  '2001-09-14': 'September 11 attacks',
  '2004-06-11': 'National day of mourning (Ronald Reagan)',
  '2007-01-02': 'National day of mourning (Gerald Ford)',
  '2012-10-29': 'Hurricane Sandy',
  '2012-10-30': 'Hurricane Sandy',
  '2018-12-05': 'National day of mourning (George H. W. Bush)',
  '2025-01-09': 'National day of mourning (Jimmy Carter)',
};

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
const isoDate = (y: number, m: number, d: number): string => `${y}-${pad(m)}-${pad(d)}`;
/** Day of week, 0 = Sunday. */
const weekday = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();
const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** The n-th (1-based) given weekday of a month, or the last one when n = -1. */
function nthWeekday(y: number, m: number, dow: number, n: number): number {
  if (n > 0) {
    const first = weekday(y, m, 1);
    return 1 + ((dow - first + 7) % 7) + (n - 1) * 7;
  }
  const lastDay = daysInMonth(y, m);
  const last = weekday(y, m, lastDay);
  return lastDay - ((last - dow + 7) % 7);
}

/** Easter Sunday (Gregorian), as [month, day]. */
function easter(y: number): [number, number] {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

function addDays(y: number, m: number, d: number, n: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

/** A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday. */
function observed(y: number, m: number, d: number): string {
  const dow = weekday(y, m, d);
  if (dow === 6) return isoDate(...addDays(y, m, d, -1));
  if (dow === 0) return isoDate(...addDays(y, m, d, 1));
  return isoDate(y, m, d);
}

/** The NYSE's rule-based holidays of a year, date to name. */
function ruleHolidays(y: number): Map<string, string> {
  const h = new Map<string, string>();
  // New Year's Day: a Sunday moves to Monday; a Saturday is not made up on the Friday before
  // (NYSE Rule 7.2), so it is not observed at all.
  if (weekday(y, 1, 1) !== 6) h.set(observed(y, 1, 1), "New Year's Day");
  h.set(isoDate(y, 1, nthWeekday(y, 1, 1, 3)), 'Martin Luther King Jr. Day');
  h.set(isoDate(y, 2, nthWeekday(y, 2, 1, 3)), "Washington's Birthday");
  const [em, ed] = easter(y);
  h.set(isoDate(...addDays(y, em, ed, -2)), 'Good Friday');
  h.set(isoDate(y, 5, nthWeekday(y, 5, 1, -1)), 'Memorial Day');
  if (y >= 2022) h.set(observed(y, 6, 19), 'Juneteenth National Independence Day');
  h.set(observed(y, 7, 4), 'Independence Day');
  h.set(isoDate(y, 9, nthWeekday(y, 9, 1, 1)), 'Labor Day');
  h.set(isoDate(y, 11, nthWeekday(y, 11, 4, 4)), 'Thanksgiving Day');
  h.set(observed(y, 12, 25), 'Christmas Day');
  return h;
}

/** The scheduled 13:00 early closes of a year (when the day is a trading day). */
function ruleEarlyCloses(y: number): Set<string> {
  const s = new Set<string>();
  // July 3 closes early when it is Monday-Thursday; when it is a Friday it is the observed holiday.
  const j3 = weekday(y, 7, 3);
  if (j3 >= 1 && j3 <= 4) s.add(isoDate(y, 7, 3));
  const thanksgiving = nthWeekday(y, 11, 4, 4);
  s.add(isoDate(...addDays(y, 11, thanksgiving, 1)));
  const c24 = weekday(y, 12, 24);
  if (c24 >= 1 && c24 <= 4) s.add(isoDate(y, 12, 24));
  return s;
}

interface YearTable {
  readonly sessions: readonly MarketSession[];
  readonly holidays: ReadonlyMap<string, string>;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(date: string): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (m === null) throw new CalendarError({ message: `malformed date '${date}': expected YYYY-MM-DD` });
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) throw new CalendarError({ message: `no such date '${date}'` });
  return [y, mo, d];
}

const MIN_YEAR = 1970;
const MAX_YEAR = 2200;

/**
 * The NYSE calendar: regular sessions 09:30-16:00 America/New_York, exchange holidays, 13:00 early
 * closes (July 3 when a weekday Monday-Thursday, the day after Thanksgiving, December 24 when Monday-
 * Thursday). Rules are computed for any year from 1970 to 2200; unscheduled closures are listed from
 * 2001. Sessions are built once per year and searched by binary search, so hot paths (the data
 * manager's fill counts) stay cheap.
 */
export class MarketCalendar {
  readonly timeZone = NEW_YORK;
  private readonly years = new Map<number, YearTable>();
  /** All loaded sessions in order, and their opens/closes for binary search. */
  private sessions: MarketSession[] = [];
  private opens = new Float64Array(0);
  private closes = new Float64Array(0);
  private loadedFrom = 0;
  private loadedTo = -1;
  /** Instants inside which `loadAround` needs no work: [start of loadedFrom + 1, end of loadedTo - 1). */
  private fastFrom = Number.POSITIVE_INFINITY;
  private fastTo = Number.NEGATIVE_INFINITY;
  private readonly extraClosures: ReadonlySet<string>;
  private readonly extraEarlyCloses: ReadonlySet<string>;

  constructor(options: MarketCalendarOptions = {}) {
    for (const d of [...(options.extraClosures ?? []), ...(options.extraEarlyCloses ?? [])]) parseDate(d);
    this.extraClosures = new Set(options.extraClosures ?? []);
    this.extraEarlyCloses = new Set(options.extraEarlyCloses ?? []);
  }

  private year(y: number): YearTable {
    if (!Number.isInteger(y) || y < MIN_YEAR || y > MAX_YEAR) {
      throw new CalendarError({ message: `year ${y} is outside the calendar's range ${MIN_YEAR}-${MAX_YEAR}` });
    }
    let table = this.years.get(y);
    if (table !== undefined) return table;
    const holidays = ruleHolidays(y);
    for (const [date, name] of Object.entries(SPECIAL_CLOSURES)) if (date.startsWith(`${y}-`)) holidays.set(date, name);
    for (const date of this.extraClosures) if (date.startsWith(`${y}-`)) holidays.set(date, 'Closure');
    const early = ruleEarlyCloses(y);
    for (const date of this.extraEarlyCloses) if (date.startsWith(`${y}-`)) early.add(date);
    const sessions: MarketSession[] = [];
    for (let m = 1; m <= 12; m++) {
      const n = daysInMonth(y, m);
      for (let d = 1; d <= n; d++) {
        const dow = weekday(y, m, d);
        if (dow === 0 || dow === 6) continue;
        const date = isoDate(y, m, d);
        if (holidays.has(date)) continue;
        const earlyClose = early.has(date);
        sessions.push({
          date,
          open: zonedTimeToEpoch(NEW_YORK, y, m, d, 9, 30),
          close: zonedTimeToEpoch(NEW_YORK, y, m, d, earlyClose ? 13 : 16, 0),
          earlyClose,
        });
      }
    }
    table = { sessions, holidays };
    this.years.set(y, table);
    return table;
  }

  /** Makes sure the sessions of years [from, to] are in the search arrays. */
  private load(from: number, to: number): void {
    from = Math.max(from, MIN_YEAR);
    to = Math.min(to, MAX_YEAR);
    if (from >= this.loadedFrom && to <= this.loadedTo) return;
    const lo = this.loadedTo < this.loadedFrom ? from : Math.min(from, this.loadedFrom);
    const hi = this.loadedTo < this.loadedFrom ? to : Math.max(to, this.loadedTo);
    const all: MarketSession[] = [];
    for (let y = lo; y <= hi; y++) all.push(...this.year(y).sessions);
    this.sessions = all;
    this.opens = Float64Array.from(all, (s) => s.open);
    this.closes = Float64Array.from(all, (s) => s.close);
    this.loadedFrom = lo;
    this.loadedTo = hi;
    this.fastFrom = Date.UTC(lo + 1, 0, 1);
    this.fastTo = Date.UTC(hi, 0, 1);
  }

  private loadAround(t: number): void {
    if (t >= this.fastFrom && t < this.fastTo) return; // the hot path: no Date allocated
    if (!Number.isFinite(t)) throw new CalendarError({ message: `time ${t} is not a finite number` });
    const y = new Date(t).getUTCFullYear();
    if (y - 1 < this.loadedFrom || y + 1 > this.loadedTo) this.load(y - 1, y + 1);
  }

  /** Index of the last session whose open is <= t, or -1. */
  private lastOpenAtOrBefore(t: number): number {
    const opens = this.opens;
    let lo = 0;
    let hi = opens.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((opens[mid] as number) <= t) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The New York date of instant `t`, `YYYY-MM-DD`. */
  dateOf(t: number): string {
    const w = wallTime(t, NEW_YORK);
    return isoDate(w.year, w.month, w.day);
  }

  /** The holiday's name when `date` (`YYYY-MM-DD`) is an exchange holiday on a weekday, else `undefined`. */
  holidayName(date: string): string | undefined {
    const [y] = parseDate(date);
    return this.year(y).holidays.get(date);
  }

  isHoliday(date: string): boolean {
    return this.holidayName(date) !== undefined;
  }

  /** The session on `date` (`YYYY-MM-DD`), or `undefined` on a weekend or holiday. */
  sessionOn(date: string): MarketSession | undefined {
    const [y] = parseDate(date);
    return this.year(y).sessions.find((s) => s.date === date);
  }

  isTradingDay(date: string): boolean {
    return this.sessionOn(date) !== undefined;
  }

  /** The session in progress at `t` (open <= t < close), or `undefined`. */
  sessionAt(t: number): MarketSession | undefined {
    this.loadAround(t);
    const i = this.lastOpenAtOrBefore(t);
    if (i < 0 || t >= (this.closes[i] as number)) return undefined;
    return this.sessions[i];
  }

  /**
   * The session a regular-hours minute bar starting at `start` belongs to: open <= start <= close.
   * The bar that starts at the close holds the closing auction; the real data files, downloads and
   * synthetic files all keep it (391 bars on a full day). `undefined` outside regular hours.
   */
  sessionOfBar(start: number): MarketSession | undefined {
    this.loadAround(start);
    const i = this.lastOpenAtOrBefore(start);
    if (i < 0 || start > (this.closes[i] as number)) return undefined;
    return this.sessions[i];
  }

  /** True when the market is open at `t`. */
  isOpen(t: number): boolean {
    return this.sessionAt(t) !== undefined;
  }

  /** The first session that opens after `t` (strictly). */
  nextSession(t: number): MarketSession {
    this.loadAround(t);
    let i = this.lastOpenAtOrBefore(t) + 1;
    if (i >= this.sessions.length) {
      this.load(this.loadedFrom, this.loadedTo + 1);
      i = this.lastOpenAtOrBefore(t) + 1;
    }
    const s = this.sessions[i];
    if (s === undefined) throw new CalendarError({ message: `no session after ${new Date(t).toISOString()} in the calendar's range` });
    return s;
  }

  /** The last session that closed at or before `t`: the most recent complete session at `t`. */
  previousSession(t: number): MarketSession {
    this.loadAround(t);
    let i = this.lastOpenAtOrBefore(t);
    if (i >= 0 && (this.closes[i] as number) > t) i--;
    if (i < 0) {
      this.load(this.loadedFrom - 1, this.loadedTo);
      i = this.lastOpenAtOrBefore(t);
      if (i >= 0 && (this.closes[i] as number) > t) i--;
    }
    const s = this.sessions[i];
    if (s === undefined) throw new CalendarError({ message: `no session before ${new Date(t).toISOString()} in the calendar's range` });
    return s;
  }

  /** The most recent session that has fully closed at `now` (today's, once it has closed). */
  mostRecentCompleteSession(now: number): MarketSession {
    return this.previousSession(now);
  }

  /** Every session whose date is in [from, to] (`YYYY-MM-DD`, inclusive), in order. */
  sessionsBetween(from: string, to: string): MarketSession[] {
    const [y0] = parseDate(from);
    const [y1] = parseDate(to);
    const out: MarketSession[] = [];
    for (let y = y0; y <= y1; y++) {
      for (const s of this.year(y).sessions) if (s.date >= from && s.date <= to) out.push(s);
    }
    return out;
  }

  /**
   * Milliseconds of regular-session time in [from, to). Overnight, weekends and holidays count
   * nothing; this is what the data manager counts forward-fill intervals with.
   */
  openMsBetween(from: number, to: number): number {
    if (!(to > from)) return 0;
    this.loadAround(from);
    this.loadAround(to);
    let i = this.lastOpenAtOrBefore(from);
    if (i < 0) i = 0;
    let total = 0;
    const n = this.sessions.length;
    for (; i < n; i++) {
      const open = this.opens[i] as number;
      if (open >= to) break;
      const close = this.closes[i] as number;
      const a = open > from ? open : from;
      const b = close < to ? close : to;
      if (b > a) total += b - a;
    }
    return total;
  }
}

/** A shared NYSE calendar instance. */
export const nyse: MarketCalendar = new MarketCalendar();
