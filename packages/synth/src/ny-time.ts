import { newYorkOffsetMs } from '@feed/core';

/** New York hour of day (fractional) of instant `t`. */
export function nyHourOfDay(t: number): number {
  const local = t + newYorkOffsetMs(t);
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
}
