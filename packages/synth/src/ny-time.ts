import { newYorkOffsetMs } from '@feed/core';

/** New York's offset from UTC at instant `t`, ms. */
export const nyOffset = newYorkOffsetMs;

/** New York hour of day (fractional) of instant `t`. */
export function nyHourOfDay(t: number): number {
  const local = t + nyOffset(t);
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
}
