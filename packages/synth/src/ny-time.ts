import { NEW_YORK, zoneOffsetMs } from '@feed/core';

// New York's offset changes only at DST transitions, on the hour: one time-zone lookup per hour of
// bars, shared by everything in this package (a lookup through Intl costs microseconds).
const offsets = new Map<number, number>();
const MAX_CACHED = 200_000; // ~23 years of hours

/** New York's offset from UTC at instant `t`, ms. */
export function nyOffset(t: number): number {
  const hour = Math.floor(t / 3_600_000);
  let off = offsets.get(hour);
  if (off === undefined) {
    off = zoneOffsetMs(hour * 3_600_000, NEW_YORK);
    if (offsets.size >= MAX_CACHED) offsets.clear();
    offsets.set(hour, off);
  }
  return off;
}

/** New York hour of day (fractional) of instant `t`. */
export function nyHourOfDay(t: number): number {
  const local = t + nyOffset(t);
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
}
