/**
 * Wall time in a named time zone, always through the time-zone database (Intl), never UTC plus a
 * fixed offset (semantics.md, "Market hours").
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** A wall-clock time in some time zone. */
export interface WallTime {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The wall-clock time of instant `t` (epoch ms) in `timeZone`. */
export function wallTime(t: number, timeZone: string): WallTime {
  const parts = formatter(timeZone).formatToParts(t);
  const get = (type: Intl.DateTimeFormatPartTypes): number => {
    for (const p of parts) if (p.type === type) return Number(p.value);
    return 0;
  };
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The offset of `timeZone` from UTC at instant `t`, in milliseconds (New York: -4 h or -5 h). */
export function zoneOffsetMs(t: number, timeZone: string): number {
  const w = wallTime(t, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (t - (t % 1000 + 1000) % 1000);
}

/**
 * The instant at which the wall clock in `timeZone` shows the given time. For a wall time skipped by
 * a DST change the later offset applies; for one that occurs twice, the first.
 */
export function zonedTimeToEpoch(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const offset = zoneOffsetMs(first, timeZone);
  const second_ = asUtc - offset;
  if (second_ === first) return first;
  // The offset changed between the guess and the answer: take the one consistent with itself.
  return zoneOffsetMs(second_, timeZone) === offset ? second_ : first;
}

// New York's offset changes only at DST transitions, on the hour: one time-zone lookup per hour,
// cached (a lookup through Intl costs microseconds).
const nyOffsets = new Map<number, number>();

/** New York's offset from UTC at instant `t`, in milliseconds (cached per hour). */
export function newYorkOffsetMs(t: number): number {
  const hour = Math.floor(t / 3_600_000);
  let off = nyOffsets.get(hour);
  if (off === undefined) {
    off = zoneOffsetMs(hour * 3_600_000, 'America/New_York');
    if (nyOffsets.size >= 200_000) nyOffsets.clear();
    nyOffsets.set(hour, off);
  }
  return off;
}
