import type { Bar } from '@feed/core';

/** Longer than any pause inside a session, shorter than any night: a gap this long starts a new session. */
const SESSION_GAP_MS = 4 * 3_600_000;

/**
 * Splits time-sorted bars into sessions: [from, to) index ranges. A new session starts after a gap
 * of more than four hours (overnight, a weekend, a holiday), which no regular session contains.
 */
export function sessionRanges(bars: readonly Bar[]): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  for (let i = 1; i < bars.length; i++) {
    if ((bars[i] as Bar).start - (bars[i - 1] as Bar).start > SESSION_GAP_MS) {
      out.push([from, i]);
      from = i;
    }
  }
  if (bars.length > 0) out.push([from, bars.length]);
  return out;
}
